//! A page's content blocks (DESIGN §8): storage order, appending, inserting
//! after a block, editing and trashing. No authorization here: callers (the
//! API, the CLI, the page view, MCP) check the grant or membership first.
//!
//! Order is an integer `position` with gaps of `GAP`: appending takes the
//! next step, inserting takes evenly spaced points inside the gap after the
//! anchor; when the gap is too narrow the page is renumbered first (rare:
//! only after ~16 insertions at the same place).

use crate::db::models::{now, AuthorKind, Block, BlockId, PageId};
use crate::db::queries::blocks::{self as q, Edit};
use crate::db::queries::pages;
use crate::db::{self, Conn};
use crate::domain::content::{Author, BlockContent, BlockType, Span};
use crate::error::{AppError, AppResult};

/// Distance between neighbouring positions after an append or a renumbering.
const GAP: i64 = 1 << 16;

/// Where new blocks go among the page's blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Start,
    End,
    /// Right after this block of the same page (live or trashed).
    After(BlockId),
}

/// The page's live (not trashed) content blocks, in order.
pub fn content_of(conn: &mut Conn, page: &PageId) -> AppResult<Vec<BlockContent>> {
    q::live_of_page(conn, page)?.iter().map(content).collect()
}

/// Appends blocks at the end of the page's content, written by `by`; returns their ids in order.
pub fn append(
    conn: &mut Conn,
    page: &PageId,
    by: &Author,
    content: &[BlockContent],
) -> AppResult<Vec<BlockId>> {
    Ok(insert(conn, page, by, content, &Placement::End)?
        .into_iter()
        .map(|b| b.id)
        .collect())
}

/// Inserts blocks at `place` in one transaction, marks the page edited, and
/// returns the new rows in order. An `After` block of another page is
/// `Invalid`.
pub fn insert(
    conn: &mut Conn,
    page: &PageId,
    by: &Author,
    content: &[BlockContent],
    place: &Placement,
) -> AppResult<Vec<Block>> {
    if content.is_empty() {
        return Ok(Vec::new());
    }
    let (by_id, by_kind) = author(by);
    db::write_tx(conn, |conn| {
        let positions = free_positions(conn, page, place, content.len())?;
        let t = now();
        let rows = content
            .iter()
            .zip(positions)
            .map(|(c, position)| {
                let c = normalized(c);
                Ok(Block {
                    id: BlockId::new(),
                    page_id: page.clone(),
                    position,
                    kind: c.kind,
                    rich_text: spans_json(&c.spans)?,
                    plain_text: c.plain_text(),
                    checked: c.checked,
                    language: c.language.clone(),
                    created_at: t,
                    created_by: by_id.to_string(),
                    created_by_kind: by_kind,
                    last_edited_at: t,
                    last_edited_by: by_id.to_string(),
                    last_edited_by_kind: by_kind,
                    in_trash: false,
                })
            })
            .collect::<AppResult<Vec<Block>>>()?;
        q::insert(conn, &rows)?;
        pages::touch(conn, page, t)?;
        Ok(rows)
    })
}

/// `n` increasing positions at `place`, renumbering the page first when
/// the gap there is too narrow.
fn free_positions(
    conn: &mut Conn,
    page: &PageId,
    place: &Placement,
    n: usize,
) -> AppResult<Vec<i64>> {
    let count = i64::try_from(n).map_err(|_| AppError::invalid("too many blocks"))?;
    for attempt in 0..2 {
        let all = q::positions(conn, page)?;
        // The bounds of the gap: after `lo` (None: before everything) and
        // before `hi` (None: after everything).
        let (lo, hi) = match place {
            Placement::End => (all.last().map(|(_, p)| *p), None),
            Placement::Start => (None, all.first().map(|(_, p)| *p)),
            Placement::After(anchor) => {
                let Some(i) = all.iter().position(|(id, _)| id == anchor) else {
                    return Err(AppError::invalid(format!(
                        "block {anchor} is not a block of page {page}"
                    )));
                };
                (Some(all[i].1), all.get(i + 1).map(|(_, p)| *p))
            }
        };
        match (lo, hi) {
            (lo, None) => {
                let base = lo.unwrap_or(0);
                return Ok((1..=count).map(|k| base + k * GAP).collect());
            }
            (None, Some(hi)) => return Ok((0..count).map(|k| hi - (count - k) * GAP).collect()),
            (Some(lo), Some(hi)) => {
                let step = (hi - lo) / (count + 1);
                if step >= 1 {
                    return Ok((1..=count).map(|k| lo + k * step).collect());
                }
                if attempt == 0 {
                    renumber(conn, &all)?;
                }
            }
        }
    }
    Err(AppError::internal(
        "no room between blocks after renumbering",
    ))
}

/// Spreads the page's blocks `GAP` apart, keeping their order. With the gap
/// left after the anchor afterwards (`GAP`), up to 65,535 blocks fit.
fn renumber(conn: &mut Conn, all: &[(BlockId, i64)]) -> AppResult<()> {
    for (k, (id, _)) in all.iter().enumerate() {
        let k = i64::try_from(k).map_err(|_| AppError::internal("too many blocks"))?;
        q::set_position(conn, id, (k + 1) * GAP)?;
    }
    Ok(())
}

/// One block, live or trashed.
pub fn get(conn: &mut Conn, id: &BlockId) -> AppResult<Option<Block>> {
    Ok(q::by_id(conn, id)?)
}

/// Replaces a block's text, checked state and language (its type stays),
/// and marks it and its page edited. Returns the updated row.
pub fn update(conn: &mut Conn, block: &Block, by: &Author, new: &BlockContent) -> AppResult<Block> {
    let (by_id, by_kind) = author(by);
    let c = normalized(&BlockContent {
        kind: block.kind,
        ..new.clone()
    });
    let t = now();
    let json = spans_json(&c.spans)?;
    db::write_tx(conn, |conn| {
        q::update_content(
            conn,
            &block.id,
            &json,
            &c.plain_text(),
            c.checked,
            c.language.as_deref(),
            &Edit {
                at: t,
                by: by_id,
                by_kind,
            },
        )?;
        pages::touch(conn, &block.page_id, t)?;
        q::by_id(conn, &block.id)?.ok_or(AppError::NotFound)
    })
}

/// Moves a block to the trash (or back), marking it and its page edited.
pub fn set_trash(conn: &mut Conn, block: &Block, by: &Author, in_trash: bool) -> AppResult<Block> {
    let (by_id, by_kind) = author(by);
    let t = now();
    db::write_tx(conn, |conn| {
        q::set_trash(
            conn,
            &block.id,
            in_trash,
            &Edit {
                at: t,
                by: by_id,
                by_kind,
            },
        )?;
        pages::touch(conn, &block.page_id, t)?;
        q::by_id(conn, &block.id)?.ok_or(AppError::NotFound)
    })
}

/// A stored block's content.
pub fn content(b: &Block) -> AppResult<BlockContent> {
    let spans: Vec<Span> = serde_json::from_str(&b.rich_text)
        .map_err(|e| AppError::internal(format!("block {}: stored rich_text: {e}", b.id)))?;
    Ok(BlockContent {
        kind: b.kind,
        spans,
        checked: b.checked,
        language: b.language.clone(),
    })
}

/// Who wrote a stored block, as an `Author`; only the unit tests read an
/// author back this way.
#[cfg(test)]
fn author_of(id: &str, kind: AuthorKind) -> Option<Author> {
    match kind {
        AuthorKind::User => crate::db::models::UserId::parse(id).map(Author::User),
        AuthorKind::Bot => crate::db::models::BotId::parse(id).map(Author::Bot),
    }
}

fn author(by: &Author) -> (&str, AuthorKind) {
    match by {
        Author::User(u) => (u.as_str(), AuthorKind::User),
        Author::Bot(b) => (b.as_str(), AuthorKind::Bot),
    }
}

/// Drops what a type does not carry: a divider has no text, only a to-do
/// is checked, only code has a language; empty spans are dropped.
fn normalized(c: &BlockContent) -> BlockContent {
    BlockContent {
        kind: c.kind,
        spans: if c.kind.has_text() {
            c.spans
                .iter()
                .filter(|s| !s.text.is_empty())
                .cloned()
                .collect()
        } else {
            Vec::new()
        },
        checked: c.kind == BlockType::ToDo && c.checked,
        language: if c.kind == BlockType::Code {
            c.language.clone()
        } else {
            None
        },
    }
}

fn spans_json(spans: &[Span]) -> AppResult<String> {
    serde_json::to_string(spans).map_err(|e| AppError::internal(format!("rich_text: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::models::{Plan, UserId};
    use crate::domain::content::Annotations;
    use crate::domain::{accounts, workspaces};

    fn setup() -> (Conn, PageId, UserId) {
        let mut c = db::connect(":memory:").unwrap();
        db::migrate(&mut c).unwrap();
        let u =
            accounts::create_user(&mut c, "a@example.com", "A", "correct horse battery").unwrap();
        let ws = workspaces::create_workspace(&mut c, "W", &u, Plan::Free).unwrap();
        let p = workspaces::add_page(
            &mut c,
            workspaces::NewPage {
                workspace: &ws,
                title: "P",
                parent: None,
                private: false,
                creator: &u,
            },
        )
        .unwrap();
        (c, p.id, u.id)
    }

    fn para(t: &str) -> BlockContent {
        BlockContent::new(BlockType::Paragraph, vec![Span::plain(t)])
    }

    fn texts(c: &mut Conn, p: &PageId) -> Vec<String> {
        content_of(c, p)
            .unwrap()
            .iter()
            .map(|b| b.plain_text())
            .collect()
    }

    #[test]
    fn append_keeps_order_and_content() {
        let (mut c, p, u) = setup();
        let mut todo = BlockContent::new(BlockType::ToDo, vec![Span::plain("ship")]);
        todo.checked = true;
        let mut code = BlockContent::new(BlockType::Code, vec![Span::plain("fn main() {}")]);
        code.language = Some("rust".into());
        let bold = BlockContent::new(
            BlockType::Heading1,
            vec![
                Span {
                    text: "Big".into(),
                    annotations: Annotations {
                        bold: true,
                        ..Annotations::default()
                    },
                    href: Some("https://example.com/".into()),
                },
                Span::plain(" plan"),
            ],
        );
        let all = vec![
            bold.clone(),
            todo.clone(),
            code.clone(),
            BlockContent::new(BlockType::Divider, vec![]),
        ];
        let ids = append(&mut c, &p, &Author::User(u.clone()), &all).unwrap();
        assert_eq!(ids.len(), 4);
        let more = append(&mut c, &p, &Author::User(u), &[para("last")]).unwrap();
        assert_eq!(more.len(), 1);
        let got = content_of(&mut c, &p).unwrap();
        assert_eq!(got[..4], all[..]);
        assert_eq!(got[4].plain_text(), "last");
    }

    #[test]
    fn insert_after_start_and_renumber() {
        let (mut c, p, u) = setup();
        let by = Author::Bot(crate::db::models::BotId::new());
        let ids = append(&mut c, &p, &by, &[para("a"), para("z")]).unwrap();
        // 40 insertions right after "a" exhaust the gap and force renumbering.
        for k in (0..40).rev() {
            insert(
                &mut c,
                &p,
                &by,
                &[para(&format!("m{k:02}"))],
                &Placement::After(ids[0].clone()),
            )
            .unwrap();
        }
        insert(
            &mut c,
            &p,
            &Author::User(u),
            &[para("first")],
            &Placement::Start,
        )
        .unwrap();
        let got = texts(&mut c, &p);
        let mut want = vec!["first".to_string(), "a".to_string()];
        want.extend((0..40).map(|k| format!("m{k:02}")));
        want.push("z".into());
        assert_eq!(got, want);
    }

    #[test]
    fn after_a_block_of_another_page_is_refused() {
        let (mut c, p, u) = setup();
        let by = Author::User(u);
        let other = BlockId::new();
        let e = insert(&mut c, &p, &by, &[para("x")], &Placement::After(other)).unwrap_err();
        assert!(matches!(e, AppError::Invalid(_)));
    }

    #[test]
    fn update_and_trash() {
        let (mut c, p, u) = setup();
        let by = Author::User(u);
        let ids = append(&mut c, &p, &by, &[para("one"), para("two")]).unwrap();
        let b = get(&mut c, &ids[0]).unwrap().unwrap();
        let bot = Author::Bot(crate::db::models::BotId::new());
        let b = update(&mut c, &b, &bot, &para("uno")).unwrap();
        assert_eq!(b.plain_text, "uno");
        assert_eq!(b.last_edited_by_kind, AuthorKind::Bot);
        assert_eq!(
            author_of(&b.last_edited_by, b.last_edited_by_kind),
            Some(bot.clone())
        );
        assert_eq!(texts(&mut c, &p), vec!["uno", "two"]);
        let b = set_trash(&mut c, &b, &bot, true).unwrap();
        assert!(b.in_trash);
        assert_eq!(texts(&mut c, &p), vec!["two"]);
    }
}
