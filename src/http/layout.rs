//! The frame around every workspace page: the sidebar with its page tree,
//! the workspace switcher, the user menu (`Shell`, templates/workspace/shell.html),
//! and the small formatting helpers the pages share.

use crate::db::models::{Page, PageId, Role, UserId, Visibility, Workspace, WorkspaceId};
use crate::db::Conn;
use crate::domain::workspaces::{self, TreeRow};
use crate::error::AppResult;
use crate::http::extract::{CurrentUser, Member};

pub struct SwitcherItem {
    pub id: String,
    pub name: String,
    pub initial: String,
    pub hue: u16,
    pub role: String,
    pub current: bool,
}

pub struct TreeItem {
    pub id: String,
    pub title: String,
    pub depth: usize,
    pub private: bool,
    pub current: bool,
}

/// What every workspace page shows around its content: sidebar and top bar.
pub struct Shell {
    pub user_name: String,
    pub user_email: String,
    pub csrf: String,
    pub workspace_id: String,
    pub workspace_name: String,
    pub workspace_initial: String,
    /// The hue of the workspace's icon, 0–11 (`hue_of`).
    pub workspace_hue: u16,
    pub plan: String,
    pub role: String,
    pub switcher: Vec<SwitcherItem>,
    pub tree: Vec<TreeItem>,
    /// This workspace requires two-step verification and this person has
    /// not turned it on: the banner asking them to (issue 28 item 3).
    pub two_step_needed: bool,
}

/// The shell and the visible page tree it was drawn from (pages reuse the
/// tree for their own lists, so it is read once).
pub struct Layout {
    pub shell: Shell,
    pub tree: Vec<TreeRow>,
}

/// Loads the switcher and the page tree for a member; `current` is
/// highlighted in the sidebar.
pub fn load(c: &mut Conn, m: &Member, current: Option<&PageId>) -> AppResult<Layout> {
    load_for(c, &m.user, &m.workspace, m.role, current)
}

fn load_for(
    c: &mut Conn,
    user: &CurrentUser,
    workspace: &Workspace,
    role: Role,
    current: Option<&PageId>,
) -> AppResult<Layout> {
    let switcher = workspaces::of_user(c, &user.user.id)?;
    let hues = hues_of(switcher.iter().map(|(w, _)| &w.id));
    let hue = |id: &WorkspaceId| {
        hues.iter()
            .find(|(w, _)| w == id)
            .map_or_else(|| hue_of(id), |(_, h)| *h)
    };
    let tree = workspaces::tree_for(c, &workspace.id, &user.user.id)?;
    let two_step_needed =
        crate::domain::two_step::needs_enrolment(c, &workspace.id, &user.user.id)?;
    let shell = Shell {
        two_step_needed,
        user_name: user.user.name.clone(),
        user_email: user.user.email.clone(),
        csrf: user.csrf().to_string(),
        workspace_id: workspace.id.to_string(),
        workspace_name: workspace.name.clone(),
        workspace_initial: initial(&workspace.name),
        workspace_hue: hue(&workspace.id),
        plan: sentence_case(workspace.plan.as_str()),
        role: role.to_string(),
        switcher: switcher
            .iter()
            .map(|(w, role)| SwitcherItem {
                id: w.id.to_string(),
                name: w.name.clone(),
                initial: initial(&w.name),
                hue: hue(&w.id),
                role: sentence_case(role.as_str()),
                current: w.id == workspace.id,
            })
            .collect(),
        tree: tree
            .iter()
            .map(|r| tree_item(&r.page, r.depth, current))
            .collect(),
    };
    Ok(Layout { shell, tree })
}

/// The shell for pages outside one workspace (My integrations): framed by
/// the preferred workspace if the user belongs to it, else their first,
/// else a shell with no workspace (its template hides the workspace parts).
pub fn load_any(
    c: &mut Conn,
    user: &CurrentUser,
    preferred: Option<&WorkspaceId>,
) -> AppResult<Shell> {
    let mine = workspaces::of_user(c, &user.user.id)?;
    let pick = preferred
        .and_then(|p| mine.iter().find(|(w, _)| &w.id == p))
        .or(mine.first());
    Ok(match pick {
        Some((w, role)) => load_for(c, user, w, *role, None)?.shell,
        None => Shell {
            user_name: user.user.name.clone(),
            user_email: user.user.email.clone(),
            csrf: user.csrf().to_string(),
            workspace_id: String::new(),
            workspace_name: "No workspace".into(),
            workspace_initial: "?".into(),
            workspace_hue: 0,
            plan: String::new(),
            role: String::new(),
            switcher: Vec::new(),
            tree: Vec::new(),
            two_step_needed: false,
        },
    })
}

pub fn tree_item(p: &Page, depth: usize, current: Option<&PageId>) -> TreeItem {
    TreeItem {
        id: p.id.to_string(),
        title: display_title(&p.title),
        depth: depth.min(8),
        private: p.visibility == Visibility::Private,
        current: current == Some(&p.id),
    }
}

pub fn display_title(t: &str) -> String {
    if t.trim().is_empty() {
        "Untitled".into()
    } else {
        t.to_string()
    }
}

/// The first letter, upper-cased, as an avatar.
pub fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".into())
}

/// "enterprise" → "Enterprise": badges and labels are sentence case in
/// the markup, not by CSS.
pub fn sentence_case(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One of twelve hues (30° apart; `.ws-icon.hue-N` in style.css, since the
/// CSP allows no inline style) derived from a workspace's id, so two
/// workspaces with the same initial still look different in the switcher
/// and the sidebar. Stable across restarts (FNV-1a over the id's text).
pub fn hue_of(id: &WorkspaceId) -> u16 {
    let h = id.as_str().bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    // `h % 12` is below 12, so it fits in u16.
    u16::try_from(h % 12).unwrap_or(0)
}

/// The hues of one person's workspaces: each its own `hue_of`, except that
/// a workspace whose hue an earlier one (by id) took gets the next free
/// one, so up to twelve workspaces in one switcher never share a colour.
pub fn hues_of<'a>(ids: impl Iterator<Item = &'a WorkspaceId>) -> Vec<(WorkspaceId, u16)> {
    let mut ids: Vec<&WorkspaceId> = ids.collect();
    ids.sort();
    let mut out: Vec<(WorkspaceId, u16)> = Vec::new();
    for id in ids {
        let mut h = hue_of(id);
        for _ in 0..12 {
            if !out.iter().any(|(_, taken)| *taken == h) {
                break;
            }
            h = (h + 1) % 12;
        }
        out.push((id.clone(), h));
    }
    out
}

pub fn format_date(unix: i64) -> String {
    let fmt = time::macros::format_description!("[month repr:short] [day padding:none], [year]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|d| d.format(&fmt).ok())
        .unwrap_or_default()
}

/// RFC 3339 in UTC ("2026-12-07T09:30:00Z"), for `<time datetime>`.
pub fn format_iso(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_default()
}

pub fn format_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// A user's name for a list ("Unknown" once they are gone).
pub fn user_name(c: &mut Conn, id: &UserId) -> AppResult<String> {
    crate::domain::accounts::name_of(c, id)
}
