//! Workspaces, memberships and pages: creation (CLI, demo) and who may see
//! what (DESIGN §1).

use std::collections::{HashMap, HashSet};

use crate::db::models::{
    now, InstallPolicy, Membership, Page, PageId, Plan, Role, User, UserId, Visibility, Workspace,
    WorkspaceId,
};
use crate::db::queries::{pages, workspaces};
use crate::db::{self, Conn};
use crate::error::{AppError, AppResult};

fn check_name(what: &str, name: &str, max: usize) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > max || n.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid(format!(
            "a {what} needs 1 to {max} printable characters"
        )));
    }
    Ok(n.to_string())
}

/// Creates a workspace with `owner` as its first owner, in one transaction.
pub fn create_workspace(
    conn: &mut Conn,
    name: &str,
    owner: &User,
    plan: Plan,
) -> AppResult<Workspace> {
    let name = check_name("workspace name", name, 200)?;
    let t = now();
    let ws = Workspace {
        id: WorkspaceId::new(),
        name,
        icon: None,
        plan,
        install_policy: InstallPolicy::Open,
        auto_approve_first_party: false,
        created_at: t,
        created_by: Some(owner.id.clone()),
    };
    db::write_tx(conn, |conn| {
        workspaces::insert(conn, &ws)?;
        workspaces::insert_membership(
            conn,
            &Membership {
                workspace_id: ws.id.clone(),
                user_id: owner.id.clone(),
                role: Role::Owner,
                joined_at: t,
            },
        )?;
        Ok(())
    })?;
    Ok(ws)
}

/// Finds a workspace by id or by its (unique) name, as CLI flags name them.
pub fn find_workspace(conn: &mut Conn, id_or_name: &str) -> AppResult<Workspace> {
    if let Some(id) = WorkspaceId::parse(id_or_name) {
        if let Some(ws) = workspaces::by_id(conn, &id)? {
            return Ok(ws);
        }
    }
    let mut found = workspaces::by_name(conn, id_or_name.trim())?;
    match found.len() {
        0 => Err(AppError::invalid(format!("no workspace {id_or_name:?}"))),
        1 => Ok(found.remove(0)),
        n => Err(AppError::invalid(format!(
            "{n} workspaces are named {id_or_name:?}; name it by id"
        ))),
    }
}

/// Finds a page by id, as CLI flags name it (no visibility check: the CLI
/// is the operator's tool).
pub fn find_page(conn: &mut Conn, id: &PageId) -> AppResult<Page> {
    pages::by_id(conn, id)?.ok_or_else(|| AppError::invalid(format!("no page {id}")))
}

pub fn add_member(
    conn: &mut Conn,
    ws: &Workspace,
    user: &User,
    role: Role,
) -> AppResult<Membership> {
    if workspaces::membership(conn, &ws.id, &user.id)?.is_some() {
        return Err(AppError::Conflict(format!(
            "{} is already in workspace {:?}",
            user.email, ws.name
        )));
    }
    let m = Membership {
        workspace_id: ws.id.clone(),
        user_id: user.id.clone(),
        role,
        joined_at: now(),
    };
    workspaces::insert_membership(conn, &m)?;
    Ok(m)
}

pub struct NewPage<'a> {
    pub workspace: &'a Workspace,
    pub title: &'a str,
    pub parent: Option<&'a PageId>,
    pub private: bool,
    /// Who creates it; must be a member of the workspace.
    pub creator: &'a User,
}

/// Adds a page after checking that the parent is in the same workspace and
/// visible to the creator, and the creator is a member.
pub fn add_page(conn: &mut Conn, new: NewPage<'_>) -> AppResult<Page> {
    let title = new.title.trim();
    if title.chars().count() > 2000 || title.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid(
            "a page title may have up to 2000 printable characters",
        ));
    }
    if workspaces::membership(conn, &new.workspace.id, &new.creator.id)?.is_none() {
        return Err(AppError::invalid(format!(
            "{} is not a member of workspace {:?}",
            new.creator.email, new.workspace.name
        )));
    }
    if let Some(parent) = new.parent {
        let chain = pages::with_ancestors(conn, parent)?;
        let Some(p) = chain.first() else {
            return Err(AppError::invalid(format!("no page {parent}")));
        };
        if p.workspace_id != new.workspace.id {
            return Err(AppError::invalid(format!(
                "parent page {parent} is in another workspace"
            )));
        }
        if !chain_visible_to(&chain, &new.creator.id) {
            return Err(AppError::invalid(format!(
                "parent page {parent} is private to another user"
            )));
        }
    }
    let t = now();
    let page = Page {
        id: PageId::new(),
        workspace_id: new.workspace.id.clone(),
        parent_id: new.parent.cloned(),
        title: title.to_string(),
        visibility: if new.private {
            Visibility::Private
        } else {
            Visibility::Workspace
        },
        created_by: new.creator.id.clone(),
        created_at: t,
        last_edited_at: t,
        in_trash: false,
    };
    pages::insert(conn, &page)?;
    Ok(page)
}

/// A page is visible when none of it and its ancestors is another user's
/// private page (membership is checked separately).
pub fn chain_visible_to(chain: &[Page], user: &UserId) -> bool {
    chain
        .iter()
        .all(|p| p.visibility != Visibility::Private || &p.created_by == user)
}

/// Whether the page or any of its ancestors is in the trash: a page under a
/// trashed page is trashed for every reader.
pub fn chain_trashed(chain: &[Page]) -> bool {
    chain.iter().any(|p| p.in_trash)
}

/// The user's role in the workspace, or NotFound: a workspace one is not in
/// does not exist as far as they are told.
pub fn role_in(conn: &mut Conn, ws: &WorkspaceId, user: &UserId) -> AppResult<(Workspace, Role)> {
    let Some(m) = workspaces::membership(conn, ws, user)? else {
        return Err(AppError::NotFound);
    };
    let workspace = workspaces::by_id(conn, ws)?.ok_or(AppError::NotFound)?;
    Ok((workspace, m.role))
}

/// One row of the sidebar tree.
#[derive(Debug, Clone)]
pub struct TreeRow {
    pub page: Page,
    pub depth: usize,
}

/// The pages of a workspace the user can see, in tree order (depth-first,
/// siblings by creation), private subtrees of others left out.
pub fn visible_tree(all: Vec<Page>, user: &UserId) -> Vec<TreeRow> {
    tree_order(all, |p| {
        p.visibility != Visibility::Private || &p.created_by == user
    })
}

/// Every page of the workspace in tree order, private ones included (what
/// `tree_cache` keeps; `visible_in` cuts it down for one reader).
pub fn whole_tree(all: Vec<Page>) -> Vec<TreeRow> {
    tree_order(all, |_| true)
}

/// The rows of `whole` (from `whole_tree`) the user can see: the same rows,
/// in the same order and at the same depths, as `visible_tree` gives.
pub fn visible_in(whole: &[TreeRow], user: &UserId) -> Vec<TreeRow> {
    let mut out = Vec::with_capacity(whole.len());
    // The depth of a private page of someone else: its subtree is left out.
    let mut hidden_at: Option<usize> = None;
    for r in whole {
        match hidden_at {
            Some(d) if r.depth > d => continue,
            _ => hidden_at = None,
        }
        if r.page.visibility == Visibility::Private && &r.page.created_by != user {
            hidden_at = Some(r.depth);
            continue;
        }
        out.push(r.clone());
    }
    out
}

/// Depth-first tree order, siblings by creation; a page `keep` refuses is
/// left out with its subtree.
fn tree_order(all: Vec<Page>, keep: impl Fn(&Page) -> bool) -> Vec<TreeRow> {
    let ids: HashSet<PageId> = all.iter().map(|p| p.id.clone()).collect();
    let mut children: HashMap<Option<PageId>, Vec<Page>> = HashMap::new();
    for p in all {
        // A page whose parent is trashed or missing is not reachable in the tree.
        let key = match &p.parent_id {
            Some(parent) if ids.contains(parent) => Some(parent.clone()),
            Some(_) => continue,
            None => None,
        };
        children.entry(key).or_default().push(p);
    }
    let mut out = Vec::new();
    let mut stack: Vec<(Page, usize)> = children
        .remove(&None)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .map(|p| (p, 0))
        .collect();
    while let Some((page, depth)) = stack.pop() {
        if !keep(&page) {
            continue;
        }
        if let Some(kids) = children.remove(&Some(page.id.clone())) {
            stack.extend(kids.into_iter().rev().map(|k| (k, depth + 1)));
        }
        out.push(TreeRow { page, depth });
    }
    out
}

/// A page as its reader sees it: it and its ancestors (the page first), its
/// author's name, and whether it sits in a private subtree.
pub struct SeenPage {
    pub chain: Vec<Page>,
    pub author: String,
    pub private: bool,
}

/// Page `id` of workspace `ws`, if `user` may see it (NotFound otherwise:
/// trashed, another workspace's, or inside someone else's private page).
pub fn page_for(
    conn: &mut Conn,
    ws: &WorkspaceId,
    user: &UserId,
    id: &PageId,
) -> AppResult<SeenPage> {
    let chain = pages::with_ancestors(conn, id)?;
    let visible = chain.first().is_some_and(|p| {
        &p.workspace_id == ws && !chain_trashed(&chain) && chain_visible_to(&chain, user)
    });
    if !visible {
        return Err(AppError::NotFound);
    }
    let author = crate::db::queries::users::by_id(conn, &chain[0].created_by)?
        .map(|u| u.name)
        .unwrap_or_else(|| "Unknown".into());
    Ok(SeenPage {
        private: chain.iter().any(|p| p.visibility == Visibility::Private),
        author,
        chain,
    })
}

/// A workspace's name, if it exists.
pub fn name(conn: &mut Conn, id: &WorkspaceId) -> AppResult<Option<String>> {
    Ok(workspaces::by_id(conn, id)?.map(|w| w.name))
}

/// The workspaces `user` belongs to, with their role in each.
pub fn of_user(conn: &mut Conn, user: &UserId) -> AppResult<Vec<(Workspace, Role)>> {
    Ok(workspaces::for_user(conn, user)?)
}

/// The owner the CLI acts as when no user is named: the workspace's creator
/// while they are an owner of it, else the earliest owner by (join time,
/// user id). Deterministic, unlike "the first to join" with join times in
/// whole seconds (issue 15 #19).
pub fn acting_owner(conn: &mut Conn, ws: &Workspace) -> AppResult<User> {
    let id = workspaces::acting_owner(conn, ws)?
        .ok_or_else(|| AppError::invalid("the workspace has no owner"))?;
    crate::domain::accounts::find_user(conn, id.as_str())
}

/// The pages of `ws` that `user` can see, in tree order.
pub fn tree_for(conn: &mut Conn, ws: &WorkspaceId, user: &UserId) -> AppResult<Vec<TreeRow>> {
    Ok(visible_tree(pages::in_workspace(conn, ws)?, user))
}

/// How many sub-pages sharing `page` carries along, out of a visible tree in
/// tree order: its descendants, less private ones and theirs (sharing never
/// carries a private page, `db::queries::scope`).
pub fn carried_with(rows: &[TreeRow], page: &PageId) -> usize {
    let Some(at) = rows.iter().position(|r| &r.page.id == page) else {
        return 0;
    };
    let depth = rows[at].depth;
    let mut count = 0;
    let mut skip_below: Option<usize> = None;
    for r in rows[at + 1..].iter().take_while(|r| r.depth > depth) {
        if skip_below.is_some_and(|d| r.depth > d) {
            continue;
        }
        skip_below = None;
        if r.page.visibility == Visibility::Private {
            skip_below = Some(r.depth);
            continue;
        }
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(id: u8, parent: Option<u8>, private: bool, by: &UserId, at: i64) -> Page {
        let pid = |n: u8| PageId::parse(&format!("00000000-0000-4000-8000-0000000000{n:02}"));
        Page {
            id: pid(id).unwrap_or_else(PageId::new),
            workspace_id: WorkspaceId::new(),
            parent_id: parent.and_then(pid),
            title: format!("p{id}"),
            visibility: match private {
                true => Visibility::Private,
                false => Visibility::Workspace,
            },
            created_by: by.clone(),
            created_at: at,
            last_edited_at: at,
            in_trash: false,
        }
    }

    /// `visible_in` over the whole tree gives each reader exactly what
    /// `visible_tree` gives them: the same rows, order and depths.
    #[test]
    fn visible_in_cuts_the_whole_tree_as_visible_tree_does() {
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        let all = vec![
            page(1, None, false, &a, 1),
            page(2, Some(1), true, &b, 2),
            page(3, Some(2), false, &b, 3),
            page(4, Some(3), true, &a, 4),
            page(5, Some(1), false, &a, 5),
            page(6, None, true, &a, 6),
            page(7, Some(6), false, &a, 7),
            page(8, Some(6), true, &b, 8),
            page(9, None, false, &c, 9),
            page(10, Some(99), false, &c, 10),
        ];
        let whole = whole_tree(all.clone());
        assert_eq!(whole.len(), 9, "the orphan is not in the tree");
        for user in [&a, &b, &c] {
            let key = |rows: &[TreeRow]| -> Vec<(String, usize)> {
                rows.iter()
                    .map(|r| (r.page.title.clone(), r.depth))
                    .collect()
            };
            assert_eq!(
                key(&visible_in(&whole, user)),
                key(&visible_tree(all.clone(), user))
            );
        }
        let seen = |u: &UserId| -> Vec<String> {
            visible_in(&whole, u)
                .into_iter()
                .map(|r| r.page.title)
                .collect()
        };
        assert_eq!(seen(&c), ["p1", "p5", "p9"]);
        assert_eq!(seen(&b), ["p1", "p2", "p3", "p5", "p9"]);
        assert_eq!(seen(&a), ["p1", "p5", "p6", "p7", "p9"]);
    }
}
