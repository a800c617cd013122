//! Workspace pages: `/w/{workspace_id}` (home with the page tree and the
//! workspace switcher) and `/w/{workspace_id}/p/{page_id}` (a page with its
//! breadcrumbs, content, sub-pages and ••• menu). Who sees what is
//! `domain::workspaces`' business; what a page says is `domain::blocks`'.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::{self, models::PageId, Conn};
use crate::domain::content::{BlockContent, BlockType, Span};
use crate::domain::{blocks, workspaces};
use crate::error::AppResult;
use crate::http::errors::HtmlError;
use crate::http::extract::Member;
use crate::http::layout::{self, display_title, format_date, tree_item, Shell, TreeItem};
use crate::http::{html, once};
use crate::pages::page_menu::{self, Menu};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "workspace/home.html")]
pub struct WorkspaceView {
    pub shell: Shell,
    pub top: Vec<TreeItem>,
    pub page_count: usize,
}

pub struct Crumb {
    pub href: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "workspace/page.html")]
pub struct PageView {
    pub shell: Shell,
    pub crumbs: Vec<Crumb>,
    pub title: String,
    pub private: bool,
    pub created_by: String,
    pub created_on: String,
    pub edited_on: String,
    pub content: Vec<ContentItem>,
    pub children: Vec<TreeItem>,
    pub menu: Menu,
    pub shell_page_id: String,
    pub flash: Option<String>,
}

/// One run of text as the template writes it (askama escapes `text`).
pub struct ViewSpan {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
    pub strike: bool,
    pub underline: bool,
    pub code: bool,
    /// Only http, https and mailto links become links; others stay text.
    pub href: Option<String>,
}

pub struct ViewItem {
    pub checked: bool,
    pub spans: Vec<ViewSpan>,
}

/// What the page view draws for a block, with neighbouring list items of
/// one kind gathered into one list.
pub struct ContentItem {
    /// `h2`, `h3`, `h4`, `p`, `ul`, `ol`, `todo`, `quote`, `code` or `hr`.
    pub tag: &'static str,
    pub spans: Vec<ViewSpan>,
    pub items: Vec<ViewItem>,
    pub language: Option<String>,
    pub text: String,
}

fn safe_href(href: &str) -> Option<String> {
    let url = url::Url::parse(href).ok()?;
    matches!(url.scheme(), "http" | "https" | "mailto").then(|| url.to_string())
}

fn view_spans(spans: &[Span]) -> Vec<ViewSpan> {
    spans
        .iter()
        .map(|s| ViewSpan {
            text: s.text.clone(),
            bold: s.annotations.bold,
            italic: s.annotations.italic,
            strike: s.annotations.strikethrough,
            underline: s.annotations.underline,
            code: s.annotations.code,
            href: s.href.as_deref().and_then(safe_href),
        })
        .collect()
}

/// Blocks as the template draws them: headings one level below the page
/// title, list items gathered into their list.
pub fn content_items(blocks: &[BlockContent]) -> Vec<ContentItem> {
    let mut out: Vec<ContentItem> = Vec::new();
    for b in blocks {
        let tag = match b.kind {
            BlockType::Heading1 => "h2",
            BlockType::Heading2 => "h3",
            BlockType::Heading3 => "h4",
            BlockType::Paragraph => "p",
            BlockType::BulletedListItem => "ul",
            BlockType::NumberedListItem => "ol",
            BlockType::ToDo => "todo",
            BlockType::Quote => "quote",
            BlockType::Code => "code",
            BlockType::Divider => "hr",
        };
        let item = ViewItem {
            checked: b.checked,
            spans: view_spans(&b.spans),
        };
        if matches!(tag, "ul" | "ol" | "todo") {
            if let Some(list) = out.last_mut().filter(|l| l.tag == tag) {
                list.items.push(item);
                continue;
            }
        }
        let (spans, items) = if matches!(tag, "ul" | "ol" | "todo") {
            (Vec::new(), vec![item])
        } else {
            (item.spans, Vec::new())
        };
        out.push(ContentItem {
            tag,
            spans,
            items,
            language: b.language.clone(),
            text: if tag == "code" {
                b.plain_text()
            } else {
                String::new()
            },
        });
    }
    out
}

/// The flash after a page-menu change, from its one-time note, naming the
/// connection from the menu itself (never text from the address bar).
fn flash(note: Option<&once::Note>, menu: &Menu, title: &str, carried: usize) -> Option<String> {
    let n = note?;
    let id = n.about.as_deref()?;
    let name = menu
        .reaching
        .iter()
        .chain(menu.addable.iter())
        .find(|i| i.connection_id == id)
        .map(|i| i.name.clone())?;
    let what = page_menu::page_and_subpages(title, carried);
    match n.event.as_str() {
        "page_added_token_replaced" => Some(format!(
            "{name} can now see {what}. Someone else had copied its token, so it has a new one: copies taken before no longer work. Copy the new token from My integrations."
        )),
        "page_added" => Some(format!("{name} can now see {what}.")),
        "page_removed" => Some(format!("{name} no longer sees {what}; the connection stays.")),
        _ => None,
    }
}

pub async fn view_workspace_get(
    state: web::Data<AppState>,
    m: Member,
) -> Result<HttpResponse, HtmlError> {
    let l = db::run(&state.pool, move |c| layout::load(c, &m, None)).await?;
    let view = WorkspaceView {
        page_count: l.tree.len(),
        top: l
            .tree
            .iter()
            .filter(|r| r.depth == 0)
            .map(|r| tree_item(&r.page, 0, None))
            .collect(),
        shell: l.shell,
    };
    Ok(html(view.render()?))
}

#[derive(Deserialize)]
pub struct PagePath {
    page_id: PageId,
}

pub async fn view_page_get(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    m: Member,
    path: web::Path<PagePath>,
) -> Result<HttpResponse, HtmlError> {
    let id = path.into_inner().page_id;
    let secure = state.config.issuer_is_https();
    let at = format!("/w/{}", m.workspace.id);
    let (sbox, session) = (&state.secret_box, &m.user.session);
    let (note, removal) =
        once::take_note_at(&req, &state.pool, sbox, session, secure, &at, None).await?;
    let view = db::run(&state.pool, move |c| PageView::build(c, &m, &id, note)).await?;
    let mut resp = html(view.render()?);
    if let Some(c) = removal {
        // A cookie built here always encodes into a header value.
        let _ = resp.add_cookie(&c);
    }
    Ok(resp)
}

impl PageView {
    /// The page `id` as `m` may see it, with its menu and the flash of a
    /// menu change just made.
    fn build(
        c: &mut Conn,
        m: &Member,
        id: &PageId,
        note: Option<once::Note>,
    ) -> AppResult<PageView> {
        let seen = workspaces::page_for(c, &m.workspace.id, &m.user.user.id, id)?;
        let menu = page_menu::menu(c, m, &seen.chain)?;
        let l = layout::load(c, m, Some(id))?;
        let ws = &m.workspace;
        let page = &seen.chain[0];
        let mut crumbs = vec![Crumb {
            href: format!("/w/{}", ws.id),
            title: ws.name.clone(),
        }];
        crumbs.extend(seen.chain.iter().rev().map(|p| Crumb {
            href: format!("/w/{}/p/{}", ws.id, p.id),
            title: display_title(&p.title),
        }));
        let title = display_title(&page.title);
        let content = content_items(&blocks::content_of(c, &page.id)?);
        Ok(PageView {
            content,
            flash: flash(
                note.as_ref(),
                &menu,
                &title,
                workspaces::carried_with(&l.tree, &page.id),
            ),
            crumbs,
            title,
            private: seen.private,
            created_by: seen.author,
            created_on: format_date(page.created_at),
            edited_on: format_date(page.last_edited_at),
            // Sub-pages come from the visible tree, so trashed and others'
            // private ones stay out.
            children: l
                .tree
                .iter()
                .filter(|r| r.page.parent_id.as_ref() == Some(&page.id))
                .map(|r| tree_item(&r.page, 0, None))
                .collect(),
            menu,
            shell_page_id: page.id.to_string(),
            shell: l.shell,
        })
    }
}
