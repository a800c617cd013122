//! Connections: an integration installed in a workspace by one person, with
//! the pages shared with it. Who may see and manage which (owners every
//! connection of their workspace, members their own), disconnecting,
//! internal integration tokens, who has access, and sharing pages — one
//! implementation for Settings, the page ••• menu and the CLI.

use crate::crypto::{self, SecretBox};
use crate::db::models::{
    now, Connection, ConnectionId, ConnectionPage, ConnectionStatus, Integration, IntegrationId,
    IntegrationKind, InternalToken, Page, PageId, Role, UserId, Visibility, Workspace, WorkspaceId,
};
use crate::db::queries::{blocked_clients, connections, integrations, pages, scope, tokens, users};
use crate::db::{self, Conn};
use crate::domain::accounts::name_of;
use crate::domain::audit::{self, Actor, AuditAction};
use crate::domain::install_policy;
use crate::domain::integrations::{register, Created, NewIntegration};
use crate::domain::workspaces::{chain_trashed, chain_visible_to};
use crate::error::{AppError, AppResult};

/// A connection as a list shows it.
pub struct Listed {
    pub connection: Connection,
    pub integration: Integration,
    pub installer: String,
    pub can_manage: bool,
    /// Why the viewer may not copy this internal integration's token.
    pub token_withheld: Option<String>,
    /// How many pages the connection reaches (shared ones and their
    /// descendants it can see, trashed ones left out).
    pub pages: i64,
    /// When it last called the MCP server, if it ever did: an agent.
    pub mcp_last_used: Option<i64>,
}

fn may_manage(role: Role, actor: &UserId, connection: &Connection) -> bool {
    role == Role::Owner || &connection.installed_by == actor
}

/// The active connections a viewer may see: owners every one (or their own
/// with `mine`), members only their own.
pub fn list(
    c: &mut Conn,
    ws: &WorkspaceId,
    viewer: &UserId,
    role: Role,
    mine: bool,
) -> AppResult<Vec<Listed>> {
    let only = (mine || role != Role::Owner).then_some(viewer);
    let found = connections::active_in_workspace(c, ws, only)?;
    let used = last_used_of(c, &found)?;
    found
        .into_iter()
        .map(|(connection, integration)| {
            let at = used.get(&connection.id).copied();
            listed(c, viewer, role, connection, integration, at)
        })
        .collect()
}

/// When each connection last called the MCP server, if it ever did.
fn last_used_of(
    c: &mut Conn,
    found: &[(Connection, Integration)],
) -> AppResult<std::collections::HashMap<ConnectionId, i64>> {
    let ids: Vec<ConnectionId> = found.iter().map(|(x, _)| x.id.clone()).collect();
    Ok(connections::mcp_last_used(c, &ids)?.into_iter().collect())
}

fn listed(
    c: &mut Conn,
    viewer: &UserId,
    role: Role,
    connection: Connection,
    integration: Integration,
    mcp_last_used: Option<i64>,
) -> AppResult<Listed> {
    let token_withheld = match integration.kind {
        IntegrationKind::Internal => token_withheld(c, &connection, viewer)?,
        IntegrationKind::Public => None,
    };
    Ok(Listed {
        token_withheld,
        pages: scope::count(c, &connection.id, &connection.installed_by)?,
        installer: name_of(c, &connection.installed_by)?,
        can_manage: may_manage(role, viewer, &connection),
        mcp_last_used,
        connection,
        integration,
    })
}

/// How Settings → Connections orders its integrations (`?sort=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GroupSort {
    /// A to Z by the integration's name.
    #[default]
    Name,
    /// Most recently used first: an agent's last MCP call, else the day it
    /// was connected.
    LastUsed,
    /// Most recently connected first.
    Connected,
}

impl GroupSort {
    pub const ALL: [GroupSort; 3] = [GroupSort::Name, GroupSort::LastUsed, GroupSort::Connected];

    /// The sort a query names; anything else is the default.
    pub fn parse(raw: Option<&str>) -> GroupSort {
        GroupSort::ALL
            .into_iter()
            .find(|s| Some(s.as_str()) == raw)
            .unwrap_or_default()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupSort::Name => "name",
            GroupSort::LastUsed => "used",
            GroupSort::Connected => "connected",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GroupSort::Name => "Name",
            GroupSort::LastUsed => "Last used",
            GroupSort::Connected => "Date connected",
        }
    }
}

/// How many integrations one page of Settings → Connections lists.
pub const GROUPS_PER_PAGE: usize = 50;

/// One integration in Settings → Connections, with its connections here.
pub struct Group {
    pub integration: Integration,
    pub connections: Vec<Listed>,
    /// The latest of its connections' last use (or connection date).
    pub last_used: i64,
}

/// One page of groups.
pub struct Grouped {
    pub groups: Vec<Group>,
    /// Integrations in all pages.
    pub total: usize,
    /// This page, from 1, and how many there are.
    pub page: usize,
    pub pages: usize,
}

/// What `grouped` lists.
pub struct GroupQuery<'a> {
    pub mine: bool,
    /// Only the connections this user installed (owners' filter).
    pub installer: Option<&'a UserId>,
    pub sort: GroupSort,
    /// From 1; past the last page is the last page.
    pub page: usize,
}

/// The connections `list` shows, one group per integration, sorted and cut
/// to one page of `GROUPS_PER_PAGE`; only that page's rows are looked up.
pub fn grouped(
    c: &mut Conn,
    ws: &WorkspaceId,
    viewer: &UserId,
    role: Role,
    q: &GroupQuery<'_>,
) -> AppResult<Grouped> {
    let only = (q.mine || role != Role::Owner).then_some(viewer);
    let mut found = connections::active_in_workspace(c, ws, only)?;
    if let Some(u) = q.installer {
        found.retain(|(x, _)| &x.installed_by == u);
    }
    let used = last_used_of(c, &found)?;
    // (integration, its connections, last used, last connected)
    let mut raw: Vec<(Integration, Vec<Connection>, i64, i64)> = Vec::new();
    for (connection, integration) in found {
        let at = used.get(&connection.id).copied();
        let last = at
            .unwrap_or(connection.created_at)
            .max(connection.created_at);
        match raw.iter_mut().find(|g| g.0.id == integration.id) {
            Some(g) => {
                g.2 = g.2.max(last);
                g.3 = g.3.max(connection.created_at);
                g.1.push(connection);
            }
            None => {
                let created = connection.created_at;
                raw.push((integration, vec![connection], last, created));
            }
        }
    }
    let by_name = |a: &Integration, b: &Integration| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.id.as_str().cmp(b.id.as_str()))
    };
    match q.sort {
        GroupSort::Name => raw.sort_by(|a, b| by_name(&a.0, &b.0)),
        GroupSort::LastUsed => raw.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| by_name(&a.0, &b.0))),
        GroupSort::Connected => raw.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| by_name(&a.0, &b.0))),
    }
    let total = raw.len();
    let pages = total.div_ceil(GROUPS_PER_PAGE).max(1);
    let page = q.page.clamp(1, pages);
    let mut groups = Vec::new();
    for (integration, members, last_used, _) in raw
        .into_iter()
        .skip((page - 1) * GROUPS_PER_PAGE)
        .take(GROUPS_PER_PAGE)
    {
        let connections = members
            .into_iter()
            .map(|x| {
                let at = used.get(&x.id).copied();
                listed(c, viewer, role, x, integration.clone(), at)
            })
            .collect::<AppResult<Vec<_>>>()?;
        groups.push(Group {
            integration,
            connections,
            last_used,
        });
    }
    Ok(Grouped {
        groups,
        total,
        page,
        pages,
    })
}

/// Notes a call to `/mcp` by the connection, for Settings' **Last used**:
/// a read on every call, a write at most once a minute, so a busy agent
/// does not take the database's write lock for each tool call.
pub fn note_mcp_use(c: &mut Conn, id: &ConnectionId, at: i64) -> AppResult<()> {
    let last = connections::mcp_used_at(c, id)?;
    note_mcp_use_after(c, id, last, at)
}

/// `note_mcp_use` when the last use is known (read with the token by the
/// bearer check): no read of its own, and a write at most once a minute.
pub fn note_mcp_use_after(
    c: &mut Conn,
    id: &ConnectionId,
    last: Option<i64>,
    at: i64,
) -> AppResult<()> {
    match last {
        Some(last) if last >= at - 60 => {}
        _ => {
            connections::touch_mcp(c, id, at)?;
        }
    }
    Ok(())
}

/// The connection `id` of workspace `ws`, if `actor` may manage it: owners
/// any, members their own (403 otherwise); another workspace's id is 404.
pub fn manageable(
    c: &mut Conn,
    ws: &WorkspaceId,
    actor: &UserId,
    role: Role,
    id: &ConnectionId,
) -> AppResult<(Connection, Integration)> {
    let connection = connections::by_id(c, id)?
        .filter(|x| &x.workspace_id == ws)
        .ok_or(AppError::NotFound)?;
    if !may_manage(role, actor, &connection) {
        return Err(AppError::Forbidden(
            "Only workspace owners and the person who added a connection can manage it.".into(),
        ));
    }
    let integration =
        integrations::by_id(c, &connection.integration_id)?.ok_or(AppError::NotFound)?;
    Ok((connection, integration))
}

/// Disconnects: every token of the connection is revoked at once, the
/// connection is marked revoked, and the owners' audit log says who did it.
/// Returns the integration's name.
pub fn disconnect(
    c: &mut Conn,
    ws: &WorkspaceId,
    actor: &UserId,
    role: Role,
    id: &ConnectionId,
) -> AppResult<String> {
    let (connection, integration) = manageable(c, ws, actor, role, id)?;
    db::write_tx(c, |c| {
        end(
            c,
            &connection,
            Actor::User(actor),
            Some(actor),
            integration.name.clone(),
        )
    })?;
    Ok(integration.name)
}

/// Ends a connection at once, inside the caller's transaction: every token
/// revoked, its unredeemed codes and its installer's pending consents deleted
/// (so nothing issued before can bring it back once a later consent
/// re-activates it, issue 15 #6), the row marked revoked, and a
/// `connection.disconnected` event with `detail`. Returns whether it was
/// still active. The one way a connection ends.
pub(crate) fn end(
    c: &mut Conn,
    connection: &Connection,
    actor: Actor<'_>,
    by: Option<&UserId>,
    detail: String,
) -> AppResult<bool> {
    end_as(
        c,
        connection,
        actor,
        by,
        AuditAction::ConnectionDisconnected,
        detail,
    )
}

/// `end` with the audit action named (a client revoking its own token is a
/// `connection.revoked`).
pub fn end_as(
    c: &mut Conn,
    connection: &Connection,
    actor: Actor<'_>,
    by: Option<&UserId>,
    action: AuditAction,
    detail: String,
) -> AppResult<bool> {
    let t = now();
    tokens::revoke_connection_tokens(c, &connection.id, t)?;
    crate::db::queries::oauth::end_pending_of_connection(c, connection)?;
    let ended = connections::mark_revoked(c, &connection.id, by, t)? > 0;
    if ended {
        audit::record(
            c,
            Some(&connection.workspace_id),
            actor,
            action,
            &connection.id,
            detail,
        )?;
    }
    Ok(ended)
}

/// A dynamic client an owner of `ws` may block or unblock there: one that
/// registered itself and has (or had) a connection there, or is blocked
/// there; any other id is 404.
pub fn blockable(c: &mut Conn, ws: &WorkspaceId, id: &IntegrationId) -> AppResult<Integration> {
    let integration = integrations::by_id(c, id)?
        .filter(|i| i.dynamic)
        .ok_or(AppError::NotFound)?;
    let seen = blocked_clients::is_blocked(c, ws, id)?
        || connections::for_integration(c, id)?
            .iter()
            .any(|x| &x.workspace_id == ws);
    if !seen {
        return Err(AppError::NotFound);
    }
    Ok(integration)
}

/// Blocks a dynamic client in a workspace (S67): every connection of it
/// there ends at once (`end`: tokens, codes, pending consents), new consents
/// there are refused (`install_policy`), and the owner's act is audited.
/// Returns the client's name.
pub fn block_client(
    c: &mut Conn,
    ws: &WorkspaceId,
    owner: &UserId,
    id: &IntegrationId,
) -> AppResult<String> {
    let integration = blockable(c, ws, id)?;
    db::write_tx(c, |c| {
        if !blocked_clients::block(c, ws, id, owner, now())? {
            return Ok(());
        }
        for (connection, _) in connections::active_in_workspace(c, ws, None)?
            .into_iter()
            .filter(|(_, i)| &i.id == id)
        {
            end(
                c,
                &connection,
                Actor::User(owner),
                Some(owner),
                integration.name.clone(),
            )?;
        }
        audit::record(
            c,
            Some(ws),
            Actor::User(owner),
            AuditAction::ClientBlocked,
            id,
            integration.name.clone(),
        )
    })?;
    Ok(integration.name)
}

/// Lets a blocked dynamic client ask for consent in a workspace again
/// (nothing it had comes back). Returns the client's name.
pub fn unblock_client(
    c: &mut Conn,
    ws: &WorkspaceId,
    owner: &UserId,
    id: &IntegrationId,
) -> AppResult<String> {
    let integration = blockable(c, ws, id)?;
    db::write_tx(c, |c| {
        if blocked_clients::unblock(c, ws, id)? {
            audit::record(
                c,
                Some(ws),
                Actor::User(owner),
                AuditAction::ClientUnblocked,
                id,
                integration.name.clone(),
            )?;
        }
        Ok(())
    })?;
    Ok(integration.name)
}

/// The dynamic clients blocked in a workspace.
pub fn blocked_in(c: &mut Conn, ws: &WorkspaceId) -> AppResult<Vec<Integration>> {
    Ok(blocked_clients::in_workspace(c, ws)?)
}

/// Every connection of one integration in a workspace, disconnected by an owner.
pub fn disconnect_all(
    c: &mut Conn,
    ws: &WorkspaceId,
    owner: &UserId,
    integration: &crate::db::models::IntegrationId,
) -> AppResult<()> {
    for (connection, _) in connections::active_in_workspace(c, ws, None)?
        .into_iter()
        .filter(|(_, i)| &i.id == integration)
    {
        disconnect(c, ws, owner, Role::Owner, &connection.id)?;
    }
    Ok(())
}

/// An internal integration's token for an owner of its workspace (the name
/// of the integration and the token); every retrieval is an audit event.
/// How a token left the server, for the audit log: Settings' one-press
/// **Copy** fetches it for the clipboard (the browser asks for JSON); the
/// page without JavaScript, and My integrations, show it on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenUse {
    Copied,
    Revealed,
}

impl TokenUse {
    /// The suffix of the `token.retrieved` event's detail ("Name (copied)").
    pub fn as_str(self) -> &'static str {
        match self {
            TokenUse::Copied => "copied",
            TokenUse::Revealed => "revealed",
        }
    }
}

pub fn retrieve_token(
    c: &mut Conn,
    sbox: &SecretBox,
    ws: &WorkspaceId,
    actor: &UserId,
    role: Role,
    id: &ConnectionId,
    how: TokenUse,
) -> AppResult<(String, String)> {
    if role != Role::Owner {
        return Err(AppError::Forbidden(
            "Only workspace owners can see internal integration tokens.".into(),
        ));
    }
    let (connection, integration) = manageable(c, ws, actor, role, id)?;
    if let Some(why) = token_withheld(c, &connection, actor)? {
        return Err(AppError::Forbidden(why));
    }
    let token =
        reveal_token(c, sbox, &connection, actor, &integration.name, how)?.ok_or_else(|| {
            AppError::invalid(
                "This connection is not an internal integration; it has no token to copy.",
            )
        })?;
    Ok((integration.name, token))
}

/// Decrypts a connection's internal token (`None`: it has none) and records
/// who retrieved it. The one place a token leaves the database.
fn reveal_token(
    c: &mut Conn,
    sbox: &SecretBox,
    connection: &Connection,
    actor: &UserId,
    name: &str,
    how: TokenUse,
) -> AppResult<Option<String>> {
    let Some(sealed) = connections::internal_token_sealed(c, &connection.id)? else {
        return Ok(None);
    };
    let token = sbox.decrypt(&sealed)?;
    if actor != &connection.installed_by {
        connections::mark_token_shown(c, &connection.id)?;
    }
    audit::record(
        c,
        Some(&connection.workspace_id),
        Actor::User(actor),
        AuditAction::TokenRetrieved,
        &connection.id,
        format!("{name} ({})", how.as_str()),
    )?;
    Ok(Some(token))
}

/// Creates an internal integration for this workspace from **+ Add
/// connection** (owners only), installed by the owner who made it.
pub fn create_internal(
    c: &mut Conn,
    sbox: &SecretBox,
    ws: &Workspace,
    role: Role,
    actor: &UserId,
    name: &str,
) -> AppResult<Created> {
    if role != Role::Owner {
        return Err(AppError::Forbidden(
            "Only workspace owners can create an internal integration here; members can create one under My integrations where the workspace allows it.".into(),
        ));
    }
    let creator = users::by_id(c, actor)?.ok_or(AppError::NotFound)?;
    register(
        c,
        sbox,
        NewIntegration {
            name: name.to_string(),
            kind: Some(IntegrationKind::Internal),
            workspace: Some(ws.clone()),
            created_by: Some(creator),
            ..Default::default()
        },
    )
}

/// One installer of an integration and the pages their connection was given.
pub struct Access {
    pub installer: String,
    pub added_at: i64,
    pub pages: Vec<String>,
}

/// Everyone who installed this connection's integration in the workspace,
/// with the pages each connection was given (members: only themselves).
/// Returns the integration's name too.
pub fn users_with_access(
    c: &mut Conn,
    ws: &WorkspaceId,
    actor: &UserId,
    role: Role,
    id: &ConnectionId,
) -> AppResult<(String, Vec<Access>)> {
    let (target, integration) = manageable(c, ws, actor, role, id)?;
    let only = (role != Role::Owner).then_some(actor);
    let mut out = Vec::new();
    for (connection, _) in connections::active_in_workspace(c, ws, only)? {
        if connection.integration_id != target.integration_id {
            continue;
        }
        // Another person's private page is counted, not named: an owner
        // manages the connection, not the page, and its title is not theirs
        // to read (S78).
        let mut titles = Vec::new();
        let mut private = 0;
        for pid in connections::page_ids(c, &connection.id)? {
            let chain = pages::with_ancestors(c, &pid)?;
            let Some(p) = chain.first() else { continue };
            match chain_visible_to(&chain, actor) {
                true => titles.push(p.title.clone()),
                false => private += 1,
            }
        }
        match private {
            0 => {}
            1 => titles.push("1 private page".into()),
            n => titles.push(format!("{n} private pages")),
        }
        out.push(Access {
            installer: name_of(c, &connection.installed_by)?,
            added_at: connection.created_at,
            pages: titles,
        });
    }
    Ok((integration.name, out))
}

/// A connection as the page ••• menu shows it.
pub struct OnPage {
    pub connection: Connection,
    pub name: String,
    pub installer: String,
    /// `None`: shared with this page itself; `Some(p)`: through ancestor `p`.
    pub via: Option<Page>,
    pub can_manage: bool,
    /// A public integration nobody vouches for (issue 27 item 1).
    pub unverified: bool,
}

/// The connections that reach a page, and those the viewer could add to it.
pub struct PageConnections {
    pub reaching: Vec<OnPage>,
    pub addable: Vec<OnPage>,
}

/// What the ••• menu of `chain` (the page first, then its ancestors) shows.
pub fn on_page(
    c: &mut Conn,
    ws: &WorkspaceId,
    viewer: &UserId,
    role: Role,
    chain: &[Page],
) -> AppResult<PageConnections> {
    let mut out = PageConnections {
        reaching: Vec::new(),
        addable: Vec::new(),
    };
    let Some(page) = chain.first() else {
        return Ok(out);
    };
    for (connection, integration) in connections::active_in_workspace(c, ws, None)? {
        // A connection can never reach what its installer cannot see.
        if !chain_visible_to(chain, &connection.installed_by) {
            continue;
        }
        let shares = connections::shares(c, &connection.id)?;
        let can_manage = may_manage(role, viewer, &connection);
        let via = match reached_through(chain, &shares, &connection.installed_by) {
            Some(p) => Some(p.clone()),
            None if can_manage => None,
            None => continue,
        };
        let row = OnPage {
            unverified: crate::domain::integrations::unverified(&integration),
            installer: name_of(c, &connection.installed_by)?,
            name: integration.name,
            via: via.clone().filter(|p| p.id != page.id),
            can_manage,
            connection,
        };
        match via {
            Some(_) => out.reaching.push(row),
            None => out.addable.push(row),
        }
    }
    Ok(out)
}

/// Whether a share reaches as far as its page: a workspace page always; a
/// private one only when its creator shared it into a connection they
/// installed (SECURITY: no one else's private page reaches a bot whose
/// token others may hold).
fn share_counts(page: &Page, share: &ConnectionPage, installer: &UserId) -> bool {
    page.visibility == Visibility::Workspace
        || (page.created_by == share.added_by && &page.created_by == installer)
}

/// The shared page through which a connection reaches `chain[0]` (the page
/// first, then its ancestors), if it does: the nearest shared page, with no
/// private page between it and the page (sharing never carries private
/// descendants along). The same rule as `db::queries::scope`.
pub fn reached_through<'a>(
    chain: &'a [Page],
    shares: &[ConnectionPage],
    installer: &UserId,
) -> Option<&'a Page> {
    for p in chain {
        if let Some(share) = shares.iter().find(|s| s.page_id == p.id) {
            return share_counts(p, share, installer).then_some(p);
        }
        if p.visibility == Visibility::Private {
            return None;
        }
    }
    None
}

/// Why someone other than the installer may not hold this connection's
/// token, if so: it reaches a private page of someone else (a shared page
/// in, or under, another user's private page).
pub fn token_withheld(
    c: &mut Conn,
    connection: &Connection,
    actor: &UserId,
) -> AppResult<Option<String>> {
    if &connection.installed_by == actor {
        return Ok(None);
    }
    for id in connections::page_ids(c, &connection.id)? {
        let chain = pages::with_ancestors(c, &id)?;
        if chain
            .iter()
            .any(|p| p.visibility == Visibility::Private && &p.created_by != actor)
        {
            return Ok(Some(
                "This connection can read a private page of the person who added it, so only they can copy its token.".into(),
            ));
        }
    }
    Ok(None)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageChange {
    Share,
    Unshare,
}

/// Who changes a connection's pages from the web: a member of its
/// workspace, held to their role and the install policy.
pub struct ByMember<'a> {
    pub workspace: &'a Workspace,
    pub user: &'a UserId,
    pub role: Role,
}

/// Shares a page (and so its descendants) with a connection, or stops
/// sharing it. From the web (`by`: a member, who must see the page and
/// manage the connection, under the install policy) or the command line
/// (`None`: an operator). Either way the page must be in the connection's
/// workspace, and a shared page must be visible to the connection's
/// installer. Returns whether anything changed.
/// What `change_page` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Changed {
    /// The connection's pages changed (sharing a shared page is no change).
    pub pages: bool,
    /// The connection's internal token was replaced: someone other than the
    /// installer had copied it, and a private page joined its reach.
    pub token_replaced: bool,
}

pub fn change_page(
    c: &mut Conn,
    sbox: &SecretBox,
    id: &ConnectionId,
    page: &PageId,
    by: Option<&ByMember<'_>>,
    change: PageChange,
) -> AppResult<Changed> {
    let connection = connections::by_id(c, id)?.filter(|x| match by {
        Some(b) => x.workspace_id == b.workspace.id && x.status == ConnectionStatus::Active,
        None => true,
    });
    let connection = match (connection, by) {
        (Some(x), _) => x,
        (None, Some(_)) => return Err(AppError::NotFound),
        (None, None) => return Err(AppError::invalid(format!("no connection {id}"))),
    };
    let chain = pages::with_ancestors(c, page)?;
    let in_workspace = chain
        .first()
        .is_some_and(|p| p.workspace_id == connection.workspace_id);
    match by {
        Some(b) => check_member(c, b, &chain, in_workspace, &connection)?,
        None if chain.is_empty() => return Err(AppError::invalid(format!("no page {page}"))),
        None if !in_workspace => {
            return Err(AppError::invalid(format!(
                "page {page} is not in the connection's workspace"
            )))
        }
        None => {}
    }
    if change == PageChange::Share && !chain_visible_to(&chain, &connection.installed_by) {
        return Err(AppError::invalid(match by {
            Some(_) => {
                "This page is private to you; a connection someone else added cannot see it."
                    .to_string()
            }
            None => {
                format!("page {page} is private to someone other than the connection's installer")
            }
        }));
    }
    let actor = match by {
        Some(b) => Actor::User(b.user),
        None => Actor::System,
    };
    db::write_tx(c, |c| {
        if let Some(b) = by {
            audit::within_budget(c, b.user)?;
        }
        let changed = match change {
            PageChange::Share => connections::add_page(
                c,
                &ConnectionPage {
                    connection_id: connection.id.clone(),
                    page_id: page.clone(),
                    added_by: by.map_or(&connection.installed_by, |b| b.user).clone(),
                    added_at: now(),
                },
            )?,
            PageChange::Unshare => connections::remove_page(c, &connection.id, page)?,
        };
        // A private page joining a connection whose token someone else has
        // seen: that copy must not read it (S70). The installer gets a new
        // token in the same transaction, so no moment exists in which the
        // old token reaches the page.
        let private = change == PageChange::Share
            && chain.iter().any(|p| p.visibility == Visibility::Private);
        let token_replaced =
            changed && private && connections::token_shown_to_others(c, &connection.id)?;
        if token_replaced {
            replace_token(c, sbox, &connection)?;
        }
        if changed {
            let action = match change {
                PageChange::Share => AuditAction::PageAdded,
                PageChange::Unshare => AuditAction::PageRemoved,
            };
            audit::record(
                c,
                Some(&connection.workspace_id),
                actor,
                action,
                &connection.id,
                format!("page {page}"),
            )?;
        }
        Ok(Changed {
            pages: changed,
            token_replaced,
        })
    })
}

/// A new internal token for `connection`, shown to no one yet; the old one
/// stops working when the caller's transaction commits. Audited as the
/// system's act, naming the integration, so the installer and owners read
/// why their copy stopped working.
fn replace_token(c: &mut Conn, sbox: &SecretBox, connection: &Connection) -> AppResult<()> {
    let token = format!(
        "{}{}",
        crate::domain::integrations::INTERNAL_TOKEN_PREFIX,
        crypto::random_secret()
    );
    connections::replace_internal_token(
        c,
        &InternalToken {
            connection_id: connection.id.clone(),
            hash: crypto::sha256_hex(&token),
            encrypted: sbox.encrypt(&token)?,
            created_at: now(),
        },
    )?;
    let name = integrations::by_id(c, &connection.integration_id)?
        .map(|i| i.name)
        .unwrap_or_default();
    audit::record(
        c,
        Some(&connection.workspace_id),
        Actor::System,
        AuditAction::TokenReplaced,
        &connection.id,
        name,
    )
}

/// A member may change a connection's pages when they see the page, manage
/// the connection, and the install policy lets them install it.
fn check_member(
    c: &mut Conn,
    by: &ByMember<'_>,
    chain: &[Page],
    in_workspace: bool,
    connection: &Connection,
) -> AppResult<()> {
    let visible = in_workspace && !chain_trashed(chain) && chain_visible_to(chain, by.user);
    if !visible {
        return Err(AppError::NotFound);
    }
    if !may_manage(by.role, by.user, connection) {
        return Err(AppError::Forbidden(
            "Only workspace owners and the person who added a connection can change its pages."
                .into(),
        ));
    }
    let integration =
        integrations::by_id(c, &connection.integration_id)?.ok_or(AppError::NotFound)?;
    if let Some(blocked) = install_policy::blocked(c, by.workspace, by.role, &integration)? {
        return Err(AppError::Forbidden(blocked.0));
    }
    Ok(())
}

/// An internal integration's token for its creator, decrypted and audited in
/// its workspace like an owner's retrieval. The creator must still belong to
/// the workspace, and the connection must still be active.
pub fn creator_token(
    conn: &mut Conn,
    sbox: &SecretBox,
    id: &IntegrationId,
    actor: &UserId,
) -> AppResult<String> {
    let i = crate::domain::integrations::owned(conn, id, actor)?;
    let Some(ws) = i.workspace_id.clone() else {
        return Err(AppError::invalid(
            "Only internal integrations have an internal integration token.",
        ));
    };
    if crate::db::queries::workspaces::membership(conn, &ws, actor)?.is_none() {
        return Err(AppError::Forbidden(
            "You are no longer a member of this integration's workspace.".into(),
        ));
    }
    crate::domain::two_step::must_have(conn, &ws, actor)?;
    let Some(c) = connections::for_integration(conn, &i.id)?
        .into_iter()
        .next()
    else {
        return Err(AppError::NotFound);
    };
    if c.status != ConnectionStatus::Active {
        return Err(AppError::Forbidden(
            "A workspace owner disconnected this integration; its token no longer works.".into(),
        ));
    }
    reveal_token(conn, sbox, &c, actor, &i.name, TokenUse::Revealed)?.ok_or(AppError::NotFound)
}

/// Shares `page` with a connection from the command line (an operator):
/// `change_page` without a member.
pub fn connection_add_page(
    c: &mut Conn,
    sbox: &SecretBox,
    id: &ConnectionId,
    page: &PageId,
) -> AppResult<Changed> {
    change_page(c, sbox, id, page, None, PageChange::Share)
}

/// What deleting an integration ended.
pub struct DeletedIntegration {
    pub name: String,
    /// The workspaces whose connections ended, by name.
    pub workspaces: Vec<String>,
}

/// The workspaces where an integration's active connections are, and how
/// many in each: what **Delete integration** will end.
pub fn reach_of(c: &mut Conn, id: &IntegrationId) -> AppResult<Vec<(String, usize)>> {
    let mut out: Vec<(WorkspaceId, String, usize)> = Vec::new();
    for connection in connections::for_integration(c, id)? {
        if connection.status != ConnectionStatus::Active {
            continue;
        }
        match out
            .iter_mut()
            .find(|(w, _, _)| w == &connection.workspace_id)
        {
            Some(entry) => entry.2 += 1,
            None => {
                let name = crate::db::queries::workspaces::by_id(c, &connection.workspace_id)?
                    .map(|w| w.name)
                    .unwrap_or_default();
                out.push((connection.workspace_id.clone(), name, 1));
            }
        }
    }
    Ok(out.into_iter().map(|(_, n, k)| (n, k)).collect())
}

/// **Delete integration** (its creator only): every connection ends at once
/// (tokens revoked, each a `connection.disconnected` event in its
/// workspace), an `integration.deleted` event is recorded in each workspace
/// it reached (and once outside any workspace), then the integration and
/// everything hanging off it is deleted, in one transaction.
pub fn delete_integration(
    c: &mut Conn,
    id: &IntegrationId,
    actor: &UserId,
) -> AppResult<DeletedIntegration> {
    let i = crate::domain::integrations::owned(c, id, actor)?;
    remove(c, &i, Actor::User(actor), Some(actor))
}

/// RFC 7592 delete: `delete_integration` done by the dynamic client itself,
/// with its registration access token.
pub fn delete_dynamic(c: &mut Conn, i: &Integration) -> AppResult<()> {
    remove(c, i, Actor::Client(&i.client_id), None).map(|_| ())
}

fn remove(
    c: &mut Conn,
    i: &Integration,
    actor: Actor<'_>,
    by: Option<&UserId>,
) -> AppResult<DeletedIntegration> {
    db::write_tx(c, |c| {
        let mut touched: Vec<WorkspaceId> = i.workspace_id.iter().cloned().collect();
        for connection in connections::for_integration(c, &i.id)? {
            let detail = format!("{} (integration deleted)", i.name);
            if end(c, &connection, actor, by, detail)?
                && !touched.contains(&connection.workspace_id)
            {
                touched.push(connection.workspace_id.clone());
            }
        }
        let mut names = Vec::new();
        for ws in &touched {
            audit::record(
                c,
                Some(ws),
                actor,
                AuditAction::IntegrationDeleted,
                &i.id,
                i.name.clone(),
            )?;
            if let Some(w) = crate::db::queries::workspaces::by_id(c, ws)? {
                names.push(w.name);
            }
        }
        if touched.is_empty() {
            audit::record(
                c,
                None,
                actor,
                AuditAction::IntegrationDeleted,
                &i.id,
                i.name.clone(),
            )?;
        }
        integrations::delete(c, &i.id)?;
        Ok(DeletedIntegration {
            name: i.name.clone(),
            workspaces: names,
        })
    })
}

/// An internal connection's pages as the **Access** picker offers them to
/// one person (an owner, or the integration's developer, who installed it).
pub struct AccessPlan {
    pub connection: Connection,
    pub integration: Integration,
    /// The pages this person may share with it, in tree order, and whether
    /// each is shared with it now: pages they see that its installer sees
    /// too (a private page reaches a connection only from its creator).
    pub pages: Vec<(crate::domain::workspaces::TreeRow, bool)>,
}

/// What saving the **Access** picker changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessSaved {
    /// The integration's name.
    pub name: String,
    pub shared: usize,
    pub unshared: usize,
    pub token_replaced: bool,
}

/// Internal connection `id` of `by`'s workspace as `by` may edit its
/// pages: owners any, members the ones they installed (`manageable`).
pub fn access_plan(c: &mut Conn, by: &ByMember<'_>, id: &ConnectionId) -> AppResult<AccessPlan> {
    use crate::domain::workspaces::visible_tree;
    let (connection, integration) = manageable(c, &by.workspace.id, by.user, by.role, id)?;
    if integration.kind != IntegrationKind::Internal {
        return Err(AppError::invalid(
            "Only an internal integration's pages are chosen here; a public one gets its pages when someone connects it.",
        ));
    }
    if connection.status != ConnectionStatus::Active {
        return Err(AppError::Forbidden(
            "This connection was disconnected; its pages can no longer be changed.".into(),
        ));
    }
    let all = pages::in_workspace(c, &by.workspace.id)?;
    let installer_sees: std::collections::HashSet<PageId> =
        visible_tree(all.clone(), &connection.installed_by)
            .into_iter()
            .map(|r| r.page.id)
            .collect();
    let shared = connections::page_ids(c, &connection.id)?;
    let pages = visible_tree(all, by.user)
        .into_iter()
        .filter(|r| installer_sees.contains(&r.page.id))
        .map(|r| {
            let now_shared = shared.contains(&r.page.id);
            (r, now_shared)
        })
        .collect();
    Ok(AccessPlan {
        connection,
        integration,
        pages,
    })
}

/// Saves the **Access** picker: among the pages `by` is offered, the ticked
/// ones become shared with connection `id` and the others stop being;
/// pages `by` is not offered (another's private ones) stay as they are.
/// Each change goes through `change_page` (its checks, its audit event),
/// all in one transaction: a refused page changes nothing.
pub fn set_access(
    c: &mut Conn,
    sbox: &SecretBox,
    by: &ByMember<'_>,
    id: &ConnectionId,
    ticked: &[String],
) -> AppResult<AccessSaved> {
    db::write_tx(c, |c| {
        let plan = access_plan(c, by, id)?;
        let mut wanted: Vec<PageId> = Vec::new();
        for raw in ticked {
            let page = PageId::parse(raw)
                .filter(|p| plan.pages.iter().any(|(r, _)| &r.page.id == p))
                .ok_or_else(|| {
                    AppError::invalid(
                        "One of the selected pages does not exist or cannot be shared with this integration; nothing was changed.",
                    )
                })?;
            wanted.push(page);
        }
        let mut saved = AccessSaved {
            name: plan.integration.name.clone(),
            ..AccessSaved::default()
        };
        for (r, shared) in &plan.pages {
            let change = match (wanted.contains(&r.page.id), *shared) {
                (true, false) => PageChange::Share,
                (false, true) => PageChange::Unshare,
                _ => continue,
            };
            let done = change_page(c, sbox, id, &r.page.id, Some(by), change)?;
            match change {
                PageChange::Share if done.pages => saved.shared += 1,
                PageChange::Unshare if done.pages => saved.unshared += 1,
                _ => {}
            }
            saved.token_replaced |= done.token_replaced;
        }
        Ok(saved)
    })
}

/// The internal connection of integration `id` for its developer `actor`,
/// with their place in its workspace; `None` when it has none to edit (a
/// public integration, a disconnected one, or a developer who left).
fn developer_connection(
    c: &mut Conn,
    id: &IntegrationId,
    actor: &UserId,
) -> AppResult<Option<(Workspace, Role, ConnectionId)>> {
    let i = crate::domain::integrations::owned(c, id, actor)?;
    let Some(ws) = i.workspace_id else {
        return Ok(None);
    };
    let Some(m) = crate::db::queries::workspaces::membership(c, &ws, actor)? else {
        return Ok(None);
    };
    let Some(workspace) = crate::db::queries::workspaces::by_id(c, &ws)? else {
        return Ok(None);
    };
    let live = connections::for_integration(c, &i.id)?
        .into_iter()
        .find(|x| x.status == ConnectionStatus::Active && x.workspace_id == ws);
    Ok(live.map(|x| (workspace, m.role, x.id)))
}

/// The **Access** picker on an internal integration's own page, for its
/// developer (`None`: nothing to edit there).
pub fn developer_access(
    c: &mut Conn,
    id: &IntegrationId,
    actor: &UserId,
) -> AppResult<Option<AccessPlan>> {
    let Some((workspace, role, cid)) = developer_connection(c, id, actor)? else {
        return Ok(None);
    };
    let by = ByMember {
        workspace: &workspace,
        user: actor,
        role,
    };
    access_plan(c, &by, &cid).map(Some)
}

/// Saves the **Access** picker of an internal integration's own page.
pub fn developer_set_access(
    c: &mut Conn,
    sbox: &SecretBox,
    id: &IntegrationId,
    actor: &UserId,
    ticked: &[String],
) -> AppResult<AccessSaved> {
    let (workspace, role, cid) = developer_connection(c, id, actor)?.ok_or_else(|| {
        AppError::invalid(
            "This integration has no connection whose pages you can change (only a live internal integration, in a workspace you belong to, has one).",
        )
    })?;
    let by = ByMember {
        workspace: &workspace,
        user: actor,
        role,
    };
    set_access(c, sbox, &by, &cid, ticked)
}
