//! The MCP tools (DESIGN §7): `search`, `fetch`, `create_page` and
//! `update_page`, each inside the connection's grant through
//! `domain::reach` — the same capability rule, scope, write bounds and
//! audit as `/v1` (S65, S66, S68, S73). Tools the grant's capabilities do
//! not allow are listed with a note that they need more access; a call to
//! one is answered before it runs with the HTTP step-up challenge
//! (`lacking`, used by `auth`; S102), and the tools' own check stays as a
//! tool error naming the capability. A page the grant does not reach is "not found"
//! whether or not it exists. `refusal` maps reach's refusals
//! (`AppError::Refused`) to tool errors, once.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use rmcp::handler::server::common::schema_for_output;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock,
    Implementation, ListToolsResult, PaginatedRequestParams, ProtocolVersion, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{schemars, tool, tool_router, ErrorData, RoleServer, ServerHandler};
use rmcp_actix_web::transport::on_request_extensions;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::caller::Caller;
use crate::db;
use crate::db::models::{
    AccessRequest, AccessRequestId, AccessRequestState, ActivityOp, Page, PageId, RequestVia,
};
use crate::domain::access_requests::{self, Ask};
use crate::domain::blocks::Placement;
use crate::domain::markdown;
use crate::domain::reach::{self, Capability, Refusal, Surface};
use crate::error::AppError;

/// Most results one `search` returns (its `page_size` bound).
const MAX_SEARCH: u32 = 25;
/// Most sub-pages `fetch` lists.
const MAX_SUB_PAGES: i64 = 100;
/// The longest Markdown `fetch` returns and the tools accept, in bytes:
/// a page longer than this is cut with a note rather than flooding the
/// agent's context. 100 KiB is some 15,000 words, a long report; with the
/// `/v1` bounds (`reach::MAX_BLOCKS` blocks of `reach::MAX_TEXT`
/// characters per text run) it keeps one call's write transaction to a
/// few milliseconds (S73).
const MAX_MARKDOWN: usize = 100 * 1024;

const INSTRUCTIONS: &str = "pagegrant shows you only the pages the person chose to share with this \
connection on pagegrant's consent page, and their sub-pages. Use `search` to find pages by title or \
text, then `fetch` with a page's id or URL to read it as Markdown. `create_page` and `update_page` \
exist only when the person allowed writing. A page outside what was shared answers \"not found\" \
whether or not it exists. If a page you need is not shared, call `request_access` with the reason \
(and words to search for) and give the person the link it returns; call it again with `request_id` \
to see their answer. Once they press Share, `search` and `fetch` see the new pages on this \
connection, without reconnecting. A tool that needs more access than this connection has (for \
example `create_page` on a read-only connection) answers with an OAuth step-up challenge, and your \
client asks the person to allow it.";

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct SearchInput {
    /// Words to look for in page titles and text; empty lists every shared page.
    #[serde(default)]
    pub query: String,
    /// How many pages to return (1–25, default 10).
    #[schemars(schema_with = "page_size_schema")]
    pub page_size: Option<u32>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PageRef {
    pub id: String,
    pub title: String,
    pub url: String,
    /// The titles above the page, outermost first, as far as the grant reaches.
    pub path: Vec<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SearchOutput {
    pub results: Vec<PageRef>,
    /// More pages match than were returned: narrow the query.
    pub has_more: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct FetchInput {
    /// A page id, or the page's pagegrant URL.
    pub id: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SubPage {
    pub id: String,
    pub title: String,
    pub url: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FetchOutput {
    pub id: String,
    pub title: String,
    pub url: String,
    pub path: Vec<String>,
    /// The page's content as Markdown (without the title).
    pub markdown: String,
    pub sub_pages: Vec<SubPage>,
    /// The content was longer than the tool returns and was cut.
    pub truncated: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CreateInput {
    /// The id of the page to create it under (a page shared with this connection).
    pub parent_id: String,
    pub title: String,
    /// The page's content, as Markdown.
    #[serde(default)]
    pub content: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct UpdateInput {
    pub id: String,
    /// A new title.
    pub title: Option<String>,
    /// Markdown to add at the end of the page.
    pub append_content: Option<String>,
    /// true moves the page to the trash, false restores it.
    pub in_trash: Option<bool>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PageOutput {
    pub id: String,
    pub title: String,
    pub url: String,
    pub in_trash: bool,
    /// Content blocks added by this call.
    #[schemars(schema_with = "count_schema")]
    pub blocks_added: usize,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct RequestAccessInput {
    /// Why you need more pages, in a sentence or two of your own words (at
    /// most 500 characters): the person reads it, marked as yours. Needed to
    /// ask; leave it out when polling with request_id.
    #[serde(default)]
    pub reason: String,
    /// Words to search the person's pages for: their page picker opens
    /// filtered by them (at most 200 characters).
    #[serde(default)]
    pub search: String,
    /// The id of a request you made: returns its state instead of asking again.
    pub request_id: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RequestOutput {
    pub id: String,
    /// The page the person answers on: give it to them.
    pub url: String,
    /// pending, shared, declined or expired.
    pub state: String,
    /// The ids of the pages shared by the answer (state shared).
    pub page_ids: Vec<String>,
    /// When the request expires unanswered (RFC 3339).
    pub expires_at: String,
}

/// A count, as a plain JSON Schema integer: schemars' `"format": "uint"`
/// makes the TypeScript SDK's validator warn on every call.
fn count_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "integer", "minimum": 0 })
}

fn page_size_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "integer", "minimum": 1, "maximum": MAX_SEARCH })
}

/// The tools, with the capabilities any of which makes one usable:
/// `update_page` renames and trashes (`update_content`) and appends
/// (`insert_content`, as an append is on `/v1`).
const TOOLS: &[(&str, &[Capability])] = &[
    ("search", &[Capability::ReadContent]),
    ("fetch", &[Capability::ReadContent]),
    ("create_page", &[Capability::InsertContent]),
    (
        "update_page",
        &[Capability::UpdateContent, Capability::InsertContent],
    ),
    // Any connection may ask for more pages, whatever it may do with them.
    ("request_access", Capability::ALL),
];

fn needs(tool: &str) -> Option<&'static [Capability]> {
    TOOLS.iter().find(|(t, _)| *t == tool).map(|(_, c)| *c)
}

/// Whether `args` gives `key` a value (JSON `null` is no value, as serde
/// reads an `Option`).
fn given(args: &Value, key: &str) -> bool {
    args.get(key).is_some_and(|v| !v.is_null())
}

/// The capabilities a call of `tool` with `args` needs that the grant
/// `scope` lacks (empty: none lacking, or a tool this server does not have):
/// what `/mcp` answers with the step-up challenge before the call runs
/// (S102). The same rule the tools apply: `update_page` needs
/// `update_content` to rename or trash and `insert_content` to append,
/// and one of the two to be usable at all.
pub(super) fn lacking(tool: &str, args: &Value, scope: &str) -> Vec<Capability> {
    let Some(caps) = needs(tool) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if tool == "update_page" {
        if (given(args, "title") || given(args, "in_trash"))
            && !Capability::UpdateContent.in_text(scope)
        {
            out.push(Capability::UpdateContent);
        }
        if given(args, "append_content") && !Capability::InsertContent.in_text(scope) {
            out.push(Capability::InsertContent);
        }
    }
    if out.is_empty() && !caps.iter().any(|c| c.in_text(scope)) {
        out.extend(caps.first().copied());
    }
    out
}

#[derive(Clone)]
pub struct Pagegrant {
    // Shared: the stateless transport asks for a handler per request, and
    // cloning the router copied every tool's description.
    tool_router: Arc<ToolRouter<Pagegrant>>,
}

fn caller(ctx: &RequestContext<RoleServer>) -> Result<Caller, ErrorData> {
    on_request_extensions(&ctx.extensions)
        .and_then(|e| e.get::<Caller>())
        .cloned()
        // The bearer check runs before the transport, so this is a wiring
        // fault, not a client's.
        .ok_or_else(|| ErrorData::internal_error("the request was not authenticated", None))
}

fn internal(e: impl std::fmt::Display) -> ErrorData {
    tracing::error!(error = %e, "mcp tool failed");
    ErrorData::internal_error("pagegrant could not complete this call", None)
}

fn tool_error(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// A result with a text rendering for people and models, and the same
/// facts as `structuredContent` for programs.
fn done<T: Serialize>(text: String, value: &T) -> Result<CallToolResult, ErrorData> {
    let v: Value = serde_json::to_value(value).map_err(internal)?;
    // Not `CallToolResult::structured`: it renders the whole value as JSON
    // text for `content`, which this replaces with the text for models
    // (about 2 % of a search call spent on a string thrown away).
    let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
    r.structured_content = Some(v);
    Ok(r)
}

const NOT_FOUND: &str = "No page with that id is shared with this connection. Ask the person to share it from the page's ••• menu in pagegrant.";

/// A refusal of the grant as a tool error: the missing capability named,
/// "not found" without saying whether the page exists, a bound stated.
/// Any other failure is the server's, a protocol error.
fn refusal(e: AppError) -> Result<CallToolResult, ErrorData> {
    let r = match e {
        AppError::Refused(r) => r,
        other => return Err(internal(other)),
    };
    Ok(match r {
        Refusal::NotFound(_) => tool_error(NOT_FOUND),
        Refusal::Missing(capability) => tool_error(format!(
            "This connection may not do that: it needs the {} capability, which the person did not grant.",
            capability.as_str()
        )),
        Refusal::Invalid(m) => tool_error(m),
        // The tools always append at the end.
        Refusal::Anchor => tool_error(NOT_FOUND),
        // OAuth's, which no tool meets.
        r @ (Refusal::Grant(_)
        | Refusal::Client { .. }
        | Refusal::GrantType
        | Refusal::Target(_)
        | Refusal::RedirectUri(_)
        | Refusal::Metadata(_)
        | Refusal::Document(_)) => tool_error(r.to_string()),
    })
}

/// A page id, or a pagegrant page URL (`{issuer}/w/{workspace}/p/{page}`).
fn page_id(issuer: &str, raw: &str) -> Option<PageId> {
    let raw = raw.trim();
    if let Some(rest) = raw.strip_prefix(issuer) {
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let id = rest
            .rsplit_once("/p/")
            .map(|(_, id)| id.trim_end_matches('/'))?;
        return PageId::parse(id);
    }
    PageId::parse(raw)
}

fn url_of(issuer: &str, p: &Page) -> String {
    format!("{issuer}/w/{}/p/{}", p.workspace_id, p.id)
}

/// `search`'s answer for models: one line per page, written into one
/// buffer (it runs for every call, twenty pages each).
fn search_text(out: &SearchOutput) -> String {
    let mut text = String::with_capacity(64 + out.results.len() * 160);
    match out.results.len() {
        0 => text.push_str("No shared page matches."),
        n => {
            let _ = writeln!(text, "{n} shared page(s) match:");
        }
    }
    for r in &out.results {
        let _ = write!(text, "\n- {}", r.title);
        if !r.path.is_empty() {
            let _ = write!(text, " (in {})", r.path.join(" / "));
        }
        let _ = write!(text, " — id {} — {}", r.id, r.url);
    }
    if out.has_more {
        text.push_str("\n\nMore pages match; narrow the query.");
    }
    text
}

fn title_of(p: &Page) -> String {
    match p.title.trim() {
        "" => "Untitled".into(),
        t => t.to_string(),
    }
}

fn check_markdown(md: &str) -> Result<(), String> {
    if md.len() > MAX_MARKDOWN {
        return Err(format!(
            "The content is too long: at most {} KiB of Markdown per call.",
            MAX_MARKDOWN / 1024
        ));
    }
    Ok(())
}

fn check_title(t: &str) -> Result<(), String> {
    if t.chars().count() > 2000 || t.chars().any(char::is_control) {
        return Err("A page title may have up to 2000 printable characters.".into());
    }
    Ok(())
}

/// Cuts Markdown at a character boundary under the limit.
fn bounded(md: String) -> (String, bool) {
    if md.len() <= MAX_MARKDOWN {
        return (md, false);
    }
    let mut end = MAX_MARKDOWN;
    while !md.is_char_boundary(end) {
        end -= 1;
    }
    (md[..end].to_string(), true)
}

#[tool_router]
impl Pagegrant {
    pub fn new() -> Pagegrant {
        Pagegrant {
            tool_router: Arc::new(Self::tool_router()),
        }
    }

    #[tool(
        title = "Search pages",
        description = "Find pages shared with this connection whose title or text matches the query. Returns each page's id, title, URL and path.",
        output_schema = schema_for_output::<SearchOutput>(),
        annotations(title = "Search pages", read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn search(
        &self,
        Parameters(input): Parameters<SearchInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = caller(&ctx)?;
        if let Err(e) = caller.require(Capability::ReadContent) {
            return refusal(e);
        }
        let size = input.page_size.unwrap_or(10);
        if !(1..=MAX_SEARCH).contains(&size) {
            return Ok(tool_error(format!(
                "page_size must be between 1 and {MAX_SEARCH}."
            )));
        }
        let st = caller.state.clone();
        let issuer = st.config.server.issuer.clone();
        let out = caller
            .run(move |c, bot| {
                let g = bot.grant(Surface::Mcp);
                let args = reach::SearchArgs {
                    query: input.query.trim(),
                    descending: true,
                    after: None,
                    limit: i64::from(size) + 1,
                };
                let rows = reach::search(c, g, &args)?;
                let has_more = rows.len() > size as usize;
                let pages: Vec<_> = rows
                    .into_iter()
                    .take(size as usize)
                    .map(|s| s.page)
                    .collect();
                let paths = reach::breadcrumbs(c, g, &pages, title_of)?;
                let results = pages
                    .iter()
                    .zip(paths)
                    .map(|(p, path)| PageRef {
                        id: p.id.to_string(),
                        title: title_of(p),
                        url: url_of(&issuer, p),
                        path,
                    })
                    .collect();
                Ok(SearchOutput { results, has_more })
            })
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e) => return refusal(e),
        };
        done(search_text(&out), &out)
    }

    #[tool(
        title = "Read a page",
        description = "Read a page shared with this connection, by id or URL: its title, where it sits, its content as Markdown and its sub-pages.",
        output_schema = schema_for_output::<FetchOutput>(),
        annotations(title = "Read a page", read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn fetch(
        &self,
        Parameters(input): Parameters<FetchInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = caller(&ctx)?;
        if let Err(e) = caller.require(Capability::ReadContent) {
            return refusal(e);
        }
        let st = caller.state.clone();
        let issuer = st.config.server.issuer.clone();
        let Some(id) = page_id(&issuer, &input.id) else {
            return Ok(tool_error(NOT_FOUND));
        };
        let read = id.clone();
        let out = caller
            .run(move |c, bot| {
                let g = bot.grant(Surface::Mcp);
                // Only a live page: fetch reads a page's content, and a trashed
                // page (or one under a trashed page) has none to read, as
                // `GET /v1/blocks/{id}/children` answers. It is the same "not
                // found" as an unshared page, which says nothing of whether it
                // exists (S65).
                let page = reach::live_page(c, g, &id)?;
                let path = reach::breadcrumb(c, g, &page, title_of)?;
                let content = reach::content(c, g, &page.id)?;
                let sub_pages = reach::children(c, g, &page.id, None, MAX_SUB_PAGES)?;
                let (markdown, truncated) = bounded(markdown::to_markdown(&content));
                let sub_pages = sub_pages
                    .iter()
                    .map(|p| SubPage {
                        id: p.id.to_string(),
                        title: title_of(p),
                        url: url_of(&issuer, p),
                    })
                    .collect();
                let out = FetchOutput {
                    id: page.id.to_string(),
                    title: title_of(&page),
                    url: url_of(&issuer, &page),
                    path,
                    markdown,
                    sub_pages,
                    truncated,
                };
                Ok((bot.connection.id.clone(), out))
            })
            .await;
        let (connection, out) = match out {
            Ok(out) => out,
            Err(e) => return refusal(e),
        };
        st.activity.read(&connection, &read, ActivityOp::McpFetch);
        let mut text = String::with_capacity(out.markdown.len() + 256);
        let _ = write!(text, "# {}\n\n", out.title);
        if !out.path.is_empty() {
            let _ = write!(text, "In: {}\n\n", out.path.join(" / "));
        }
        let _ = write!(text, "URL: {}\n\n", out.url);
        match out.markdown.trim().is_empty() {
            true => text.push_str("(This page has no content yet.)\n"),
            false => text.push_str(&out.markdown),
        }
        if out.truncated {
            text.push_str("\n\n(The page is longer; the rest was cut.)");
        }
        if !out.sub_pages.is_empty() {
            text.push_str("\n\n## Sub-pages\n");
            for s in &out.sub_pages {
                let _ = write!(text, "\n- [{}]({}) — id {}", s.title, s.url, s.id);
            }
        }
        done(text, &out)
    }

    #[tool(
        title = "Create a page",
        description = "Create a page under a page shared with this connection, with a title and Markdown content.",
        output_schema = schema_for_output::<PageOutput>(),
        annotations(title = "Create a page", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn create_page(
        &self,
        Parameters(input): Parameters<CreateInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = caller(&ctx)?;
        let st = caller.state.clone();
        let issuer = st.config.server.issuer.clone();
        // The capability first: a read-only grant learns nothing about ids.
        if let Err(e) = caller.require(Capability::InsertContent) {
            return refusal(e);
        }
        let Some(parent) = page_id(&issuer, &input.parent_id) else {
            return Ok(tool_error(NOT_FOUND));
        };
        if let Err(e) = check_title(&input.title).and(check_markdown(&input.content)) {
            return Ok(tool_error(e));
        }
        let content = markdown::to_blocks(&input.content);
        if let Err(e) = reach::content_bound(&content) {
            return refusal(e);
        }
        let out = caller
            .run(move |c, bot| {
                let g = bot.grant(Surface::Mcp);
                reach::create_page(c, g, &parent, input.title.trim(), &content)
            })
            .await;
        let (page, blocks_added) = match out {
            Ok((page, added)) => (page, added.len()),
            Err(e) => return refusal(e),
        };
        let out = PageOutput {
            id: page.id.to_string(),
            title: title_of(&page),
            url: url_of(&issuer, &page),
            in_trash: false,
            blocks_added,
        };
        let text = format!(
            "Created \"{}\" ({} block(s)) — id {} — {}",
            out.title, out.blocks_added, out.id, out.url
        );
        done(text, &out)
    }

    #[tool(
        title = "Update a page",
        description = "Change a page shared with this connection: rename it, add Markdown at its end, or move it to or from the trash.",
        output_schema = schema_for_output::<PageOutput>(),
        annotations(title = "Update a page", read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = false)
    )]
    async fn update_page(
        &self,
        Parameters(input): Parameters<UpdateInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = caller(&ctx)?;
        let st = caller.state.clone();
        let issuer = st.config.server.issuer.clone();
        let changes_page = input.title.is_some() || input.in_trash.is_some();
        // Every capability the arguments need, before anything else: an
        // append needs insert_content, as on /v1; a rename or trash
        // update_content. Without either, the tool is not usable at all.
        let wanted = [
            (changes_page, Capability::UpdateContent),
            (input.append_content.is_some(), Capability::InsertContent),
        ];
        if !caller.allows(Capability::UpdateContent) && !caller.allows(Capability::InsertContent) {
            return refusal(Refusal::Missing(Capability::UpdateContent).into());
        }
        for (asked, capability) in wanted {
            if asked {
                if let Err(e) = caller.require(capability) {
                    return refusal(e);
                }
            }
        }
        let Some(id) = page_id(&issuer, &input.id) else {
            return Ok(tool_error(NOT_FOUND));
        };
        if !changes_page && input.append_content.is_none() {
            return Ok(tool_error(
                "Nothing to change: give title, append_content or in_trash.",
            ));
        }
        if let Some(t) = &input.title {
            if let Err(e) = check_title(t) {
                return Ok(tool_error(e));
            }
        }
        let append = input.append_content.as_deref().unwrap_or("");
        if let Err(e) = check_markdown(append) {
            return Ok(tool_error(e));
        }
        let content = markdown::to_blocks(append);
        if let Err(e) = reach::content_bound(&content) {
            return refusal(e);
        }
        let out = caller
            .run(move |c, bot| {
                let g = bot.grant(Surface::Mcp);
                let title = input.title.as_deref().map(str::trim);
                db::write_tx(c, |c| {
                    // The append first: it needs a live page (as /v1 refuses
                    // children of a trashed one), so a refusal leaves nothing
                    // half done.
                    let (mut page, mut trashed, mut added) = (None, false, 0);
                    if input.append_content.is_some() {
                        let (p, blocks) =
                            reach::append_blocks(c, g, &id, &content, &Placement::End)?;
                        (page, added) = (Some(p), blocks.len());
                    }
                    if changes_page {
                        // A refusal here is only possible before any write: the
                        // append above found the page live in this transaction.
                        let s = reach::update_page(c, g, &id, title, input.in_trash)?;
                        (page, trashed) = (Some(s.page), s.trashed);
                    }
                    page.map(|p| (p, trashed, added))
                        .ok_or(Refusal::NotFound(reach::Object::Page).into())
                })
            })
            .await;
        let (page, in_trash, blocks_added) = match out {
            Ok(v) => v,
            Err(e) => return refusal(e),
        };
        let out = PageOutput {
            id: page.id.to_string(),
            title: title_of(&page),
            url: url_of(&issuer, &page),
            in_trash,
            blocks_added,
        };
        let text = format!(
            "Updated \"{}\"{}{} — id {} — {}",
            out.title,
            match out.blocks_added {
                0 => String::new(),
                n => format!(", added {n} block(s)"),
            },
            match out.in_trash {
                true => ", now in the trash",
                false => "",
            },
            out.id,
            out.url
        );
        done(text, &out)
    }

    #[tool(
        title = "Ask for more pages",
        description = "Ask the person who connected you for more pages, mid-task: give a short reason in your own words and optional search words. Returns a URL for the person to open (they tick pages and press Share or Decline) and the request's id; call again with request_id to read its state (pending, shared with the page ids, declined, expired). Shared pages appear in search and fetch on this same connection, without reconnecting.",
        output_schema = schema_for_output::<RequestOutput>(),
        annotations(title = "Ask for more pages", read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn request_access(
        &self,
        Parameters(input): Parameters<RequestAccessInput>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = caller(&ctx)?;
        let st = caller.state.clone();
        let issuer = st.config.server.issuer.clone();
        let cfg = st.config.agents.clone();
        let polled = match input.request_id.as_deref().map(AccessRequestId::parse) {
            Some(None) => return Ok(tool_error(NO_REQUEST)),
            Some(Some(id)) => Some(id),
            None => None,
        };
        let out = caller
            .run(move |c, bot| match polled {
                Some(id) => access_requests::poll(c, &bot.connection.id, &id),
                None => {
                    let ask = Ask {
                        via: RequestVia::Mcp,
                        reason: &input.reason,
                        search: &input.search,
                    };
                    access_requests::ask(c, &cfg, &bot.connection, &ask)
                }
            })
            .await;
        let r = match out {
            Ok(r) => r,
            Err(AppError::NotFound) => return Ok(tool_error(NO_REQUEST)),
            Err(e) => return refusal(e),
        };
        let out = request_output(&issuer, &r);
        done(request_text(r.state, &out), &out)
    }
}

const NO_REQUEST: &str = "No access request with that id was made on this connection.";

fn request_output(issuer: &str, r: &AccessRequest) -> RequestOutput {
    let expires_at = time::OffsetDateTime::from_unix_timestamp(r.expires_at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    RequestOutput {
        id: r.id.to_string(),
        url: access_requests::url(issuer, &r.id),
        state: r.state.as_str().to_string(),
        page_ids: access_requests::shared_pages(r),
        expires_at,
    }
}

/// What the agent reads: what to tell the person, or the answer.
fn request_text(state: AccessRequestState, o: &RequestOutput) -> String {
    match state {
        AccessRequestState::Pending => format!(
            "Access request {} is waiting for the person's answer. Ask them to open {} and choose the pages to share (it expires at {}). Call request_access with request_id \"{}\" to see their answer.",
            o.id, o.url, o.expires_at, o.id
        ),
        AccessRequestState::Shared => format!(
            "The person shared {} page(s): {}. search and fetch see them now (and their sub-pages).",
            o.page_ids.len(),
            o.page_ids.join(", ")
        ),
        AccessRequestState::Declined => "The person declined this request. Carry on with the pages already shared, or ask them directly.".to_string(),
        AccessRequestState::Expired => "This request expired unanswered. You may ask again with request_access.".to_string(),
    }
}

impl ServerHandler for Pagegrant {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("pagegrant", env!("CARGO_PKG_VERSION")).with_title("pagegrant"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    /// DESIGN §7: protocol 2025-06-18 and later (the first with OAuth
    /// resource indicators and structured tool output).
    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        // Asked on every request of the stateless transport: built once.
        static SUPPORTED: LazyLock<Vec<ProtocolVersion>> = LazyLock::new(|| {
            ProtocolVersion::KNOWN_VERSIONS
                .iter()
                .filter(|v| **v >= ProtocolVersion::V_2025_06_18)
                .cloned()
                .collect()
        });
        Cow::Borrowed(SUPPORTED.as_slice())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = caller(&context)?;
        // Every tool, those the grant does not allow marked as such: calling
        // one answers the step-up challenge (DESIGN §10), so an agent can
        // ask the person for the access it needs.
        let tools = self
            .tool_router
            .list_all()
            .into_iter()
            .map(|mut t| {
                let caps = needs(&t.name).unwrap_or(&[]);
                if !caps.is_empty() && !caps.iter().any(|c| caller.allows(*c)) {
                    let names: Vec<&str> = caps.iter().map(|c| c.as_str()).collect();
                    let had = t.description.take().unwrap_or_default();
                    t.description = Some(Cow::Owned(format!(
                        "{had} Needs more access than this connection has ({}): calling it asks the person to allow it, and the call succeeds once they approve.",
                        names.join(" or ")
                    )));
                }
                t
            })
            .collect();
        let hints = context
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        let mut out = ListToolsResult::with_all_items(tools);
        // The list depends on the caller's grant: never shared between users.
        if hints {
            out.ttl_ms = Some(0);
            out.cache_scope = Some(CacheScope::Private);
        }
        Ok(out)
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        self.tool_router.get(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let tcc = ToolCallContext::new(self, request, context);
        self.tool_router.call(tcc).await
    }
}
