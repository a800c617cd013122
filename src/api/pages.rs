//! `POST /v1/search`, `GET|PATCH /v1/pages/{id}`, `POST /v1/pages`: only
//! what the connection's grant reaches, through `domain::reach` (capability
//! first, then scope; S68). Reach's refusals are `AppError::Refused`, which
//! `ApiError` words in Notion's terms for every `/v1` endpoint: a missing
//! capability is `restricted_resource`, a page outside the grant
//! `object_not_found`, exactly as if it did not exist.

use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::bearer::{ApiVersion, Bearer, Bot};
use crate::crypto::SecretBox;
use crate::db::models::{ActivityOp, Page, PageId};
use crate::db::Conn;
use crate::domain::reach::{self, Capability, SearchArgs, SearchHit, Surface};
use crate::error::{AppError, AppResult};
use crate::http::errors::{ApiCode, ApiError};
use crate::state::AppState;

pub const MAX_PAGE_SIZE: i64 = 100;

pub(super) fn validation(m: &str) -> ApiError {
    ApiError::new(ApiCode::ValidationError, m)
}

pub fn ok(body: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("x-notion-request-id", crate::crypto::new_uuid()))
        .json(body)
}

/// Parses a JSON body: not JSON is `invalid_json`, the wrong shape is
/// `validation_error` with serde's (safe, field-naming) message.
pub(super) fn body<T: serde::de::DeserializeOwned + Default>(raw: &[u8]) -> Result<T, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let v: Value = serde_json::from_slice(raw)
        .map_err(|_| ApiError::new(ApiCode::InvalidJson, "Error parsing JSON body."))?;
    serde_json::from_value(v).map_err(|e| validation(&format!("body failed validation: {e}")))
}

pub(crate) fn iso(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map(|s| s.replace('Z', ".000Z"))
        .unwrap_or_default()
}

/// A title as Notion's rich text: one plain text span.
#[derive(Serialize)]
struct OutRichText<'a> {
    r#type: &'static str,
    text: OutTextContent<'a>,
    annotations: Plain,
    plain_text: &'a str,
    href: Option<()>,
}

#[derive(Serialize)]
struct OutTextContent<'a> {
    content: &'a str,
    link: Option<()>,
}

#[derive(Serialize)]
struct Plain {
    bold: bool,
    italic: bool,
    strikethrough: bool,
    underline: bool,
    code: bool,
    color: &'static str,
}

const PLAIN: Plain = Plain {
    bold: false,
    italic: false,
    strikethrough: false,
    underline: false,
    code: false,
    color: "default",
};

#[derive(Serialize, Clone, Copy)]
struct UserRef<'a> {
    object: &'static str,
    id: &'a crate::db::models::UserId,
}

#[derive(Serialize)]
struct Parent<'a> {
    r#type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_id: Option<&'a PageId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    workspace: Option<bool>,
}

#[derive(Serialize)]
struct TitleProperty<'a> {
    id: &'static str,
    r#type: &'static str,
    title: [OutRichText<'a>; 1],
}

#[derive(Serialize)]
struct Properties<'a> {
    title: TitleProperty<'a>,
}

/// The page object of DESIGN §4, serialised straight into the response: a
/// search lists up to 100 of them, and building each as a `Value` tree was
/// most of search's allocations.
#[derive(Serialize)]
pub struct PageObject<'a> {
    object: &'static str,
    id: &'a PageId,
    created_time: String,
    last_edited_time: String,
    created_by: UserRef<'a>,
    last_edited_by: UserRef<'a>,
    cover: Option<()>,
    icon: Option<()>,
    parent: Parent<'a>,
    archived: bool,
    in_trash: bool,
    properties: Properties<'a>,
    url: String,
    public_url: Option<()>,
}

impl<'a> PageObject<'a> {
    pub fn new(issuer: &str, p: &'a Page, trashed: bool) -> PageObject<'a> {
        let parent = match &p.parent_id {
            Some(id) => Parent {
                r#type: "page_id",
                page_id: Some(id),
                workspace: None,
            },
            None => Parent {
                r#type: "workspace",
                page_id: None,
                workspace: Some(true),
            },
        };
        let by = UserRef {
            object: "user",
            id: &p.created_by,
        };
        PageObject {
            object: "page",
            id: &p.id,
            created_time: iso(p.created_at),
            last_edited_time: iso(p.last_edited_at),
            created_by: by,
            last_edited_by: by,
            cover: None,
            icon: None,
            parent,
            archived: trashed,
            in_trash: trashed,
            properties: Properties {
                title: TitleProperty {
                    id: "title",
                    r#type: "title",
                    title: [OutRichText {
                        r#type: "text",
                        text: OutTextContent {
                            content: &p.title,
                            link: None,
                        },
                        annotations: PLAIN,
                        plain_text: &p.title,
                        href: None,
                    }],
                },
            },
            url: format!("{issuer}/w/{}/p/{}", p.workspace_id, p.id),
            public_url: None,
        }
    }
}

/// The page object of DESIGN §4, as a `Value`.
pub fn page_object(issuer: &str, p: &Page, trashed: bool) -> Value {
    serde_json::to_value(PageObject::new(issuer, p, trashed)).unwrap_or(Value::Null)
}

/// A page of search results, serialised without an intermediate `Value`.
struct SearchList {
    issuer: String,
    pages: Vec<Page>,
    next_cursor: Option<String>,
    has_more: bool,
    list_type: &'static str,
}

struct Results<'a>(&'a SearchList);

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let l = self.0;
        s.collect_seq(l.pages.iter().map(|p| PageObject::new(&l.issuer, p, false)))
    }
}

impl Serialize for SearchList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("object", "list")?;
        m.serialize_entry("results", &Results(self))?;
        m.serialize_entry("next_cursor", &self.next_cursor)?;
        m.serialize_entry("has_more", &self.has_more)?;
        m.serialize_entry("type", self.list_type)?;
        m.serialize_entry(self.list_type, &serde_json::Map::new())?;
        m.end()
    }
}

/// An opaque, tamper-proof cursor: AES-GCM over where to continue, bound to
/// the connection and the query it belongs to.
#[derive(Serialize, Deserialize)]
struct Cursor {
    c: String,
    k: String,
    t: i64,
    i: String,
}

pub(super) fn seal(
    sbox: &SecretBox,
    connection: &str,
    kind: &str,
    t: i64,
    id: &str,
) -> AppResult<String> {
    let json = serde_json::to_string(&Cursor {
        c: connection.into(),
        k: kind.into(),
        t,
        i: id.into(),
    })
    .map_err(|e| AppError::internal(format!("cursor: {e}")))?;
    sbox.encrypt(&json)
}

pub(super) fn open(
    sbox: &SecretBox,
    connection: &str,
    kind: &str,
    raw: &str,
) -> Result<(i64, String), ApiError> {
    let bad = || validation("start_cursor is not a valid cursor for this request.");
    let plain = sbox.decrypt(raw).map_err(|_| bad())?;
    let c: Cursor = serde_json::from_str(&plain).map_err(|_| bad())?;
    if c.c != connection || c.k != kind {
        return Err(bad());
    }
    Ok((c.t, c.i))
}

/// Cuts a `limit + 1` search result to a page and seals the cursor that
/// continues after its last row: its tier, edit time and id.
fn paginate<'a>(
    sbox: &SecretBox,
    connection: &str,
    kind: &str,
    rows: &'a [SearchHit],
    size: i64,
) -> AppResult<(Vec<&'a SearchHit>, bool, Option<String>)> {
    let has_more = rows.len() as i64 > size;
    let shown: Vec<&SearchHit> = rows.iter().take(size as usize).collect();
    let next = match (has_more, shown.last()) {
        (true, Some(last)) => Some(seal(
            sbox,
            connection,
            kind,
            last.page.last_edited_at,
            &format!("{}:{}", last.tier, last.page.id),
        )?),
        _ => None,
    };
    Ok((shown, has_more, next))
}

/// The (tier, time, id) a search cursor continues after.
fn search_after((t, i): (i64, String)) -> Result<(i32, i64, String), ApiError> {
    i.split_once(':')
        .and_then(|(tier, id)| Some((tier.parse().ok()?, t, id.to_string())))
        .ok_or_else(|| validation("start_cursor is not a valid cursor for this request."))
}

pub(super) fn page_size(given: Option<i64>) -> Result<i64, ApiError> {
    match given {
        None => Ok(MAX_PAGE_SIZE),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        Some(_) => Err(validation("page_size must be between 1 and 100.")),
    }
}

fn parse_id(raw: &str) -> Result<PageId, ApiError> {
    PageId::parse(raw)
        .ok_or_else(|| validation("path failed validation: the id should be a valid uuid."))
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    query: Option<String>,
    filter: Option<SearchFilter>,
    sort: Option<SearchSort>,
    start_cursor: Option<String>,
    page_size: Option<i64>,
}

#[derive(Deserialize)]
pub struct SearchFilter {
    property: FilterProperty,
    value: FilterValue,
}
#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum FilterProperty {
    Object,
}
#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum FilterValue {
    Page,
    Database,
    DataSource,
}
#[derive(Deserialize)]
pub struct SearchSort {
    timestamp: SortTimestamp,
    direction: SortDirection,
}
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum SortTimestamp {
    LastEditedTime,
}
#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum SortDirection {
    Ascending,
    Descending,
}

pub async fn post_search(
    state: web::Data<AppState>,
    bearer: Bearer,
    raw: Bytes,
) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let out = bearer
        .run(move |c, bot| -> Result<_, ApiError> {
            let plan = SearchPlan::read(&st, bot, &raw)?;
            Ok(plan.run(c, &st, bot)?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("x-notion-request-id", crate::crypto::new_uuid()))
        .json(out))
}

/// A search as the request asks for it, checked (capability, query bound,
/// cursor) before the query runs, in the same trip as the token.
struct SearchPlan {
    query: String,
    descending: bool,
    after: Option<(i32, i64, String)>,
    /// The cursor's key: it holds the order and the query.
    kind: String,
    size: i64,
    /// A filter for databases or data sources: only pages exist here.
    only_other: bool,
}

impl SearchPlan {
    fn read(state: &AppState, bot: &Bot, raw: &[u8]) -> Result<SearchPlan, ApiError> {
        let b: SearchBody = body(raw)?;
        let size = page_size(b.page_size)?;
        // The capability and the query's bound before the cursor is opened:
        // the cursor's key holds the query.
        let query = b.query.as_deref().unwrap_or("").trim().to_string();
        bot.grant(Surface::Api).require(Capability::ReadContent)?;
        reach::query_bound(&query)?;
        let descending = match &b.sort {
            Some(s) => {
                let SortTimestamp::LastEditedTime = s.timestamp;
                s.direction == SortDirection::Descending
            }
            None => true,
        };
        let kind = format!("search:{}:{}", descending, b.query.unwrap_or_default());
        let after = match &b.start_cursor {
            Some(c) => Some(search_after(open(
                &state.secret_box,
                bot.connection.id.as_str(),
                &kind,
                c,
            )?)?),
            None => None,
        };
        let only_other = matches!(&b.filter, Some(f) if f.property == FilterProperty::Object && f.value != FilterValue::Page);
        Ok(SearchPlan {
            query,
            descending,
            after,
            kind,
            size,
            only_other,
        })
    }

    fn run(self, c: &mut Conn, st: &AppState, bot: &Bot) -> AppResult<SearchList> {
        let rows = if self.only_other {
            Vec::new()
        } else {
            let args = SearchArgs {
                query: &self.query,
                descending: self.descending,
                after: self.after,
                limit: self.size + 1,
            };
            reach::search(c, bot.grant(Surface::Api), &args)?
        };
        let (shown, has_more, next) = paginate(
            &st.secret_box,
            bot.connection.id.as_str(),
            &self.kind,
            &rows,
            self.size,
        )?;
        let shown = shown.len();
        let pages = rows.into_iter().take(shown).map(|s| s.page).collect();
        Ok(SearchList {
            issuer: st.config.server.issuer.clone(),
            pages,
            next_cursor: next,
            has_more,
            list_type: match bot.version {
                ApiVersion::V2025_09_03 => "page_or_data_source",
                ApiVersion::V2022_06_28 => "page_or_database",
            },
        })
    }
}

pub async fn get_page(
    state: web::Data<AppState>,
    bearer: Bearer,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path);
    let issuer = state.config.server.issuer.clone();
    let (cid, s) = bearer
        .run(move |c, bot| -> Result<_, ApiError> {
            let s = reach::page(c, bot.grant(Surface::Api), &id?)?;
            Ok((bot.connection.id.clone(), s))
        })
        .await?;
    state
        .activity
        .read(&cid, &s.page.id, ActivityOp::ApiGetPage);
    Ok(ok(page_object(&issuer, &s.page, s.trashed)))
}

/// `properties.title` (or `title`) as rich text, flattened to its plain text.
#[derive(Default, Deserialize)]
pub struct TitleProps {
    title: Option<TitleProp>,
}
#[derive(Deserialize)]
#[serde(untagged)]
enum TitleProp {
    Wrapped { title: Vec<RichText> },
    Bare(Vec<RichText>),
}
#[derive(Deserialize)]
struct RichText {
    text: Option<TextContent>,
    plain_text: Option<String>,
}
#[derive(Deserialize)]
struct TextContent {
    content: String,
}

fn title_of(p: &Option<TitleProps>) -> Result<Option<String>, ApiError> {
    let Some(TitleProps { title: Some(t) }) = p else {
        return Ok(None);
    };
    let parts = match t {
        TitleProp::Wrapped { title } | TitleProp::Bare(title) => title,
    };
    let text: String = parts
        .iter()
        .map(|r| match (&r.text, &r.plain_text) {
            (Some(t), _) => t.content.clone(),
            (None, Some(p)) => p.clone(),
            (None, None) => String::new(),
        })
        .collect();
    if text.chars().count() > 2000 || text.chars().any(|c| c.is_control()) {
        return Err(validation(
            "the title must have at most 2000 printable characters.",
        ));
    }
    Ok(Some(text))
}

#[derive(Default, Deserialize)]
pub struct PatchBody {
    properties: Option<TitleProps>,
    in_trash: Option<bool>,
    archived: Option<bool>,
}

pub async fn patch_page(
    state: web::Data<AppState>,
    bearer: Bearer,
    path: web::Path<String>,
    raw: Bytes,
) -> Result<HttpResponse, ApiError> {
    // Judged after the token, in the one trip.
    let asked = patch_request(&path, &raw);
    let issuer = state.config.server.issuer.clone();
    let out = bearer
        .run(move |c, bot| -> Result<_, ApiError> {
            let (id, title, trash) = asked?;
            let g = bot.grant(Surface::Api);
            Ok(reach::update_page(c, g, &id, title.as_deref(), trash)?)
        })
        .await?;
    Ok(ok(page_object(&issuer, &out.page, out.trashed)))
}

/// What `PATCH /v1/pages/{id}` asks: the page, a new title, the trash flag.
fn patch_request(
    path: &str,
    raw: &[u8],
) -> Result<(PageId, Option<String>, Option<bool>), ApiError> {
    let id = parse_id(path)?;
    let b: PatchBody = body(raw)?;
    let title = title_of(&b.properties)?;
    Ok((id, title, b.in_trash.or(b.archived)))
}

#[derive(Default, Deserialize)]
pub struct CreateBody {
    parent: Option<CreateParent>,
    properties: Option<TitleProps>,
}
#[derive(Deserialize)]
pub struct CreateParent {
    page_id: Option<String>,
}

pub async fn post_page(
    state: web::Data<AppState>,
    bearer: Bearer,
    raw: Bytes,
) -> Result<HttpResponse, ApiError> {
    let asked = create_request(&raw);
    let issuer = state.config.server.issuer.clone();
    let (page, _) = bearer
        .run(move |c, bot| -> Result<_, ApiError> {
            let (parent, title) = asked?;
            Ok(reach::create_page(
                c,
                bot.grant(Surface::Api),
                &parent,
                &title,
                &[],
            )?)
        })
        .await?;
    Ok(ok(page_object(&issuer, &page, false)))
}

/// What `POST /v1/pages` asks: the parent and the title.
fn create_request(raw: &[u8]) -> Result<(PageId, String), ApiError> {
    let b: CreateBody = body(raw)?;
    let parent_raw = b
        .parent
        .and_then(|p| p.page_id)
        .ok_or_else(|| validation("body failed validation: parent.page_id should be defined."))?;
    let parent = parse_id(&parent_raw)?;
    Ok((parent, title_of(&b.properties)?.unwrap_or_default()))
}

/// The titles of every page a connection can see, newest first (at most
/// 100): what the demo partner shows after connecting, as a search through
/// `/v1` would (none without `read_content`).
pub fn shared_titles(c: &mut Conn, bot: &Bot) -> AppResult<Vec<String>> {
    let args = SearchArgs {
        query: "",
        descending: true,
        after: None,
        limit: 100,
    };
    match reach::search(c, bot.grant(Surface::Api), &args) {
        Ok(found) => Ok(found.into_iter().map(|p| p.page.title).collect()),
        Err(AppError::Refused(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}
