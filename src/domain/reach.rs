//! What a connection's grant lets it read and write, shared by the
//! Notion-compatible API (`/v1`) and the MCP tools (`/mcp`) so both apply
//! one page scope and one set of capability checks (DESIGN §4, §7; S65,
//! S66). A page outside the scope is `NotFound`, exactly as if it did not
//! exist; a missing capability is `Missing`, naming it.

use std::collections::HashMap;

use crate::db::models::{now, Connection, Page, PageId};
/// A search's query, order, cursor and size, as `/v1` and `/mcp` give it.
pub use crate::db::queries::scope::SearchArgs;
use crate::db::queries::scope::{self, ScopedPage, SearchHit};
use crate::db::{self, Conn};
use crate::domain::workspaces::{self as ws, NewPage};
use crate::error::{AppError, AppResult};

/// The grant a request acts under: its connection and the capabilities its
/// token carries (space-separated, as the scope is stored).
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    pub connection: &'a Connection,
    pub scope: &'a str,
}

impl Grant<'_> {
    pub fn allows(&self, capability: &str) -> bool {
        self.scope.split(' ').any(|s| s == capability)
    }

    fn require(&self, capability: &'static str) -> Result<(), Refusal> {
        match self.allows(capability) {
            true => Ok(()),
            false => Err(Refusal::Missing(capability)),
        }
    }
}

/// Why the grant does not allow an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not in the grant's pages (or trashed, where that matters): told apart
    /// from "does not exist" by nobody.
    NotFound,
    /// The token lacks this capability.
    Missing(&'static str),
}

/// One page the grant reaches, trashed or not.
pub fn page(c: &mut Conn, g: Grant<'_>, id: &PageId) -> AppResult<Option<ScopedPage>> {
    Ok(scope::page(
        c,
        &g.connection.id,
        &g.connection.installed_by,
        id,
    )?)
}

/// One live (not trashed) page the grant reaches.
pub fn live_page(c: &mut Conn, g: Grant<'_>, id: &PageId) -> AppResult<Option<Page>> {
    Ok(page(c, g, id)?.filter(|p| !p.trashed).map(|p| p.page))
}

/// Pages the grant reaches whose title (first) or text matches the query,
/// newest edit first within each group.
pub fn search(c: &mut Conn, g: Grant<'_>, args: &SearchArgs<'_>) -> AppResult<Vec<SearchHit>> {
    Ok(scope::search(
        c,
        &g.connection.id,
        &g.connection.installed_by,
        args,
    )?)
}

/// A live page's sub-pages the grant reaches, oldest first.
pub fn children(c: &mut Conn, g: Grant<'_>, id: &PageId, limit: i64) -> AppResult<Vec<Page>> {
    Ok(scope::children(
        c,
        &g.connection.id,
        &g.connection.installed_by,
        id,
        None,
        limit,
    )?
    .into_iter()
    .filter(|p| !p.trashed)
    .map(|p| p.page)
    .collect())
}

/// The titles above a page, outermost first, as far up as the grant
/// reaches: a parent that was not shared is not named (its title would
/// say more than the person chose to share).
pub fn breadcrumb(c: &mut Conn, g: Grant<'_>, p: &Page) -> AppResult<Vec<Page>> {
    Ok(breadcrumbs(c, g, std::slice::from_ref(p))?
        .pop()
        .unwrap_or_default())
}

/// `breadcrumb` for each of `pages`, from one query for all of them.
pub fn breadcrumbs(c: &mut Conn, g: Grant<'_>, pages: &[Page]) -> AppResult<Vec<Vec<Page>>> {
    let ids: Vec<&PageId> = pages.iter().map(|p| &p.id).collect();
    let above: HashMap<PageId, Page> =
        scope::ancestors(c, &g.connection.id, &g.connection.installed_by, &ids)?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
    Ok(pages
        .iter()
        .map(|p| {
            let mut out = Vec::new();
            let mut next = p.parent_id.as_ref();
            while let Some(parent) = next.and_then(|id| above.get(id)) {
                // A cycle cannot happen (parents are checked on write), but a
                // bound keeps a corrupt row from spinning.
                if out.len() >= 64 {
                    break;
                }
                out.push(parent.clone());
                next = parent.parent_id.as_ref();
            }
            out.reverse();
            out
        })
        .collect())
}

/// Creates a page under a live parent the grant reaches (`insert_content`),
/// as the person who installed the connection: connections write on their
/// installer's behalf, as in Notion.
pub fn create_page(
    c: &mut Conn,
    g: Grant<'_>,
    parent: &PageId,
    title: &str,
) -> AppResult<Result<Page, Refusal>> {
    if live_page(c, g, parent)?.is_none() {
        return Ok(Err(Refusal::NotFound));
    }
    if let Err(r) = g.require("insert_content") {
        return Ok(Err(r));
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
    Ok(Ok(page))
}

/// Changes a page's title or trash state (`update_content`); the page may
/// be trashed already (restoring it is an update too).
pub fn update_page(
    c: &mut Conn,
    g: Grant<'_>,
    id: &PageId,
    title: Option<&str>,
    trash: Option<bool>,
) -> AppResult<Result<ScopedPage, Refusal>> {
    if page(c, g, id)?.is_none() {
        return Ok(Err(Refusal::NotFound));
    }
    if let Err(r) = g.require("update_content") {
        return Ok(Err(r));
    }
    db::write_tx(c, |c| Ok(scope::update_page(c, id, title, trash, now())?))?;
    Ok(Ok(page(c, g, id)?.ok_or(AppError::NotFound)?))
}
