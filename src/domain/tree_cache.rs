//! The page picker's tree, read once per change of the workspace instead of
//! on every consent view (issue 30 item 3). Triggers bump the workspace's
//! `tree_version` whenever anything the tree shows changes (a page added,
//! deleted, renamed, moved, trashed or restored, made private or shared);
//! a reader compares the version with the one its cached tree was read at
//! (one indexed read) and re-reads the pages only when they differ. The
//! cache holds every page of the workspace, private ones included, and
//! `workspaces::visible_in` cuts it down per reader, so a private page
//! stays its creator's. It is per instance and bounded: several instances
//! each check the version in the shared database, so none shows a stale
//! tree.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::db::models::{UserId, WorkspaceId};
use crate::db::queries::{pages, workspaces as ws_q};
use crate::db::Conn;
use crate::domain::workspaces::{visible_in, whole_tree, TreeRow};
use crate::error::AppResult;

/// Pages held across every cached tree (a page row is about 250 bytes);
/// the least recently used trees go first.
pub const MAX_PAGES: usize = 10_000;

/// Bytes of rendered rows held across every tree (a picker row is about a
/// kilobyte): with `MAX_PAGES`, the cache stays under about 20 MB.
pub const MAX_RENDERED: usize = 16 << 20;

/// Rendered row sets one tree keeps (readers with private pages each have
/// their own); the oldest goes first.
const RENDERED_PER_TREE: usize = 8;

/// Who sees which rows of a tree: everyone who sees none of its private
/// pages sees the same rows (`Everyone`); someone with private pages of
/// their own sees their own set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reader {
    Everyone,
    Own(UserId),
}

/// A workspace's tree as read at a version, and which reader's rows.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub workspace: WorkspaceId,
    pub version: i64,
    pub reader: Reader,
}

/// A workspace's whole tree as read at a version, with the rows a page
/// rendered from it for each reader (opaque text to this module).
struct Entry {
    version: i64,
    rows: Arc<Vec<TreeRow>>,
    rendered: Vec<(Reader, Arc<Vec<String>>, usize)>,
    used: u64,
}

impl Entry {
    fn bytes(&self) -> usize {
        self.rendered.iter().map(|(_, _, b)| b).sum()
    }
}

#[derive(Default)]
struct Inner {
    trees: HashMap<WorkspaceId, Entry>,
    pages: usize,
    bytes: usize,
    tick: u64,
}

impl Inner {
    fn remove(&mut self, ws: &WorkspaceId) {
        if let Some(e) = self.trees.remove(ws) {
            self.pages -= e.rows.len();
            self.bytes -= e.bytes();
        }
    }

    /// Drops the least recently used trees until `pages` and `bytes` more fit.
    fn make_room(&mut self, pages: usize, bytes: usize) {
        while self.pages + pages > MAX_PAGES || self.bytes + bytes > MAX_RENDERED {
            let Some(oldest) = self
                .trees
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.remove(&oldest);
        }
    }
}

/// Per-workspace trees, shared by every worker.
#[derive(Default)]
pub struct TreeCache {
    inner: Mutex<Inner>,
    /// Trees read from the database, and rows rendered for the cache
    /// (`/metrics` shows both).
    reads: AtomicU64,
    renders: AtomicU64,
}

/// What `/metrics` shows of the cache.
pub struct Stats {
    pub trees: usize,
    pub pages: usize,
    pub rendered_bytes: usize,
    pub reads: u64,
    pub renders: u64,
}

impl TreeCache {
    fn get(&self, ws: &WorkspaceId, version: i64) -> Option<Arc<Vec<TreeRow>>> {
        let mut g = self.inner.lock().ok()?;
        g.tick += 1;
        let tick = g.tick;
        let e = g.trees.get_mut(ws).filter(|e| e.version == version)?;
        e.used = tick;
        Some(e.rows.clone())
    }

    fn put(&self, ws: &WorkspaceId, version: i64, rows: Arc<Vec<TreeRow>>) {
        let Ok(mut g) = self.inner.lock() else {
            return;
        };
        if rows.len() > MAX_PAGES {
            return;
        }
        g.remove(ws);
        g.make_room(rows.len(), 0);
        g.tick += 1;
        g.pages += rows.len();
        let used = g.tick;
        g.trees.insert(
            ws.clone(),
            Entry {
                version,
                rows,
                rendered: Vec::new(),
                used,
            },
        );
    }

    /// The rows a page rendered from the snapshot's tree for its reader:
    /// kept from an earlier view while the tree is unchanged, else made now
    /// by `render` and kept (when the tree is still the one cached).
    pub fn rendered(
        &self,
        at: &Snapshot,
        render: impl FnOnce() -> Vec<String>,
    ) -> Arc<Vec<String>> {
        if let Ok(g) = self.inner.lock() {
            let found = g
                .trees
                .get(&at.workspace)
                .filter(|e| e.version == at.version)
                .and_then(|e| e.rendered.iter().find(|(r, ..)| *r == at.reader));
            if let Some((_, rows, _)) = found {
                return rows.clone();
            }
        }
        self.renders.fetch_add(1, Ordering::Relaxed);
        let rows = Arc::new(render());
        let bytes: usize = rows.iter().map(String::len).sum();
        let Ok(mut g) = self.inner.lock() else {
            return rows;
        };
        if bytes > MAX_RENDERED / 4 {
            return rows;
        }
        // Room first (it may drop this very tree, which then keeps nothing).
        g.make_room(0, bytes);
        let mut freed = 0;
        let kept = match g.trees.get_mut(&at.workspace) {
            Some(e) if e.version == at.version => {
                if e.rendered.len() >= RENDERED_PER_TREE {
                    freed = e.rendered.remove(0).2;
                }
                e.rendered.push((at.reader.clone(), rows.clone(), bytes));
                true
            }
            _ => false,
        };
        g.bytes = g.bytes - freed + if kept { bytes } else { 0 };
        rows
    }

    /// What it holds now and how often it read or rendered.
    pub fn stats(&self) -> Stats {
        let (trees, pages, rendered_bytes) = self
            .inner
            .lock()
            .map(|g| (g.trees.len(), g.pages, g.bytes))
            .unwrap_or_default();
        Stats {
            trees,
            pages,
            rendered_bytes,
            reads: self.reads.load(Ordering::Relaxed),
            renders: self.renders.load(Ordering::Relaxed),
        }
    }
}

/// Every page of the workspace (not in the trash) in tree order, private
/// ones included: from the cache when the workspace has not changed since
/// it was read, else read now and kept.
pub fn whole(
    conn: &mut Conn,
    cache: &TreeCache,
    ws: &WorkspaceId,
) -> AppResult<(i64, Arc<Vec<TreeRow>>)> {
    // The version first, then the pages: what is read is at least as new as
    // the version it is kept under, so a later change always shows.
    let Some(version) = ws_q::tree_version(conn, ws)? else {
        return Ok((-1, Arc::new(Vec::new())));
    };
    if let Some(rows) = cache.get(ws, version) {
        return Ok((version, rows));
    }
    cache.reads.fetch_add(1, Ordering::Relaxed);
    let rows = Arc::new(whole_tree(pages::in_workspace(conn, ws)?));
    cache.put(ws, version, rows.clone());
    Ok((version, rows))
}

/// The rows of the workspace `user` can see, in tree order, and the
/// snapshot they came from (for `TreeCache::rendered`).
pub fn visible(
    conn: &mut Conn,
    cache: &TreeCache,
    ws: &WorkspaceId,
    user: &UserId,
) -> AppResult<(Snapshot, Vec<TreeRow>)> {
    let (version, whole) = whole(conn, cache, ws)?;
    let rows = visible_in(&whole, user);
    let own = rows
        .iter()
        .any(|r| r.page.visibility == crate::db::models::Visibility::Private);
    let reader = match own {
        true => Reader::Own(user.clone()),
        false => Reader::Everyone,
    };
    let at = Snapshot {
        workspace: ws.clone(),
        version,
        reader,
    };
    Ok((at, rows))
}
