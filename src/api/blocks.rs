//! The block endpoints (DESIGN §8): `GET|PATCH /v1/blocks/{id}/children`,
//! `GET|PATCH|DELETE /v1/blocks/{id}`. Every call goes through
//! `domain::reach` (capability first, then scope; S68): it reaches only
//! blocks of pages the connection's grant reaches, and a block of any other
//! page is `object_not_found`, exactly as if it did not exist.
//!
//! A page's children list its content blocks first, in order, then its
//! visible sub-pages as `child_page` blocks by creation (docs/decisions.md).
//! Request bodies are read by hand from JSON so that every refusal names
//! the path it is about, as Notion's `validation_error` does.

use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::bearer::{Bearer, Bot};
use super::pages::{iso, ok, open, page_size, seal, validation};
use crate::db::models::{ActivityOp, Block, BlockId, Page, PageId};
use crate::db::Conn;
use crate::domain::blocks::{self as blocks, Placement};
use crate::domain::content::{Annotations, BlockContent, BlockType, Span};
use crate::domain::reach::{self, BlockChange, Capability, Object, Refusal, Surface, Target};
use crate::error::{AppError, AppResult};
use crate::http::errors::{ApiCode, ApiError};
use crate::state::AppState;

/// Notion's limits, shared with every surface (`domain::reach`): characters
/// per text object, elements per rich-text array, blocks per append.
pub use crate::domain::reach::{MAX_BLOCKS as MAX_CHILDREN, MAX_RICH_TEXT, MAX_TEXT};

fn invalid(path: &str, what: &str) -> ApiError {
    validation(&format!("body failed validation: {path} {what}."))
}

fn parse_uuid(raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::try_parse(raw.trim())
        .map_err(|_| validation("path failed validation: the id should be a valid uuid."))
}

fn ids(raw: &str) -> Result<(BlockId, PageId), ApiError> {
    let u = parse_uuid(raw)?.hyphenated().to_string();
    match (BlockId::parse(&u), PageId::parse(&u)) {
        (Some(b), Some(p)) => Ok((b, p)),
        _ => Err(validation(
            "path failed validation: the id should be a valid uuid.",
        )),
    }
}

// ---------------------------------------------------------------- output

fn rich_text_json(spans: &[Span]) -> Value {
    Value::Array(
        spans
            .iter()
            .map(|s| {
                let a = s.annotations;
                json!({
                    "type": "text",
                    "text": {
                        "content": s.text,
                        "link": s.href.as_ref().map(|u| json!({ "url": u })),
                    },
                    "annotations": {
                        "bold": a.bold, "italic": a.italic, "strikethrough": a.strikethrough,
                        "underline": a.underline, "code": a.code, "color": "default",
                    },
                    "plain_text": s.text,
                    "href": s.href,
                })
            })
            .collect(),
    )
}

/// The `<type>` member of a block object.
fn type_payload(c: &BlockContent) -> Value {
    let rich = rich_text_json(&c.spans);
    match c.kind {
        BlockType::Divider => json!({}),
        BlockType::ToDo => json!({ "rich_text": rich, "checked": c.checked, "color": "default" }),
        BlockType::Code => json!({
            "rich_text": rich,
            "caption": [],
            "language": c.language.as_deref().unwrap_or("plain text"),
        }),
        BlockType::Heading1 | BlockType::Heading2 | BlockType::Heading3 => {
            json!({ "rich_text": rich, "color": "default", "is_toggleable": false })
        }
        _ => json!({ "rich_text": rich, "color": "default" }),
    }
}

/// A content block as Notion's block object.
pub fn block_json(b: &Block) -> AppResult<Value> {
    let c = blocks::content(b)?;
    let mut v = json!({
        "object": "block",
        "id": b.id,
        "parent": { "type": "page_id", "page_id": b.page_id },
        "created_time": iso(b.created_at),
        "last_edited_time": iso(b.last_edited_at),
        "created_by": { "object": "user", "id": b.created_by },
        "last_edited_by": { "object": "user", "id": b.last_edited_by },
        "has_children": false,
        "archived": b.in_trash,
        "in_trash": b.in_trash,
        "type": b.kind.as_str(),
    });
    if let Some(m) = v.as_object_mut() {
        m.insert(b.kind.as_str().to_string(), type_payload(&c));
    }
    Ok(v)
}

/// A page as a `child_page` block; `has_children` counts only what the
/// connection sees (its visible sub-pages, its live blocks).
fn child_page_json(c: &mut Conn, bot: &Bot, p: &Page, trashed: bool) -> AppResult<Value> {
    // A grant without `read_content` (one trashing the page) is told no
    // children rather than refused.
    let has_children = match reach::has_children(c, bot.grant(Surface::Api), &p.id) {
        Ok(has) => has,
        Err(AppError::Refused(_)) => false,
        Err(e) => return Err(e),
    };
    let parent = match &p.parent_id {
        Some(id) => json!({ "type": "page_id", "page_id": id }),
        None => json!({ "type": "workspace", "workspace": true }),
    };
    Ok(json!({
        "object": "block",
        "id": p.id,
        "parent": parent,
        "created_time": iso(p.created_at),
        "last_edited_time": iso(p.last_edited_at),
        "created_by": { "object": "user", "id": p.created_by },
        "last_edited_by": { "object": "user", "id": p.created_by },
        "has_children": has_children,
        "archived": trashed,
        "in_trash": trashed,
        "type": "child_page",
        "child_page": { "title": p.title },
    }))
}

fn list(results: Vec<Value>, has_more: bool, next: Option<String>) -> Value {
    json!({
        "object": "list",
        "results": results,
        "next_cursor": next,
        "has_more": has_more,
        "type": "block",
        "block": {},
    })
}

// ---------------------------------------------------------------- lookup

/// What an id names inside the grant, when it holds `capability`
/// (`reach::target`: capability first, then scope).
fn reach(
    c: &mut Conn,
    bot: &Bot,
    (block, page): &(BlockId, PageId),
    live_page: bool,
    capability: Capability,
) -> AppResult<Target> {
    reach::target(
        c,
        bot.grant(Surface::Api),
        capability,
        (block, page),
        live_page,
    )
}

// ---------------------------------------------------------------- input

fn type_list() -> String {
    BlockType::choices().replace(", ", "`, `")
}

/// The block type an element names: its `type`, or else its one
/// block-type member (the SDKs may leave `type` out).
fn block_type(o: &Map<String, Value>, path: &str) -> Result<BlockType, ApiError> {
    let named = match o.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(_) => return Err(invalid(&format!("{path}.type"), "should be a string")),
        None => match o
            .keys()
            .find(|k| !matches!(k.as_str(), "object" | "children" | "has_children"))
        {
            Some(k) => k.clone(),
            None => return Err(invalid(&format!("{path}.type"), "should be defined")),
        },
    };
    BlockType::parse(&named).ok_or_else(|| {
        invalid(
            &format!("{path}.type"),
            &format!(
                "should be one of `{}` (the block types pagegrant stores), instead was `{named}`",
                type_list()
            ),
        )
    })
}

/// One `rich_text` array; `path` names it.
pub fn parse_rich_text(v: &Value, path: &str) -> Result<Vec<Span>, ApiError> {
    let Value::Array(items) = v else {
        return Err(invalid(path, "should be an array"));
    };
    if items.len() > MAX_RICH_TEXT {
        return Err(invalid(
            &format!("{path}.length"),
            &format!(
                "should be ≤ `{MAX_RICH_TEXT}`, instead was `{}`",
                items.len()
            ),
        ));
    }
    let mut spans = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Value::Object(o) = item else {
            return Err(invalid(&p, "should be an object"));
        };
        match o.get("type") {
            None => {}
            Some(Value::String(t)) if t == "text" => {}
            Some(Value::String(t)) => {
                return Err(invalid(
                    &format!("{p}.type"),
                    &format!("should be `text` (the only rich text type pagegrant stores), instead was `{t}`"),
                ))
            }
            Some(_) => return Err(invalid(&format!("{p}.type"), "should be a string")),
        }
        let Some(Value::Object(text)) = o.get("text") else {
            return Err(invalid(&format!("{p}.text"), "should be an object"));
        };
        let Some(Value::String(content)) = text.get("content") else {
            return Err(invalid(&format!("{p}.text.content"), "should be a string"));
        };
        let n = content.chars().count();
        if n > MAX_TEXT {
            return Err(invalid(
                &format!("{p}.text.content.length"),
                &format!("should be ≤ `{MAX_TEXT}`, instead was `{n}`"),
            ));
        }
        let href = match text.get("link") {
            None | Some(Value::Null) => None,
            Some(Value::Object(l)) => match l.get("url") {
                Some(Value::String(u)) => Some(link_url(u, &format!("{p}.text.link.url"))?),
                _ => return Err(invalid(&format!("{p}.text.link.url"), "should be a string")),
            },
            Some(_) => {
                return Err(invalid(
                    &format!("{p}.text.link"),
                    "should be an object or `null`",
                ))
            }
        };
        let annotations = match o.get("annotations") {
            None | Some(Value::Null) => Annotations::default(),
            Some(a @ Value::Object(m)) => {
                if let Some(c) = m.get("color") {
                    if !c.is_string() {
                        return Err(invalid(
                            &format!("{p}.annotations.color"),
                            "should be a string",
                        ));
                    }
                }
                serde_json::from_value::<Annotations>(a.clone()).map_err(|_| {
                    invalid(
                        &format!("{p}.annotations"),
                        "should have boolean bold, italic, strikethrough, underline and code",
                    )
                })?
            }
            Some(_) => return Err(invalid(&format!("{p}.annotations"), "should be an object")),
        };
        spans.push(Span {
            text: content.clone(),
            annotations,
            href,
        });
    }
    Ok(spans)
}

/// A link target: an absolute http(s) or mailto URL of at most 2,000
/// characters. Other schemes (`javascript:`, `data:`) would run in the page
/// view, so they are refused here.
fn link_url(u: &str, path: &str) -> Result<String, ApiError> {
    if u.chars().count() > MAX_TEXT {
        return Err(invalid(
            &format!("{path}.length"),
            &format!("should be ≤ `{MAX_TEXT}`"),
        ));
    }
    match url::Url::parse(u) {
        Ok(url) if matches!(url.scheme(), "http" | "https" | "mailto") => Ok(u.to_string()),
        _ => Err(invalid(path, "should be an http, https or mailto URL")),
    }
}

/// What a request says about a block's content: every member optional
/// (an update names only what changes).
struct Given {
    spans: Option<Vec<Span>>,
    checked: Option<bool>,
    language: Option<String>,
}

fn parse_payload(kind: BlockType, v: Option<&Value>, path: &str) -> Result<Given, ApiError> {
    let mut g = Given {
        spans: None,
        checked: None,
        language: None,
    };
    let o = match v {
        None => return Ok(g),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(invalid(path, "should be an object")),
    };
    for (k, val) in o {
        let p = format!("{path}.{k}");
        match (k.as_str(), kind) {
            ("rich_text", k) if k.has_text() => g.spans = Some(parse_rich_text(val, &p)?),
            ("color", _) => {
                if !val.is_string() {
                    return Err(invalid(&p, "should be a string"));
                }
            }
            ("checked", BlockType::ToDo) => match val {
                Value::Bool(b) => g.checked = Some(*b),
                _ => return Err(invalid(&p, "should be a boolean")),
            },
            ("language", BlockType::Code) => match val {
                Value::String(l) if !l.is_empty() && l.chars().count() <= 100 => {
                    g.language = Some(l.clone())
                }
                _ => return Err(invalid(&p, "should be a string of 1 to 100 characters")),
            },
            ("caption", BlockType::Code) => match val {
                Value::Array(a) if a.is_empty() => {}
                _ => return Err(invalid(&p, "should be empty: pagegrant keeps no captions")),
            },
            ("is_toggleable", BlockType::Heading1 | BlockType::Heading2 | BlockType::Heading3) => {
                if val != &Value::Bool(false) {
                    return Err(invalid(
                        &p,
                        "should be `false`: pagegrant has no toggle headings",
                    ));
                }
            }
            ("children", _) => {
                return Err(invalid(
                    &p,
                    "should not be present: these block types have no children",
                ))
            }
            _ => {
                return Err(invalid(
                    &p,
                    &format!("is not a property of a `{}` block", kind.as_str()),
                ))
            }
        }
    }
    Ok(g)
}

/// One element of `children`.
fn parse_child(v: &Value, path: &str) -> Result<BlockContent, ApiError> {
    let Value::Object(o) = v else {
        return Err(invalid(path, "should be an object"));
    };
    if let Some(obj) = o.get("object") {
        if obj != "block" {
            return Err(invalid(&format!("{path}.object"), "should be `block`"));
        }
    }
    let kind = block_type(o, path)?;
    for k in o.keys() {
        if !matches!(k.as_str(), "object" | "type") && k != kind.as_str() {
            return Err(invalid(
                &format!("{path}.{k}"),
                &format!("should not be present in a `{}` block", kind.as_str()),
            ));
        }
    }
    let p = format!("{path}.{}", kind.as_str());
    let payload = o.get(kind.as_str());
    if kind.has_text() && payload.is_none() {
        return Err(invalid(&p, "should be defined"));
    }
    let g = parse_payload(kind, payload, &p)?;
    if kind.has_text() && g.spans.is_none() {
        return Err(invalid(&format!("{p}.rich_text"), "should be defined"));
    }
    Ok(BlockContent {
        kind,
        spans: g.spans.unwrap_or_default(),
        checked: g.checked.unwrap_or(false),
        language: g.language,
    })
}

struct AppendRequest {
    children: Vec<BlockContent>,
    /// Where, with the anchor block's id unverified yet.
    place: Placement,
}

fn json_body(raw: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(invalid("body", "should be an object")),
        Err(_) => Err(ApiError::new(
            ApiCode::InvalidJson,
            "Error parsing JSON body.",
        )),
    }
}

fn anchor_id(v: &Value, path: &str) -> Result<BlockId, ApiError> {
    v.as_str()
        .and_then(BlockId::parse)
        .ok_or_else(|| invalid(path, "should be a valid uuid"))
}

fn parse_append(raw: &[u8]) -> Result<AppendRequest, ApiError> {
    let o = json_body(raw)?;
    for k in o.keys() {
        if !matches!(k.as_str(), "children" | "after" | "position") {
            return Err(invalid(&format!("body.{k}"), "is not a known property"));
        }
    }
    let Some(Value::Array(items)) = o.get("children") else {
        return Err(invalid("body.children", "should be an array"));
    };
    if items.len() > MAX_CHILDREN {
        return Err(invalid(
            "body.children.length",
            &format!(
                "should be ≤ `{MAX_CHILDREN}`, instead was `{}`",
                items.len()
            ),
        ));
    }
    let children = items
        .iter()
        .enumerate()
        .map(|(i, v)| parse_child(v, &format!("body.children[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let after = match o.get("after") {
        None | Some(Value::Null) => None,
        Some(v) => Some(anchor_id(v, "body.after")?),
    };
    let position = match o.get("position") {
        None | Some(Value::Null) => None,
        Some(Value::Object(p)) => Some(match p.get("type").and_then(Value::as_str) {
            Some("end") => Placement::End,
            Some("start") => Placement::Start,
            Some("after_block") => match p.get("after_block") {
                Some(Value::Object(a)) => Placement::After(anchor_id(
                    a.get("id").unwrap_or(&Value::Null),
                    "body.position.after_block.id",
                )?),
                _ => {
                    return Err(invalid(
                        "body.position.after_block",
                        "should be an object with an `id`",
                    ))
                }
            },
            _ => {
                return Err(invalid(
                    "body.position.type",
                    "should be `end`, `start` or `after_block`",
                ))
            }
        }),
        Some(_) => return Err(invalid("body.position", "should be an object")),
    };
    let place = match (after, position) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "body.after",
                "should not be given together with body.position",
            ))
        }
        (Some(a), None) => Placement::After(a),
        (None, Some(p)) => p,
        (None, None) => Placement::End,
    };
    Ok(AppendRequest { children, place })
}

/// `PATCH /v1/blocks/{id}`: new content of the block's own type, and/or
/// a trash flag.
struct UpdateRequest {
    given: Option<Given>,
    in_trash: Option<bool>,
}

fn parse_update(raw: &[u8], kind: BlockType) -> Result<UpdateRequest, ApiError> {
    let o = json_body(raw)?;
    let mut req = UpdateRequest {
        given: None,
        in_trash: None,
    };
    for (k, v) in &o {
        let p = format!("body.{k}");
        match k.as_str() {
            "in_trash" | "archived" => match v {
                Value::Bool(b) => {
                    if req.in_trash.is_some_and(|t| t != *b) {
                        return Err(invalid(&p, "contradicts body.in_trash"));
                    }
                    req.in_trash = Some(*b);
                }
                _ => return Err(invalid(&p, "should be a boolean")),
            },
            "type" => {
                if v.as_str() != Some(kind.as_str()) {
                    return Err(invalid(
                        &p,
                        &format!("should be `{}`: a block keeps its type", kind.as_str()),
                    ));
                }
            }
            key if key == kind.as_str() => req.given = Some(parse_payload(kind, Some(v), &p)?),
            _ => {
                return Err(invalid(
                    &p,
                    &format!(
                        "is not a property of a `{}` block (a block keeps its type)",
                        kind.as_str()
                    ),
                ))
            }
        }
    }
    Ok(req)
}

// ---------------------------------------------------------------- handlers

#[derive(Deserialize)]
pub struct ChildrenQuery {
    start_cursor: Option<String>,
    page_size: Option<i64>,
}

/// `GET /v1/blocks/{id}/children`: the page's blocks, then its sub-pages.
/// The cursor holds where the last page ended: `b:<block>` with its
/// position, or `p:<page>` with its creation time.
pub async fn get_block_children(
    state: web::Data<AppState>,
    bearer: Bearer,
    path: web::Path<String>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    // The query is judged after the token, as the path is.
    let (path, q) = (path.into_inner(), children_query(req.query_string()));
    let st = state.clone();
    let out = bearer
        .run(move |c, bot| {
            let (id, q) = (ids(&path)?, q?);
            let size = page_size(q.page_size)?;
            let kind = format!("children:{}", id.1);
            let after = match &q.start_cursor {
                Some(cur) => Some(open(
                    &st.secret_box,
                    bot.connection.id.as_str(),
                    &kind,
                    cur,
                )?),
                None => None,
            };
            children_list(c, &st, bot, &id, after, size, &kind)
        })
        .await?;
    Ok(ok(out))
}

/// `?start_cursor=…&page_size=…`, refused as the query extractor would.
fn children_query(raw: &str) -> Result<ChildrenQuery, ApiError> {
    web::Query::<ChildrenQuery>::from_query(raw)
        .map(web::Query::into_inner)
        .map_err(|e| validation(&format!("query failed validation: {e}")))
}

/// A page's blocks, then its sub-pages, after the cursor's position (a
/// read of the page in the connection's activity); a block's children
/// (none for these types) are an empty list.
fn children_list(
    c: &mut Conn,
    st: &AppState,
    bot: &Bot,
    id: &(BlockId, PageId),
    after: Option<(i64, String)>,
    size: i64,
    kind: &str,
) -> Result<Value, ApiError> {
    let page = match reach(c, bot, id, true, Capability::ReadContent)? {
        // Blocks of these types have no children.
        Target::Block(_) => return Ok(list(Vec::new(), false, None)),
        Target::Page(p) => p.page,
    };
    let (cid, g) = (&bot.connection.id, bot.grant(Surface::Api));
    let (block_after, page_after) = match &after {
        None => (None, None),
        Some((t, i)) => match (i.strip_prefix("b:"), i.strip_prefix("p:")) {
            (Some(b), _) => (Some((*t, b.to_string())), None),
            (_, Some(p)) => (None, Some((*t, p.to_string()))),
            _ => {
                return Err(validation(
                    "start_cursor is not a valid cursor for this request.",
                ))
            }
        },
    };
    let mut results = Vec::new();
    let mut last: Option<(i64, String)> = None;
    let mut has_more = false;
    if page_after.is_none() {
        let after = block_after.as_ref().map(|(t, i)| (*t, i.as_str()));
        let rows = reach::blocks_after(c, g, &page.id, after, size + 1)?;
        has_more = rows.len() as i64 > size;
        for b in rows.iter().take(size as usize) {
            results.push(block_json(b)?);
            last = Some((b.position, format!("b:{}", b.id)));
        }
    }
    let room = size - results.len() as i64;
    if !has_more {
        // Sub-pages follow the content; with no room left, one row
        // tells whether there is more.
        let rows = reach::children(c, g, &page.id, page_after, room + 1)?;
        has_more = rows.len() as i64 > room;
        for p in rows.iter().take(room as usize) {
            results.push(child_page_json(c, bot, p, false)?);
            last = Some((p.created_at, format!("p:{}", p.id)));
        }
    }
    let next = match (has_more, last) {
        (true, Some((t, i))) => Some(seal(&st.secret_box, cid.as_str(), kind, t, &i)?),
        _ => None,
    };
    st.activity
        .read(cid, &page.id, ActivityOp::ApiGetBlockChildren);
    Ok(list(results, has_more, next))
}

/// `PATCH /v1/blocks/{id}/children`: appends to a page (`insert_content`).
pub async fn patch_block_children(
    bearer: Bearer,
    path: web::Path<String>,
    raw: Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = ids(&path);
    let req = parse_append(&raw);
    let out = bearer
        .run(move |c, bot| -> Result<Value, ApiError> {
            let page = match reach(c, bot, &id?, true, Capability::InsertContent)? {
                Target::Block(b) => {
                    return Err(validation(&format!(
                        "Block {} of type `{}` does not support children.",
                        b.id,
                        b.kind.as_str()
                    )))
                }
                Target::Page(p) => p.page,
            };
            let req = req?;
            let g = bot.grant(Surface::Api);
            let (_, rows) = reach::append_blocks(c, g, &page.id, &req.children, &req.place)?;
            let results = rows.iter().map(block_json).collect::<AppResult<Vec<_>>>()?;
            Ok(list(results, false, None))
        })
        .await?;
    Ok(ok(out))
}

/// `GET /v1/blocks/{id}`: a block, or a page as a `child_page` block.
pub async fn get_block(
    state: web::Data<AppState>,
    bearer: Bearer,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ids(&path);
    let (out, page, cid) = bearer
        .run(move |c, bot| -> Result<_, ApiError> {
            let cid = bot.connection.id.clone();
            Ok(match reach(c, bot, &id?, false, Capability::ReadContent)? {
                Target::Block(b) => (block_json(&b)?, b.page_id, cid),
                Target::Page(p) => (child_page_json(c, bot, &p.page, p.trashed)?, p.page.id, cid),
            })
        })
        .await?;
    state.activity.read(&cid, &page, ActivityOp::ApiGetBlock);
    Ok(ok(out))
}

/// `PATCH /v1/blocks/{id}` (`update_content`): new text, checked state or
/// language, and/or the trash flag. A trashed block takes only a restore.
/// A page id here may only be trashed or restored (its title is
/// `PATCH /v1/pages/{id}`).
pub async fn patch_block(
    bearer: Bearer,
    path: web::Path<String>,
    raw: Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = ids(&path);
    let out = bearer
        .run(move |c, bot| -> Result<Value, ApiError> {
            match reach(c, bot, &id?, false, Capability::UpdateContent)? {
                Target::Block(b) => {
                    let req = parse_update(&raw, b.kind)?;
                    Ok(update_block(c, bot, b, req)?)
                }
                Target::Page(p) => {
                    let trash = page_trash(&raw)?;
                    Ok(trash_page(
                        c,
                        bot,
                        &p.page.id,
                        trash,
                        ActivityOp::ApiPatchBlock,
                    )?)
                }
            }
        })
        .await?;
    Ok(ok(out))
}

/// What `PATCH /v1/blocks/{page id}` may change of a page: its trash state.
fn page_trash(raw: &[u8]) -> Result<Option<bool>, ApiError> {
    let mut trash = None;
    for (k, v) in &json_body(raw)? {
        match (k.as_str(), v) {
            ("in_trash" | "archived", Value::Bool(b)) => trash = Some(*b),
            _ => {
                return Err(invalid(
                    &format!("body.{k}"),
                    "is not supported for a page here: use PATCH /v1/pages/{id}",
                ))
            }
        }
    }
    Ok(trash)
}

fn update_block(c: &mut Conn, bot: &Bot, b: Block, req: UpdateRequest) -> AppResult<Value> {
    // Only what the request names changes; the rest is the stored block's.
    let content = match req.given {
        Some(g) => {
            let old = blocks::content(&b)?;
            Some(BlockContent {
                kind: b.kind,
                spans: g.spans.unwrap_or(old.spans),
                checked: g.checked.unwrap_or(old.checked),
                language: g.language.or(old.language),
            })
        }
        None => None,
    };
    let change = BlockChange {
        content,
        in_trash: req.in_trash,
    };
    update_block_row(c, bot, &b, change, ActivityOp::ApiPatchBlock)
}

/// Trashes or restores a page through the block endpoints (an update of
/// the page, as `PATCH /v1/pages/{id}`).
fn trash_page(
    c: &mut Conn,
    bot: &Bot,
    id: &PageId,
    trash: Option<bool>,
    op: ActivityOp,
) -> AppResult<Value> {
    let g = bot.grant(Surface::Api).doing(op);
    let p = match trash {
        Some(_) => reach::update_page(c, g, id, None, trash)?,
        None => reach::page(c, g, id)?,
    };
    child_page_json(c, bot, &p.page, p.trashed)
}

/// `DELETE /v1/blocks/{id}` (`update_content`): to the trash; a page id
/// trashes the page. Returns the object with `in_trash: true`.
pub async fn delete_block(
    bearer: Bearer,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ids(&path);
    let out = bearer
        .run(move |c, bot| -> Result<Value, ApiError> {
            Ok(
                match reach(c, bot, &id?, false, Capability::UpdateContent)? {
                    Target::Block(b) => {
                        let change = BlockChange {
                            content: None,
                            in_trash: Some(true),
                        };
                        update_block_row(c, bot, &b, change, ActivityOp::ApiDeleteBlock)?
                    }
                    Target::Page(p) if p.trashed => {
                        return Err(AppError::from(Refusal::NotFound(Object::Page)).into())
                    }
                    Target::Page(p) => {
                        trash_page(c, bot, &p.page.id, Some(true), ActivityOp::ApiDeleteBlock)?
                    }
                },
            )
        })
        .await?;
    Ok(ok(out))
}

fn update_block_row(
    c: &mut Conn,
    bot: &Bot,
    b: &Block,
    change: BlockChange,
    op: ActivityOp,
) -> AppResult<Value> {
    block_json(&reach::update_block(
        c,
        bot.grant(Surface::Api).doing(op),
        &b.id,
        change,
    )?)
}
