//! What a connection's grant lets it read and write: the one road every
//! surface that acts for a bot takes (the Notion-compatible API at `/v1`,
//! the MCP tools at `/mcp`, the demo partner), so all of them apply one
//! capability rule, one page scope and one audit rule (DESIGN §4, §7, §8;
//! S65, S66, S68).
//!
//! Every operation judges in this order (docs/notes-25-reach.md):
//! 1. **capability** (Notion's rule): reading a page, its blocks or
//!    searching needs `read_content`; changing or trashing a page or block
//!    `update_content`; creating a page or appending blocks
//!    `insert_content`. A missing capability is `Missing`, the same answer
//!    for every id, so it tells nothing about which pages exist;
//! 2. **scope**: a page outside the grant (not shared, another person's
//!    private page, another workspace, no such page) is `NotFound`, exactly
//!    as if it did not exist; so is a trashed page where the operation
//!    needs a live one (its content, its sub-pages, writing under it);
//! 3. the request's own bounds (`Invalid`).
//!
//! Writes record their audit event in the same transaction, with the
//! surface they came through (`domain::audit::record_bot_write`), and the
//! connection's activity row, with the tool or route (`domain::activity`).

use std::collections::HashMap;

use crate::db::models::{now, ActivityOp, Block, BlockId, Connection, Page, PageId};
use crate::db::queries::scope;
/// A search's query, order, cursor and size, as `/v1` and `/mcp` give it;
/// a page found, and a page with its trash state as the grant sees it.
pub use crate::db::queries::scope::{ScopedPage, SearchArgs, SearchHit};
use crate::db::{self, Conn};
use crate::domain::activity;
use crate::domain::audit::{self, AuditAction};
use crate::domain::blocks::{self, Placement};
use crate::domain::content::{Author, BlockContent};
use crate::domain::workspaces::{self as ws, NewPage};
use crate::error::{AppError, AppResult};

/// Notion's limits on written content, the same on every surface:
/// characters per text object (and per link), text objects per rich-text
/// array, blocks per write.
pub const MAX_TEXT: usize = 2000;
pub const MAX_RICH_TEXT: usize = 100;
pub const MAX_BLOCKS: usize = 100;
/// The longest search query, in characters. Notion documents none; a
/// person types a few words, a pasted title is under 2,000 characters
/// (`MAX_TEXT`), and SQLite refuses LIKE patterns over 50,000 bytes
/// (S76). 1,000 characters is at most 4,000 bytes, escaped at most 8,000.
pub const MAX_QUERY: usize = 1000;

/// A capability and a refusal are defined beside `AppError` (a refusal is
/// `AppError::Refused`, which every surface maps once); named here too,
/// where the rules that answer them are.
pub use crate::error::{Capability, Object, Refusal};

/// The surface a bot acted through, as the audit log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Api,
    Mcp,
}

impl Surface {
    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Api => "/v1",
            Surface::Mcp => "/mcp",
        }
    }
}

/// The grant a request acts under: its connection, the capabilities its
/// token carries (space-separated, as the scope is stored), the client it
/// acts as (the audit log's actor) and the surface it came through.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    pub connection: &'a Connection,
    pub scope: &'a str,
    pub client_id: &'a str,
    pub via: Surface,
    /// The MCP tool or `/v1` route acting, where the write alone does not
    /// say it (`doing`); else it follows from the surface and the write.
    pub op: Option<ActivityOp>,
}

impl Grant<'_> {
    pub fn allows(&self, capability: Capability) -> bool {
        capability.in_text(self.scope)
    }

    /// `Missing(capability)` unless the grant holds it.
    pub fn require(&self, capability: Capability) -> AppResult<()> {
        match self.allows(capability) {
            true => Ok(()),
            false => Err(Refusal::Missing(capability).into()),
        }
    }

    /// The grant acting through `op` (the activity row names it).
    pub fn doing(self, op: ActivityOp) -> Self {
        Grant {
            op: Some(op),
            ..self
        }
    }

    /// The tool or route a write came through: the one named by `doing`,
    /// else the one each write has on its surface (MCP `create_page` makes
    /// pages, `update_page` changes them; on `/v1` the page and block
    /// routes).
    fn op_for(&self, action: AuditAction) -> ActivityOp {
        self.op.unwrap_or(match (self.via, action) {
            (Surface::Mcp, AuditAction::AgentPageCreated) => ActivityOp::McpCreatePage,
            (Surface::Mcp, _) => ActivityOp::McpUpdatePage,
            (Surface::Api, AuditAction::AgentPageCreated) => ActivityOp::ApiPostPage,
            (Surface::Api, AuditAction::AgentBlocksAppended) => ActivityOp::ApiPatchBlockChildren,
            (Surface::Api, AuditAction::AgentBlockUpdated) => ActivityOp::ApiPatchBlock,
            (Surface::Api, _) => ActivityOp::ApiPatchPage,
        })
    }

    fn author(&self) -> Author {
        Author::Bot(self.connection.bot_id.clone())
    }
}

/// Out of the grant's reach, as a page or as a block (Notion's "not found"
/// names which the endpoint looked for).
const NO_PAGE: AppError = AppError::Refused(Refusal::NotFound(Object::Page));
const NO_BLOCK: AppError = AppError::Refused(Refusal::NotFound(Object::Block));

fn scoped(c: &mut Conn, g: Grant<'_>, id: &PageId) -> AppResult<Option<ScopedPage>> {
    Ok(scope::page(
        c,
        &g.connection.id,
        &g.connection.installed_by,
        id,
    )?)
}

fn live(c: &mut Conn, g: Grant<'_>, id: &PageId) -> AppResult<Option<Page>> {
    Ok(scoped(c, g, id)?.filter(|p| !p.trashed).map(|p| p.page))
}

// ------------------------------------------------------------------ reads

/// One page the grant reaches, trashed or not (a trashed one is marked:
/// the grant may restore it, so it may see it). This is the page object
/// (`GET /v1/pages/{id}`); whatever reads a page's content, MCP `fetch`
/// included, takes `live_page`, so trashed content is not found (S65).
pub fn page(c: &mut Conn, g: Grant<'_>, id: &PageId) -> AppResult<ScopedPage> {
    g.require(Capability::ReadContent)?;
    scoped(c, g, id)?.ok_or(NO_PAGE)
}

/// One live (not trashed) page the grant reaches.
pub fn live_page(c: &mut Conn, g: Grant<'_>, id: &PageId) -> AppResult<Page> {
    g.require(Capability::ReadContent)?;
    live(c, g, id)?.ok_or(NO_PAGE)
}

/// Pages the grant reaches whose title (first) or text matches the query,
/// newest edit first within each group. A query over `MAX_QUERY`
/// characters is `Invalid`.
pub fn search(c: &mut Conn, g: Grant<'_>, args: &SearchArgs<'_>) -> AppResult<Vec<SearchHit>> {
    g.require(Capability::ReadContent)?;
    query_bound(args.query)?;
    Ok(scope::search(
        c,
        &g.connection.id,
        &g.connection.installed_by,
        args,
    )?)
}

/// Refuses a search query longer than `MAX_QUERY` characters.
pub fn query_bound(q: &str) -> AppResult<()> {
    let n = q.chars().count();
    match n > MAX_QUERY {
        true => Err(Refusal::Invalid(format!(
            "The search query may have at most {MAX_QUERY} characters; this one has {n}."
        ))
        .into()),
        false => Ok(()),
    }
}

/// A live page's live sub-pages the grant reaches, oldest first, after a
/// (created_at, id) cursor.
pub fn children(
    c: &mut Conn,
    g: Grant<'_>,
    id: &PageId,
    after: Option<(i64, String)>,
    limit: i64,
) -> AppResult<Vec<Page>> {
    g.require(Capability::ReadContent)?;
    Ok(scope::children(
        c,
        &g.connection.id,
        &g.connection.installed_by,
        id,
        after,
        limit,
    )?
    .into_iter()
    .filter(|p| !p.trashed)
    .map(|p| p.page)
    .collect())
}

/// Whether a page the grant reaches has sub-pages or live blocks the grant
/// sees: what it cannot see is not counted, so its existence stays hidden.
pub fn has_children(c: &mut Conn, g: Grant<'_>, id: &PageId) -> AppResult<bool> {
    g.require(Capability::ReadContent)?;
    Ok(
        scope::has_children(c, &g.connection.id, &g.connection.installed_by, id)?
            || !crate::db::queries::blocks::live_after(c, id, None, 1)?.is_empty(),
    )
}

/// A live page's live blocks in order, after a (position, id) cursor.
pub fn blocks_after(
    c: &mut Conn,
    g: Grant<'_>,
    id: &PageId,
    after: Option<(i64, &str)>,
    limit: i64,
) -> AppResult<Vec<Block>> {
    g.require(Capability::ReadContent)?;
    if live(c, g, id)?.is_none() {
        return Err(NO_BLOCK);
    }
    Ok(crate::db::queries::blocks::live_after(c, id, after, limit)?)
}

/// A live page's content, in order.
pub fn content(c: &mut Conn, g: Grant<'_>, id: &PageId) -> AppResult<Vec<BlockContent>> {
    g.require(Capability::ReadContent)?;
    if live(c, g, id)?.is_none() {
        return Err(NO_PAGE);
    }
    blocks::content_of(c, id)
}

/// The titles above a page, outermost first, as far up as the grant
/// reaches: a parent that was not shared is not named (its title would
/// say more than the person chose to share).
/// Each page above is handed to `name`, which says what to keep of it.
pub fn breadcrumb<T>(
    c: &mut Conn,
    g: Grant<'_>,
    p: &Page,
    name: impl Fn(&Page) -> T,
) -> AppResult<Vec<T>> {
    Ok(breadcrumbs(c, g, std::slice::from_ref(p), name)?
        .pop()
        .unwrap_or_default())
}

/// `breadcrumb` for each of `pages` (what `name` keeps of each page
/// above: pages are not copied), from at most one query for all of
/// them. `pages` are live pages the grant reaches (what `search` and
/// `live_page` return), so a parent among them is its own answer: only
/// the parents outside them are looked up, with what is above them, and
/// nothing is when every parent is among them (a listing of a shared
/// tree, whose top page's parent is not shared, still asks once).
pub fn breadcrumbs<T>(
    c: &mut Conn,
    g: Grant<'_>,
    pages: &[Page],
    name: impl Fn(&Page) -> T,
) -> AppResult<Vec<Vec<T>>> {
    g.require(Capability::ReadContent)?;
    let given: HashMap<&PageId, &Page> = pages.iter().map(|p| (&p.id, p)).collect();
    let mut outside: Vec<&PageId> = pages
        .iter()
        .filter_map(|p| p.parent_id.as_ref())
        .filter(|id| !given.contains_key(id))
        .collect();
    outside.sort_unstable();
    outside.dedup();
    let fetched: HashMap<PageId, Page> = match outside.is_empty() {
        true => HashMap::new(),
        false => scope::ancestors(c, &g.connection.id, &g.connection.installed_by, &outside)?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect(),
    };
    let above = |id: &PageId| given.get(id).copied().or_else(|| fetched.get(id));
    Ok(pages
        .iter()
        .map(|p| {
            let mut out = Vec::new();
            let mut next = p.parent_id.as_ref();
            while let Some(parent) = next.and_then(above) {
                // A cycle cannot happen (parents are checked on write), but a
                // bound keeps a corrupt row from spinning.
                if out.len() >= 64 {
                    break;
                }
                out.push(name(parent));
                next = parent.parent_id.as_ref();
            }
            out.reverse();
            out
        })
        .collect())
}

/// What a block-endpoint id names inside the grant.
pub enum Target {
    /// A content block of a live page the grant reaches.
    Block(Block),
    /// A page the grant reaches (maybe trashed).
    Page(ScopedPage),
}

/// What an id names, when the grant holds `capability` (judged first) and
/// reaches it: a block only while its page is reached and live; a page
/// only while live when `live_page`.
pub fn target(
    c: &mut Conn,
    g: Grant<'_>,
    capability: Capability,
    (block, page): (&BlockId, &PageId),
    live_page: bool,
) -> AppResult<Target> {
    g.require(capability)?;
    if let Some(b) = blocks::get(c, block)? {
        return match live(c, g, &b.page_id)? {
            Some(_) => Ok(Target::Block(b)),
            None => Err(NO_BLOCK),
        };
    }
    match scoped(c, g, page)? {
        Some(p) if live_page && p.trashed => Err(NO_BLOCK),
        Some(p) => Ok(Target::Page(p)),
        None => Err(NO_BLOCK),
    }
}

// ------------------------------------------------------------------ writes

/// Refuses content over the bounds every surface shares: `MAX_BLOCKS`
/// blocks, `MAX_RICH_TEXT` text objects per block, `MAX_TEXT` characters
/// per text object and per link. They keep one write's transaction (and
/// so SQLite's write lock) short (S73).
pub fn content_bound(content: &[BlockContent]) -> AppResult<()> {
    if content.len() > MAX_BLOCKS {
        return Err(Refusal::Invalid(format!(
            "At most {MAX_BLOCKS} blocks may be written in one call; this one has {}. Write the rest in further calls.",
            content.len()
        ))
        .into());
    }
    for (i, b) in content.iter().enumerate() {
        if b.spans.len() > MAX_RICH_TEXT {
            return Err(Refusal::Invalid(format!(
                "Block {} has {} text runs; at most {MAX_RICH_TEXT} are allowed per block.",
                i + 1,
                b.spans.len()
            ))
            .into());
        }
        for s in &b.spans {
            let n = s.text.chars().count();
            if n > MAX_TEXT {
                return Err(Refusal::Invalid(format!(
                    "Block {} has a text run of {n} characters; at most {MAX_TEXT} characters are allowed per text run (split long paragraphs).",
                    i + 1
                ))
                .into());
            }
            if s.href
                .as_ref()
                .is_some_and(|h| h.chars().count() > MAX_TEXT)
            {
                return Err(Refusal::Invalid(format!(
                    "Block {} has a link of over {MAX_TEXT} characters.",
                    i + 1
                ))
                .into());
            }
        }
    }
    Ok(())
}

/// Records a bot's write in the workspace's audit log and the
/// connection's activity.
fn audited(
    c: &mut Conn,
    g: Grant<'_>,
    action: AuditAction,
    page: &PageId,
    what: Option<String>,
) -> AppResult<()> {
    activity::record_write(c, &g.connection.id, page, g.op_for(action), what.as_deref())?;
    audit::record_bot_write(
        c,
        &audit::BotWrite {
            workspace: &g.connection.workspace_id,
            client_id: g.client_id,
            connection: &g.connection.id,
            action,
            page,
            via: g.via.as_str(),
            what,
        },
    )
}

/// Creates a page with `content` under a live parent the grant reaches
/// (`insert_content`), as the person who installed the connection
/// (connections write on their installer's behalf, as in Notion), in one
/// transaction with its audit event. Returns the page and its blocks.
pub fn create_page(
    c: &mut Conn,
    g: Grant<'_>,
    parent: &PageId,
    title: &str,
    content: &[BlockContent],
) -> AppResult<(Page, Vec<Block>)> {
    g.require(Capability::InsertContent)?;
    content_bound(content)?;
    db::write_tx(c, |c| {
        if live(c, g, parent)?.is_none() {
            return Err(NO_PAGE);
        }
        let workspace = crate::db::queries::workspaces::by_id(c, &g.connection.workspace_id)?
            .ok_or(AppError::NotFound)?;
        let creator = crate::db::queries::users::by_id(c, &g.connection.installed_by)?
            .ok_or(AppError::NotFound)?;
        let page = ws::add_page(
            c,
            NewPage {
                workspace: &workspace,
                title,
                parent: Some(parent),
                private: false,
                creator: &creator,
            },
        )?;
        let added = blocks::insert(c, &page.id, &g.author(), content, &Placement::End)?;
        let what = (!added.is_empty()).then(|| format!("{} block(s)", added.len()));
        audited(c, g, AuditAction::AgentPageCreated, &page.id, what)?;
        Ok((page, added))
    })
}

/// Changes a page's title or trash state (`update_content`); the page may
/// be trashed already (restoring it is an update too).
pub fn update_page(
    c: &mut Conn,
    g: Grant<'_>,
    id: &PageId,
    title: Option<&str>,
    trash: Option<bool>,
) -> AppResult<ScopedPage> {
    g.require(Capability::UpdateContent)?;
    db::write_tx(c, |c| {
        if scoped(c, g, id)?.is_none() {
            return Err(NO_PAGE);
        }
        scope::update_page(c, id, title, trash, now())?;
        let what = match trash {
            Some(true) => Some("to the trash".to_string()),
            Some(false) => Some("restored".to_string()),
            None => None,
        };
        audited(c, g, AuditAction::AgentPageUpdated, id, what)?;
        scoped(c, g, id)?.ok_or(AppError::NotFound)
    })
}

/// Adds blocks to a live page the grant reaches (`insert_content`) at
/// `place`: after a live block of that very page (any other id is
/// `Anchor`, so blocks elsewhere are not revealed), at the start or end.
/// Returns the page (as before the append) and the new blocks.
pub fn append_blocks(
    c: &mut Conn,
    g: Grant<'_>,
    page: &PageId,
    content: &[BlockContent],
    place: &Placement,
) -> AppResult<(Page, Vec<Block>)> {
    g.require(Capability::InsertContent)?;
    content_bound(content)?;
    db::write_tx(c, |c| {
        let Some(found) = live(c, g, page)? else {
            return Err(NO_BLOCK);
        };
        if let Placement::After(anchor) = place {
            match blocks::get(c, anchor)? {
                Some(b) if &b.page_id == page && !b.in_trash => {}
                _ => return Err(Refusal::Anchor.into()),
            }
        }
        let added = blocks::insert(c, page, &g.author(), content, place)?;
        if !added.is_empty() {
            let what = Some(format!("{} block(s)", added.len()));
            audited(c, g, AuditAction::AgentBlocksAppended, page, what)?;
        }
        Ok((found, added))
    })
}

/// A change to one content block: new content (of its own type) and/or
/// the trash flag.
pub struct BlockChange {
    pub content: Option<BlockContent>,
    pub in_trash: Option<bool>,
}

/// Changes a block of a live page the grant reaches (`update_content`).
/// A trashed block takes only a restore (with or without new content).
pub fn update_block(
    c: &mut Conn,
    g: Grant<'_>,
    id: &BlockId,
    change: BlockChange,
) -> AppResult<Block> {
    g.require(Capability::UpdateContent)?;
    if let Some(new) = &change.content {
        content_bound(std::slice::from_ref(new))?;
    }
    db::write_tx(c, |c| {
        let Some(mut row) = blocks::get(c, id)? else {
            return Err(NO_BLOCK);
        };
        if live(c, g, &row.page_id)?.is_none() {
            return Err(NO_BLOCK);
        }
        let restoring = change.in_trash == Some(false);
        if row.in_trash && !restoring {
            return Err(Refusal::Invalid(
                "Can't edit block that is archived. You must unarchive the block before editing."
                    .into(),
            )
            .into());
        }
        let by = g.author();
        if restoring && row.in_trash {
            row = blocks::set_trash(c, &row, &by, false)?;
        }
        if let Some(new) = &change.content {
            row = blocks::update(c, &row, &by, new)?;
        }
        if change.in_trash == Some(true) {
            row = blocks::set_trash(c, &row, &by, true)?;
        }
        let what = Some(match change.in_trash {
            Some(true) => format!("block {}, to the trash", row.id),
            Some(false) => format!("block {}, restored", row.id),
            None => format!("block {}", row.id),
        });
        audited(c, g, AuditAction::AgentBlockUpdated, &row.page_id, what)?;
        Ok(row)
    })
}
