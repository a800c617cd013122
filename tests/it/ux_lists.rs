//! Issue 27, items 7, 9–11 (server side): Settings → Connections grouped by
//! integration, sorted and paged at 130 integrations; My integrations'
//! search without JavaScript; confirm pages' button order; leaf pages; the
//! page menu's Disconnect names; the switcher's colours.

use crate::kit::*;

fn connections_page(fx: &Fx, c: &reqwest::blocking::Client, query: &str) -> String {
    let (status, page) = get_html(
        c,
        &fx.srv
            .url(&format!("/w/{}/settings/connections{query}", fx.acme.id)),
    );
    assert_eq!(status, 200, "{query}");
    page
}

fn group_names(page: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(page);
    select(&doc, "#connections-table tbody.group")
        .iter()
        .map(|g| {
            let name = select_in(g, ".group-name")
                .or_else(|| select_in(g, ".conn-name"))
                .unwrap_or_default();
            html_unescape(&name)
        })
        .collect()
}

fn select_in(e: &scraper::ElementRef<'_>, css: &str) -> Option<String> {
    let sel = scraper::Selector::parse(css).expect("selector");
    e.select(&sel)
        .next()
        .map(|x| x.text().collect::<String>().trim().to_string())
}

#[test]
fn connections_are_grouped_by_integration_sorted_and_paged_past_50() {
    let fx = big_world();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let first = connections_page(&fx, &ada, "");
    let names = group_names(&first);
    assert_eq!(names.len(), 50, "one page holds 50 integrations");
    // Bot 001–050 have one connection each. (Sorted by date this page
    // would hold Partner's group of two whenever the world took more than
    // a second to build, and 51 rows.)
    assert_eq!(
        first.matches("class=\"conn-name\"").count(),
        50,
        "and only their connections"
    );
    assert_eq!(names[0], "Bot 001", "A to Z by default");
    assert!(
        first.contains("Showing 1–50 of 130"),
        "the pager says where we are"
    );
    let next = attr(&first, "a[rel=next]", "href").expect("Next");
    assert!(
        next.contains("page=2") && next.contains("sort=name"),
        "{next}"
    );
    assert!(!has(&first, "a[rel=prev]"), "no Previous on page 1");
    // Page 3 holds Bot 101–128, Docs Hub and Partner's group of two.
    let day_before = today();
    let last = connections_page(&fx, &ada, "?sort=name&page=3");
    let day_after = today();
    assert!(last.contains("Showing 101–130 of 130"));
    let names = group_names(&last);
    assert_eq!(names.len(), 30);
    assert_eq!(names[28], "Docs Hub");
    assert_eq!(names[29], "Partner <b>App</b>");
    assert!(has(&last, "a[rel=prev]") && !has(&last, "a[rel=next]"));
    let doc = scraper::Html::parse_document(&last);
    let partner = select(&doc, "tbody.group.multi");
    assert_eq!(partner.len(), 1, "one integration with several connections");
    // The day the page was rendered (a run across midnight sees either).
    let count = select_in(&partner[0], ".group-count").unwrap_or_default();
    assert!(
        [&day_before, &day_after]
            .iter()
            .any(|d| count == format!("2 connections · last used {d}")),
        "{count}"
    );
    let who: Vec<String> = {
        let sel = scraper::Selector::parse("tr.sub td[data-label='Added by']").expect("sel");
        partner[0]
            .select(&sel)
            .map(|t| t.text().collect::<String>())
            .collect()
    };
    assert_eq!(who.len(), 2);
    assert!(who.contains(&"Ada".to_string()) && who.contains(&"Grace".to_string()));
    // Most recently connected first; most recently used first (an agent's
    // last MCP call counts as use).
    let (bot77, bot50) = (connection_of(&fx, "Bot 077"), connection_of(&fx, "Bot 050"));
    {
        use diesel::prelude::*;
        use pagegrant::db::schema::connections as t;
        diesel::update(t::table.filter(t::id.eq(&bot77)))
            .set(t::created_at.eq(pagegrant::db::models::now() + 3600))
            .execute(&mut fx.srv.conn())
            .expect("later");
        pagegrant::domain::connections::note_mcp_use(
            &mut fx.srv.conn(),
            &bot50,
            pagegrant::db::models::now() + 7200,
        )
        .expect("use");
    }
    let recent = connections_page(&fx, &ada, "?sort=connected");
    assert_eq!(group_names(&recent)[0], "Bot 077");
    assert!(recent.contains("aria-current=\"true\" class=\"current\">Date connected<"));
    let used = connections_page(&fx, &ada, "?sort=used");
    assert_eq!(group_names(&used)[..2], ["Bot 050", "Bot 077"]);
    // Bad or out-of-range pages and sorts are not errors.
    for q in [
        "?page=abc",
        "?page=-1",
        "?sort=%3Cb%3E",
        "?page=99999999999999999999",
    ] {
        let page = connections_page(&fx, &ada, q);
        assert!(page.contains("Showing 1–50 of 130"), "{q}");
    }
    assert!(connections_page(&fx, &ada, "?page=9").contains("Showing 101–130 of 130"));
    // A member sees only her own: two, no pager.
    let grace = logged_in(&fx.srv, "grace@example.com");
    let mine = connections_page(&fx, &grace, "");
    assert_eq!(group_names(&mine), vec!["Docs Hub", "Partner <b>App</b>"]);
    assert!(!mine.contains("Showing "));
}

fn connection_of(fx: &Fx, name: &str) -> pagegrant::db::models::ConnectionId {
    use diesel::prelude::*;
    use pagegrant::db::schema::{connections as c, integrations as i};
    c::table
        .inner_join(i::table)
        .filter(i::name.eq(name))
        .select(c::id)
        .first(&mut fx.srv.conn())
        .expect("connection")
}

fn today() -> String {
    pagegrant::http::layout::format_date(pagegrant::db::models::now())
}

#[test]
fn my_integrations_search_works_without_javascript() {
    let fx = big_world();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (status, all) = get_html(&ada, &fx.srv.url("/developers"));
    assert_eq!(status, 200);
    assert!(has(&all, "input[type=search][name=q]"), "a search box");
    assert_eq!(
        select(
            &scraper::Html::parse_document(&all),
            "#integrations-table tbody tr"
        )
        .len(),
        128
    );
    let (_, found) = get_html(&ada, &fx.srv.url("/developers?q=bot%2012"));
    let doc = scraper::Html::parse_document(&found);
    let rows: Vec<String> = select(&doc, "#integrations-table .conn-name")
        .iter()
        .map(|e| e.text().collect::<String>())
        .collect();
    let expected: Vec<String> = (120..=128).map(|n| format!("Bot {n}")).collect();
    assert_eq!(rows, expected, "names holding “bot 12”, any case");
    assert_eq!(
        input_value(&found, "q").as_deref(),
        Some("bot 12"),
        "the box keeps the query"
    );
    assert!(found.contains("9 of 128 integrations match"));
    let (_, none) = get_html(&ada, &fx.srv.url("/developers?q=%3Cscript%3E"));
    assert!(
        none.contains("No integrations match “&lt;script&gt;”")
            || none.contains("No integrations match “&#60;script&#62;”")
    );
    assert!(!none.contains("<script>"));
}

/// Every confirmation page: Cancel first, then the action.
#[test]
fn confirm_pages_put_cancel_before_the_action() {
    let fx = fixture();
    connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let ada = logged_in(&fx.srv, "ada@example.com");
    let conn = connection_of(&fx, "Partner <b>App</b>");
    let ws = format!("/w/{}", fx.acme.id);
    let made = pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "Ada's app".into(),
            kind: Some(pagegrant::db::models::IntegrationKind::Public),
            redirect_uris: vec![CB.into()],
            created_by: Some(fx.ada.clone()),
            ..Default::default()
        },
    )
    .expect("register");
    let mine = made.integration.id;
    let pages = [
        format!("{ws}/settings/connections/{conn}/disconnect"),
        format!(
            "{ws}/settings/enterprise/disconnect-all?integration_id={}",
            fx.conf.integration.id
        ),
        format!(
            "{ws}/p/{}/connections/remove?connection_id={conn}",
            fx.eng.id
        ),
        format!(
            "{ws}/p/{}/connections/add?connection_id={conn}",
            fx.roadmap.id
        ),
        format!("{ws}/settings/members/{}/remove", fx.grace.id),
        format!("/developers/{mine}/delete"),
        format!("/developers/{mine}/rotate"),
    ];
    for p in pages {
        let (status, page) = get_html(&ada, &fx.srv.url(&p));
        assert_eq!(status, 200, "{p}");
        let doc = scraper::Html::parse_document(&page);
        let actions = select(&doc, "form.actions");
        assert_eq!(actions.len(), 1, "{p}");
        let sel = scraper::Selector::parse("a.btn, button").expect("sel");
        let order: Vec<String> = actions[0]
            .select(&sel)
            .map(|e| e.text().collect::<String>().trim().to_string())
            .collect();
        assert_eq!(order.len(), 2, "{p}: {order:?}");
        assert_eq!(order[0], "Cancel", "{p}: {order:?}");
    }
}

/// A page without sub-pages has no empty Sub-pages section; the page
/// menu's Disconnect links say what they disconnect.
#[test]
fn leaf_pages_have_no_sub_pages_section_and_disconnects_are_named() {
    let fx = fixture();
    connect(&fx, "ada@example.com", fx.acme.id.as_str(), &[&fx.roadmap]);
    let docs = register(&fx.srv, "Docs Hub", &[CB], false, false);
    connect_with(
        &fx,
        &docs,
        "ada@example.com",
        fx.acme.id.as_str(),
        &[&fx.roadmap],
    );
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (_, leaf) = get_html(
        &ada,
        &fx.srv
            .url(&format!("/w/{}/p/{}", fx.acme.id, fx.roadmap.id)),
    );
    assert!(!leaf.contains("Sub-pages") && !leaf.contains("No sub-pages"));
    let names = attrs(&leaf, ".reach-list a.danger", "aria-label");
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.contains(&"Disconnect Partner &lt;b&gt;App&lt;/b&gt;".to_string())
            || names
                .iter()
                .any(|n| html_unescape(n) == "Disconnect Partner <b>App</b>"),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| html_unescape(n) == "Disconnect Docs Hub"),
        "{names:?}"
    );
    let (_, parent) = get_html(
        &ada,
        &fx.srv.url(&format!("/w/{}/p/{}", fx.acme.id, fx.eng.id)),
    );
    assert!(parent.contains(">Sub-pages<") && parent.contains("Roadmap"));
}

/// The switcher tells workspaces apart by colour as well as initial, the
/// same colour in the sidebar, and roles and plans are sentence case.
#[test]
fn switcher_workspaces_have_distinct_colours_and_sentence_case() {
    let fx = fixture();
    // A third workspace with Acme's initial.
    fx.srv
        .workspace("Apex Labs", &fx.ada, pagegrant::db::models::Plan::Free);
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (_, page) = get_html(&ada, &fx.srv.url(&format!("/w/{}", fx.acme.id)));
    let hues: Vec<String> = attrs(&page, ".switcher-list .ws-icon", "class");
    assert_eq!(hues.len(), 3, "{hues:?}");
    let mut distinct = hues.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "three colours: {hues:?}");
    let sidebar = attr(&page, ".ws-title .ws-icon", "class").expect("sidebar icon");
    let current = attr(&page, ".switcher-list a.current .ws-icon", "class").expect("current");
    let hue = |c: &str| {
        c.split(' ')
            .find(|w| w.starts_with("hue-"))
            .map(str::to_string)
    };
    assert!(hue(&sidebar).is_some());
    assert_eq!(
        hue(&sidebar),
        hue(&current),
        "one colour per workspace everywhere"
    );
    assert!(
        page.contains(">Enterprise plan<"),
        "sentence case plan badge"
    );
    assert!(page.contains(">Owner</span>"), "sentence case role");
}

/// The audit log tells a reconnect from a first connect, a token copied
/// with one press from one revealed on screen, and marks up its times for
/// local display with UTC on hover.
#[test]
fn audit_tells_reconnect_from_connect_and_copied_from_revealed() {
    let fx = fixture();
    connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let conn = connection_of(&fx, "Partner <b>App</b>");
    let ada = logged_in(&fx.srv, "ada@example.com");
    let ws = format!("/w/{}", fx.acme.id);
    // Ada disconnects it; Grace connects it again.
    let csrf = csrf_of(&fx, &ada);
    let r = ada
        .post(
            fx.srv
                .url(&format!("{ws}/settings/connections/{conn}/disconnect")),
        )
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("disconnect");
    assert_eq!(r.status(), 303);
    connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    // An internal token, copied with one press, then revealed on its page.
    let made = pagegrant::domain::connections::create_internal(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        &fx.acme,
        pagegrant::db::models::Role::Owner,
        &fx.ada.id,
        "Reports Bot",
    )
    .expect("internal");
    let token_url = fx.srv.url(&format!(
        "{ws}/settings/connections/{}/token",
        made.connection_id.expect("connection")
    ));
    let copy = ada
        .post(&token_url)
        .header("Accept", "application/json")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("copy");
    assert_eq!(copy.status(), 200);
    let shown = ada
        .post(&token_url)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("reveal");
    assert_eq!(shown.status(), 200);
    let (status, log) = get_html(&ada, &fx.srv.url(&format!("{ws}/settings/audit")));
    assert_eq!(status, 200);
    let text = html_unescape(&log);
    assert!(
        text.contains("Grace connected Partner <b>App</b> and shared 1 page with it"),
        "first connect"
    );
    assert!(
        text.contains("Grace reconnected Partner <b>App</b> and shared 1 page with it"),
        "the reconnect"
    );
    assert!(text.contains("Ada copied the token of Reports Bot to the clipboard"));
    assert!(text.contains("Ada revealed the token of Reports Bot on screen"));
    // <time datetime="…Z" title="… UTC">… UTC</time>: UTC without JavaScript.
    let doc = scraper::Html::parse_document(&log);
    let times = select(&doc, "td.when time");
    assert!(!times.is_empty());
    for t in times {
        let iso = t.value().attr("datetime").expect("datetime");
        let title = t.value().attr("title").expect("title");
        assert!(iso.ends_with('Z') && iso.len() == 20, "{iso}");
        assert!(title.ends_with(" UTC"), "{title}");
        assert_eq!(t.text().collect::<String>(), title);
    }
}

/// Success messages are one-time notes: the address holds no flag and a
/// reload says nothing; the install-policy save returns to its block.
#[test]
fn success_messages_show_once_and_the_policy_save_returns_to_its_block() {
    let fx = fixture();
    connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let conn = connection_of(&fx, "Partner <b>App</b>");
    let ada = logged_in(&fx.srv, "ada@example.com");
    let ws = format!("/w/{}", fx.acme.id);
    let csrf = csrf_of(&fx, &ada);
    let r = ada
        .post(fx.srv.url(&format!("{ws}/settings/enterprise")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "policy"),
            ("policy", "approved_only"),
        ])
        .send()
        .expect("policy");
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert_eq!(to, format!("{ws}/settings/connections#install-policy"));
    let (_, page) = get_html(&ada, &fx.srv.url(&to));
    let doc = scraper::Html::parse_document(&page);
    let said = select(&doc, "section.enterprise p.flash[role=status]");
    assert_eq!(said.len(), 1, "said inside the block it changed");
    assert_eq!(
        said[0].text().collect::<String>(),
        "Saved who may install connections"
    );
    assert!(has(&page, "h3#install-policy[tabindex='-1']"));
    let (_, again) = get_html(&ada, &fx.srv.url(&to));
    assert!(
        !again.contains("Saved who may install connections"),
        "not on reload"
    );
    // Disconnect: the same.
    let r = ada
        .post(
            fx.srv
                .url(&format!("{ws}/settings/connections/{conn}/disconnect")),
        )
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("disconnect");
    let to = location(&r);
    assert!(!to.contains('?'), "{to}");
    let (_, page) = get_html(&ada, &fx.srv.url(&to));
    assert!(html_unescape(&page).contains("Disconnected Partner <b>App</b>"));
    let (_, again) = get_html(&ada, &fx.srv.url(&to));
    assert!(
        !html_unescape(&again).contains("Disconnected Partner"),
        "not on reload"
    );
    // Another session cannot read Ada's note, and old flags say nothing.
    let (_, crafted) = get_html(
        &ada,
        &fx.srv.url(&format!(
            "{ws}/settings/connections?disconnected={conn}&done=policy"
        )),
    );
    assert!(!crafted.contains("Disconnected") && !crafted.contains("Saved who may"));
}

/// The page ••• menu's changes say so once, with no flag in the address.
#[test]
fn page_menu_changes_say_so_once() {
    let fx = fixture();
    connect(&fx, "ada@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let conn = connection_of(&fx, "Partner <b>App</b>").to_string();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let csrf = csrf_of(&fx, &ada);
    let page = format!("/w/{}/p/{}", fx.acme.id, fx.ada_private.id);
    let r = ada
        .post(fx.srv.url(&format!("{page}/connections/add")))
        .form(&[("csrf", csrf.as_str()), ("connection_id", conn.as_str())])
        .send()
        .expect("add");
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), page, "no flag in the address");
    let (_, shown) = get_html(&ada, &fx.srv.url(&page));
    assert!(html_unescape(&shown).contains("Partner <b>App</b> can now see Ada Secret Zebra."));
    let (_, again) = get_html(&ada, &fx.srv.url(&page));
    assert!(!again.contains("can now see"), "not on reload");
}
