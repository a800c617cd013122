//! Workspace home, page view, the switcher, and who sees what (DESIGN §1).

use crate::kit::*;
use pagegrant::db::models::{Plan, Role};

#[test]
fn switcher_lists_exactly_the_users_workspaces() {
    let srv = TestServer::start();
    let ada = srv.user("ada@example.com", "Ada");
    let grace = srv.user("grace@example.com", "Grace");
    let acme = srv.workspace("Acme Corp", &ada, Plan::Enterprise);
    let notebook = srv.workspace("Ada Notebook", &ada, Plan::Free);
    let other = srv.workspace("Grace Solo", &grace, Plan::Free);
    srv.member(&acme, &grace, Role::Member);

    let c = logged_in(&srv, "grace@example.com");
    let (status, body) = get_html(&c, &srv.url(&format!("/w/{}", acme.id)));
    assert_eq!(status, 200);
    let switcher = &body[body.find("class=\"switcher\"").expect("switcher")..];
    let switcher = &switcher[..switcher.find("</details>").expect("end")];
    assert!(switcher.contains(&format!("/w/{}", acme.id)));
    assert!(switcher.contains(&format!("/w/{}", other.id)));
    assert!(!switcher.contains(&notebook.id.to_string()));
    assert!(!switcher.contains("Ada Notebook"));
    assert_eq!(switcher.matches("role=\"menuitem\"").count(), 2);

    let c = logged_in(&srv, "ada@example.com");
    let (_, body) = get_html(&c, &srv.url(&format!("/w/{}", notebook.id)));
    let switcher = &body[body.find("class=\"switcher\"").expect("switcher")..];
    assert_eq!(
        switcher[..switcher.find("</details>").expect("end")]
            .matches("role=\"menuitem\"")
            .count(),
        2
    );
    // The switcher sits in the top bar, at the right.
    let top = &body[body.find("class=\"topbar\"").expect("topbar")..];
    assert!(
        top.find("topbar-right").expect("right")
            < top.find("class=\"switcher\"").expect("switcher")
    );
}

#[test]
fn workspace_not_joined_is_404() {
    let srv = TestServer::start();
    let ada = srv.user("ada@example.com", "Ada");
    srv.user("grace@example.com", "Grace");
    let secret = srv.workspace("Secret Lab", &ada, Plan::Free);
    let p = srv.page(&secret, &ada, "Plans", None, false);
    let c = logged_in(&srv, "grace@example.com");
    let (status, body) = get_html(&c, &srv.url(&format!("/w/{}", secret.id)));
    assert_eq!(status, 404);
    assert!(!body.contains("Secret Lab"));
    let (status, body) = get_html(&c, &srv.url(&format!("/w/{}/p/{}", secret.id, p.id)));
    assert_eq!(status, 404);
    assert!(!body.contains("Plans"));
    // Malformed ids are the same 404 page.
    let (status, _) = get_html(&c, &srv.url("/w/not-a-uuid"));
    assert_eq!(status, 404);
    // A user in no workspace is told so.
    let (status, body) = get_html(&c, &srv.url("/"));
    assert_eq!(status, 200);
    assert!(body.contains("not a member of any workspace"));
}

#[test]
fn private_pages_are_404_for_others_and_hidden_from_the_tree() {
    let srv = TestServer::start();
    let ada = srv.user("ada@example.com", "Ada");
    let grace = srv.user("grace@example.com", "Grace");
    let acme = srv.workspace("Acme", &ada, Plan::Enterprise);
    srv.member(&acme, &grace, Role::Member);
    let public = srv.page(&acme, &ada, "Engineering", None, false);
    let child = srv.page(&acme, &grace, "Runbook", Some(&public), false);
    let drafts = srv.page(&acme, &ada, "Ada Drafts Zebra", None, true);
    let inner = srv.page(&acme, &ada, "Unsent Ideas Quokka", Some(&drafts), false);

    let g = logged_in(&srv, "grace@example.com");
    let (status, body) = get_html(&g, &srv.url(&format!("/w/{}", acme.id)));
    assert_eq!(status, 200);
    assert!(body.contains("Engineering") && body.contains("Runbook"));
    assert!(!body.contains("Zebra") && !body.contains("Quokka"));
    for p in [&drafts, &inner] {
        let (status, body) = get_html(&g, &srv.url(&format!("/w/{}/p/{}", acme.id, p.id)));
        assert_eq!(status, 404, "{}", p.title);
        assert!(!body.contains(&p.title));
    }
    let (status, body) = get_html(&g, &srv.url(&format!("/w/{}/p/{}", acme.id, child.id)));
    assert_eq!(status, 200);
    assert!(body.contains("Runbook"));

    // The owner of the private page sees it, its child, and the breadcrumbs.
    let a = logged_in(&srv, "ada@example.com");
    let (status, body) = get_html(&a, &srv.url(&format!("/w/{}/p/{}", acme.id, inner.id)));
    assert_eq!(status, 200);
    assert!(body.contains("Unsent Ideas Quokka"));
    let crumbs = &body[body.find("class=\"crumbs\"").expect("crumbs")..];
    let crumbs = &crumbs[..crumbs.find("</nav>").expect("end")];
    assert!(
        crumbs.contains("Acme")
            && crumbs.contains("Ada Drafts Zebra")
            && crumbs.contains("Unsent Ideas Quokka")
    );
    assert!(body.contains("Private"));
}

#[test]
fn page_view_shows_sub_pages_and_stays_in_its_workspace() {
    let srv = TestServer::start();
    let ada = srv.user("ada@example.com", "Ada");
    let acme = srv.workspace("Acme", &ada, Plan::Free);
    let other = srv.workspace("Other", &ada, Plan::Free);
    let eng = srv.page(&acme, &ada, "Engineering", None, false);
    srv.page(
        &acme,
        &ada,
        "Roadmap <script>alert(1)</script>",
        Some(&eng),
        false,
    );
    let a = logged_in(&srv, "ada@example.com");
    let (status, body) = get_html(&a, &srv.url(&format!("/w/{}/p/{}", acme.id, eng.id)));
    assert_eq!(status, 200);
    assert!(body.contains("Sub-pages"));
    assert!(
        body.contains("Roadmap &#60;script&#62;") || body.contains("Roadmap &lt;script&gt;"),
        "titles are escaped"
    );
    assert!(!body.contains("<script>alert(1)</script>"));
    // The page under another workspace's URL does not exist.
    let (status, _) = get_html(&a, &srv.url(&format!("/w/{}/p/{}", other.id, eng.id)));
    assert_eq!(status, 404);
    let (status, _) = get_html(
        &a,
        &srv.url(&format!(
            "/w/{}/p/{}",
            acme.id, "00000000-0000-4000-8000-000000000000"
        )),
    );
    assert_eq!(status, 404);
}

#[test]
fn demo_world_is_walkable_by_both_users() {
    let srv = TestServer::start_demo();
    let a = logged_in_with(
        &srv,
        "ada@example.com",
        pagegrant::domain::demo::DEMO_PASSWORD,
    );
    let r = a.get(srv.url("/")).send().expect("home");
    let (status, body) = get_html(&a, &srv.url(&location(&r)));
    assert_eq!(status, 200);
    assert!(body.contains("Acme Corp"));
    assert!(
        body.contains("Ada&#39;s Notebook") || body.contains("Ada&#x27;s Notebook"),
        "the switcher lists both workspaces"
    );
    // Follow every page link of the sidebar: each one renders.
    let links: Vec<String> = body
        .match_indices("href=\"/w/")
        .map(|(i, _)| {
            let rest = &body[i + 6..];
            rest[..rest.find('"').expect("quote")].to_string()
        })
        .filter(|h| h.contains("/p/"))
        .collect();
    assert!(links.len() >= 15, "demo tree has {} pages", links.len());
    for l in &links {
        assert_eq!(get_html(&a, &srv.url(l)).0, 200, "{l}");
    }
    let g = logged_in_with(
        &srv,
        "grace@example.com",
        pagegrant::domain::demo::DEMO_PASSWORD,
    );
    let r = g.get(srv.url("/")).send().expect("home");
    let (_, body) = get_html(&g, &srv.url(&location(&r)));
    assert!(body.contains("Grace&#39;s Scratchpad") || body.contains("Grace&#x27;s Scratchpad"));
    assert!(!body.contains("Drafts"));
}

#[test]
fn page_view_renders_content_blocks_escaped() {
    use pagegrant::domain::content::{Annotations, Author, BlockContent, BlockType, Span};
    let srv = TestServer::start();
    let ada = srv.user("ada@example.com", "Ada");
    let acme = srv.workspace("Acme", &ada, Plan::Free);
    let page = srv.page(&acme, &ada, "Plan", None, false);
    let empty = srv.page(&acme, &ada, "Blank", None, false);
    let md = "# Goals\n\nShip **bold** *soon* ~~never~~ `code` [docs](https://example.com/d) \
              [bad](javascript:alert(1))\n\n- one\n- two\n\n1. first\n\n- [x] done\n- [ ] open\n\n\
              > quoted\n\n```rust\nlet a = 1 < 2;\n```\n\n---\n";
    let mut blocks = pagegrant::domain::markdown::to_blocks(md);
    blocks.push(BlockContent::new(
        BlockType::Paragraph,
        vec![
            Span::plain("<script>alert(1)</script>"),
            Span {
                text: "under".into(),
                annotations: Annotations {
                    underline: true,
                    ..Annotations::default()
                },
                href: None,
            },
        ],
    ));
    pagegrant::domain::blocks::append(
        &mut srv.conn(),
        &page.id,
        &Author::User(ada.id.clone()),
        &blocks,
    )
    .expect("append");

    let a = logged_in(&srv, "ada@example.com");
    let (status, body) = get_html(&a, &srv.url(&format!("/w/{}/p/{}", acme.id, page.id)));
    assert_eq!(status, 200);
    let doc = &body[body.find("<div class=\"doc\">").expect("content")..];
    // A leaf page: no Sub-pages section (issue 27), the article ends.
    let doc = &doc[..doc.find("</article>").expect("the content ends")];
    for want in [
        "<h2 class=\"doc-h1\">Goals</h2>",
        "<strong>bold</strong>",
        "<em>soon</em>",
        "<s>never</s>",
        "<code>code</code>",
        "<u>under</u>",
        "<a href=\"https://example.com/d\" rel=\"noopener noreferrer nofollow\">docs</a>",
        "<ul class=\"doc-list\"><li class=\"doc-text\">one</li><li class=\"doc-text\">two</li></ul>",
        "<ol class=\"doc-list\"><li class=\"doc-text\">first</li></ol>",
        "<input type=\"checkbox\" disabled checked> <span class=\"doc-text\">done</span>",
        "<input type=\"checkbox\" disabled> <span class=\"doc-text\">open</span>",
        "<blockquote class=\"doc-quote doc-text\">quoted</blockquote>",
        "<figcaption>rust</figcaption>",
        "<hr class=\"doc-divider\">",
    ] {
        assert!(doc.contains(want), "missing {want} in {doc}");
    }
    // A javascript: link is shown as text, never as a link.
    assert!(!doc.contains("javascript:"), "{doc}");
    assert!(doc.contains(">bad<") || doc.contains(" bad"), "{doc}");
    // Text is escaped: a script in a block is shown, not run.
    assert!(!body.contains("<script>alert(1)</script>"));
    assert!(
        doc.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || doc.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{doc}"
    );
    assert!(doc.contains("let a = 1 &#60; 2;") || doc.contains("let a = 1 &lt; 2;"));

    // A page without content says so quietly.
    let (_, body) = get_html(&a, &srv.url(&format!("/w/{}/p/{}", acme.id, empty.id)));
    assert!(body.contains("This page is empty."));
    assert!(!body.contains("<div class=\"doc\">"));
}
