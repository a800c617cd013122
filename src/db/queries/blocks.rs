//! A page's content blocks, in `(position, id)` order. Positions have gaps
//! (`domain::blocks` picks them); `renumber` spreads a page out again when
//! an insertion finds no room.

use diesel::prelude::*;

use crate::db::models::{AuthorKind, Block, BlockId, PageId};
use crate::db::schema::blocks;
use crate::db::Conn;

pub fn insert(conn: &mut Conn, rows: &[Block]) -> QueryResult<()> {
    // One statement per row: a multi-row insert of Selectable structs needs
    // backend-specific batching, and 100 rows in one transaction are cheap.
    for row in rows {
        diesel::insert_into(blocks::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn by_id(conn: &mut Conn, id: &BlockId) -> QueryResult<Option<Block>> {
    crate::db::native!(conn, |nc| {
        blocks::table
            .find(id)
            .select(Block::as_select())
            .first(nc)
            .optional()
    })
}

/// The page's live blocks in order.
pub fn live_of_page(conn: &mut Conn, page: &PageId) -> QueryResult<Vec<Block>> {
    crate::db::native!(conn, |nc| {
        blocks::table
            .filter(blocks::page_id.eq(page))
            .filter(blocks::in_trash.eq(false))
            .order((blocks::position.asc(), blocks::id.asc()))
            .select(Block::as_select())
            .load(nc)
    })
}

/// Up to `limit` live blocks of the page after `(position, id)` (all from
/// the start when `None`), in order: one page of `blocks.children.list`.
pub fn live_after(
    conn: &mut Conn,
    page: &PageId,
    after: Option<(i64, &str)>,
    limit: i64,
) -> QueryResult<Vec<Block>> {
    let mut q = blocks::table
        .filter(blocks::page_id.eq(page))
        .filter(blocks::in_trash.eq(false))
        .into_boxed();
    if let Some((pos, id)) = after {
        q = q.filter(
            blocks::position
                .gt(pos)
                .or(blocks::position.eq(pos).and(blocks::id.gt(id.to_string()))),
        );
    }
    q.order((blocks::position.asc(), blocks::id.asc()))
        .limit(limit)
        .select(Block::as_select())
        .load(conn)
}

/// Positions of every block of the page (trashed ones too, so a restored
/// block keeps its place), in order: `(id, position)`.
pub fn positions(conn: &mut Conn, page: &PageId) -> QueryResult<Vec<(BlockId, i64)>> {
    crate::db::native!(conn, |nc| {
        blocks::table
            .filter(blocks::page_id.eq(page))
            .order((blocks::position.asc(), blocks::id.asc()))
            .select((blocks::id, blocks::position))
            .load(nc)
    })
}

pub fn set_position(conn: &mut Conn, id: &BlockId, position: i64) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(blocks::table.find(id))
            .set(blocks::position.eq(position))
            .execute(nc)
    })
}

/// Who edited, and when.
pub struct Edit<'a> {
    pub at: i64,
    pub by: &'a str,
    pub by_kind: AuthorKind,
}

/// Replaces a block's content (its type stays).
pub fn update_content(
    conn: &mut Conn,
    id: &BlockId,
    rich_text: &str,
    plain_text: &str,
    checked: bool,
    language: Option<&str>,
    e: &Edit<'_>,
) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(blocks::table.find(id))
            .set((
                blocks::rich_text.eq(rich_text),
                blocks::plain_text.eq(plain_text),
                blocks::checked.eq(checked),
                blocks::language.eq(language),
                blocks::last_edited_at.eq(e.at),
                blocks::last_edited_by.eq(e.by),
                blocks::last_edited_by_kind.eq(e.by_kind),
            ))
            .execute(nc)
    })
}

pub fn set_trash(
    conn: &mut Conn,
    id: &BlockId,
    in_trash: bool,
    e: &Edit<'_>,
) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(blocks::table.find(id))
            .set((
                blocks::in_trash.eq(in_trash),
                blocks::last_edited_at.eq(e.at),
                blocks::last_edited_by.eq(e.by),
                blocks::last_edited_by_kind.eq(e.by_kind),
            ))
            .execute(nc)
    })
}
