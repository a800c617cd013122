//! Issue 27 in the browser, items 7, 9, 10 and 11's polish: Settings →
//! Connections at 130 integrations (grouped, sorted, paged, + Add
//! connection scrolling with a cue), My integrations' search, every page
//! at 390 px, and colour contrast in both themes.

use crate::kit::browser::*;
use crate::kit::*;

fn js(d: &Driver, script: &str) -> serde_json::Value {
    d.rt.block_on(d.c().execute(script, vec![]))
        .unwrap_or_else(|e| panic!("script {script}: {e}"))
}

fn js_f64(d: &Driver, script: &str) -> f64 {
    js(d, script)
        .as_f64()
        .unwrap_or_else(|| panic!("a number from {script}"))
}

fn displayed(d: &Driver, xpath: &str) -> Vec<bool> {
    d.find_all(xpath)
        .iter()
        .map(|e| d.rt.block_on(e.is_displayed()).unwrap_or(false))
        .collect()
}

/// `n` first-party integrations, so + Add connection has more than fits.
fn many_offers(fx: &Fx, n: usize) {
    for i in 0..n {
        register(
            &fx.srv,
            &format!("Suite app {i:02}"),
            &[&format!("https://suite{i}.example/cb")],
            false,
            true,
        );
    }
}

#[test]
fn browser_connections_at_scale_grouped_sorted_paged_and_add_list_scrolls() {
    let fx = big_world();
    many_offers(&fx, 20);
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    d.find("//span[normalize-space()='Showing 1–50 of 130']");
    assert_eq!(d.find_all("//tbody[contains(@class,'group')]").len(), 50);
    d.screenshot_both("lists-connections-page1");
    // Next, Next: the last page, with Partner's group of two.
    d.click_label("Next");
    d.find("//span[normalize-space()='Showing 51–100 of 130']");
    d.click_label("Next");
    d.find("//span[normalize-space()='Showing 101–130 of 130']");
    let subs = "//tbody[contains(@class,'multi')]//tr[contains(@class,'sub')]";
    assert_eq!(displayed(&d, subs), [false, false], "collapsed at first");
    d.find("//tbody[contains(@class,'multi')]//*[normalize-space()='2 connections · last used' or starts-with(normalize-space(), '2 connections')]");
    d.click("//button[@aria-label='Show the connections of Partner <b>App</b>']");
    wait_for(|| displayed(&d, subs) == [true, true], "the group opens");
    d.find("//button[@aria-label='Hide the connections of Partner <b>App</b>' and @aria-expanded='true']");
    d.screenshot_both("lists-connections-group-open");
    // Each of its connections has its own ••• with its own name.
    d.click("//summary[@aria-label='Actions for Partner <b>App</b> added by Grace']");
    d.find("//details[@open]//a[normalize-space()='Disconnect']");
    d.click("//summary[@aria-label='Actions for Partner <b>App</b> added by Grace']");
    // Sorting is a link the server answers.
    js(
        &d,
        "document.querySelector('.sort-links').scrollIntoView({block: 'center'})",
    );
    d.click_label("Last used");
    wait_for(|| d.url().contains("sort=used"), "sorted by last used");
    d.find("//nav[@aria-label='Sort connections']//a[@aria-current='true' and normalize-space()='Last used']");
    // + Add connection: a bounded box that scrolls, saying how many.
    d.click("//summary[normalize-space()='+ Add connection']");
    // The twenty first-party ones at least; which others the catalogue
    // offers is its own business.
    let offered = d.find_all("//ul[contains(@class,'add-list')]/li").len();
    assert!(offered >= 20, "{offered}");
    let count = d.text("//details[@open]//span[@class='add-count']");
    assert_eq!(count, format!("{offered} integrations"));
    d.find(&format!(
        "//details[@open]//p[contains(@class,'more-cue') and normalize-space()='Scroll for all {offered} ↓']"
    ));
    let (client, scroll) = (
        js_f64(
            &d,
            "return document.querySelector('.add-list').clientHeight",
        ),
        js_f64(
            &d,
            "return document.querySelector('.add-list').scrollHeight",
        ),
    );
    assert!(
        client <= 300.0 && scroll > client,
        "bounded: {client} of {scroll}"
    );
    let shadow = js(
        &d,
        "return getComputedStyle(document.querySelector('.add-list')).backgroundImage",
    );
    assert!(
        shadow
            .as_str()
            .is_some_and(|s| s.contains("radial-gradient")),
        "the edge shadow cue: {shadow}"
    );
    d.screenshot_both("lists-add-connection");
}

#[test]
fn browser_connections_become_cards_on_a_phone() {
    let fx = crate::kit::fixture();
    connect(&fx, "ada@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let d = Driver::start_phone(390, 844, &[]);
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    d.click("//button[@aria-label='Show the connections of Partner <b>App</b>']");
    let head = js(
        &d,
        "return getComputedStyle(document.querySelector('#connections-table thead')).display",
    );
    assert_eq!(head.as_str(), Some("none"), "no table header on a phone");
    // Each connection is a card with its ••• inside it.
    let inside = js(
        &d,
        "return Array.from(document.querySelectorAll('#connections-table tr.conn-row')).map(function (tr) { \
           var r = tr.getBoundingClientRect(), m = tr.querySelector('summary').getBoundingClientRect(); \
           return m.left >= r.left && m.right <= r.right && m.top >= r.top && m.bottom <= r.bottom && r.right <= 390; })",
    );
    assert_eq!(inside, serde_json::json!([true, true]), "••• on each card");
    assert!(js_f64(&d, "return document.documentElement.scrollWidth") <= 390.0);
    // + Add connection opens across the screen, not squeezed beside its button.
    d.click("//summary[normalize-space()='+ Add connection']");
    let width = js_f64(
        &d,
        "return document.querySelector('details[open] .menu').getBoundingClientRect().width",
    );
    assert!(width >= 340.0, "the add list is {width} px wide");
    d.screenshot("lists-add-connection-phone");
    d.click("//summary[normalize-space()='+ Add connection']");
    d.click("//summary[@aria-label='Actions for Partner <b>App</b> added by Grace']");
    let right = js_f64(
        &d,
        "return document.querySelector('details[open] .menu').getBoundingClientRect().right",
    );
    assert!(right <= 390.0, "the row menu on screen: {right}");
    d.screenshot("lists-connections-phone-cards");
}

#[test]
fn browser_my_integrations_search_filters_as_you_type_and_on_submit() {
    let fx = big_world();
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(&fx.srv.url("/developers"));
    let rows = "//table[@id='integrations-table']//tbody/tr";
    assert_eq!(d.find_all(rows).len(), 128);
    let search = d.find("//input[@aria-label='Search integrations' or @id='integrations-search']");
    d.rt.block_on(search.send_keys("bot 12")).expect("type");
    wait_for(
        || displayed(&d, rows).iter().filter(|v| **v).count() == 9,
        "nine rows left",
    );
    d.screenshot_both("lists-developers-search-typed");
    // Enter submits the GET: the server's answer, which a reload keeps.
    d.rt.block_on(search.send_keys("\u{E007}")).expect("enter");
    wait_for(|| d.url().contains("q=bot+12"), "the query in the address");
    d.find("//p[@role='status' and starts-with(normalize-space(), '9 of 128 integrations match')]");
    assert_eq!(d.find_all(rows).len(), 9);
    d.screenshot_both("lists-developers-search-submitted");
}

/// Every page a signed-in owner, a member and a logged-out person can
/// reach fits a 390 px screen; the page ••• menu stays inside it; the
/// switcher shows only its icon; breadcrumbs ellipsise.
#[test]
fn browser_every_page_fits_a_phone() {
    let fx = crate::kit::fixture();
    connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let conn = {
        use diesel::prelude::*;
        use pagegrant::db::schema::connections as c;
        c::table
            .select(c::id)
            .first::<pagegrant::db::models::ConnectionId>(&mut fx.srv.conn())
            .expect("conn")
    };
    // A page with long content and a long title deep in the tree.
    let deep = fx.srv.page(
        &fx.acme,
        &fx.ada,
        "Quarterly planning notes for the infrastructure working group",
        Some(&fx.roadmap),
        false,
    );
    pagegrant::domain::blocks::append(
        &mut fx.srv.conn(),
        &deep.id,
        &pagegrant::domain::content::Author::User(fx.ada.id.clone()),
        &pagegrant::domain::markdown::to_blocks(
            "# A heading\n\nSome text with a https://very-long-link.example/that/goes/on/and/on/without/any/break/at/all/whatsoever\n\n```\nlet a_really_long_line_of_code = something_that_does_not_wrap(argument_one, argument_two, argument_three);\n```\n\n- [ ] a to-do\n- [x] done\n\n> a quote\n",
        ),
    )
    .expect("blocks");
    let mine = pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "Ada's long-named integration for testing".into(),
            kind: Some(pagegrant::db::models::IntegrationKind::Public),
            redirect_uris: vec![
                "https://a-very-long-host-name.example/oauth/callback/with/a/long/path".into(),
            ],
            created_by: Some(fx.ada.clone()),
            ..Default::default()
        },
    )
    .expect("register")
    .integration
    .id;
    let ws = format!("/w/{}", fx.acme.id);
    let consent = authorize_url(&fx.srv, &base(&fx.conf.integration.client_id, &[]));
    let owner_pages = vec![
        ws.clone(),
        format!("{ws}/p/{}", fx.eng.id),
        format!("{ws}/p/{}", deep.id),
        format!("{ws}/settings/connections"),
        format!("{ws}/settings/connections?tab=mine"),
        format!("{ws}/settings/members"),
        format!("{ws}/settings/audit"),
        format!("{ws}/settings/connections/{conn}/disconnect"),
        format!("{ws}/settings/connections/{conn}/users"),
        format!(
            "{ws}/settings/enterprise/disconnect-all?integration_id={}",
            fx.conf.integration.id
        ),
        format!(
            "{ws}/p/{}/connections/remove?connection_id={conn}",
            fx.eng.id
        ),
        format!("{ws}/settings/members/{}/remove", fx.grace.id),
        "/developers".into(),
        format!("/developers/{mine}"),
        format!("/developers/{mine}/delete"),
        format!("/developers/{mine}/rotate"),
        format!("/w/{}", fx.notebook.id),
        consent.clone(),
        format!("{ws}/p/00000000-0000-4000-8000-000000000000"),
    ];
    let member_pages = vec![
        ws.clone(),
        format!("{ws}/p/{}", fx.roadmap.id),
        format!("{ws}/settings/connections"),
        format!("{ws}/settings/members"),
        format!("{ws}/settings/connections/{conn}/disconnect"),
        "/developers".into(),
        consent.clone(),
    ];
    let d = Driver::start_phone(390, 844, &[]);
    let fits = |d: &Driver, what: &str| {
        let (scroll, client) = (
            js_f64(d, "return document.documentElement.scrollWidth"),
            js_f64(d, "return document.documentElement.clientWidth"),
        );
        assert!(client <= 390.0, "a phone-sized window: {client}");
        assert!(
            scroll <= 390.0,
            "{what} is {scroll} px wide at 390 px ({})",
            d.url()
        );
    };
    // Logged out: login (plain and with an OAuth request), an error page.
    let full = |p: &str| {
        if p.starts_with("http") {
            p.to_string()
        } else {
            fx.srv.url(p)
        }
    };
    for p in ["/login".to_string(), consent.clone(), "/nowhere".into()] {
        d.goto(&full(&p));
        d.find("//body");
        fits(&d, &p);
    }
    d.screenshot("lists-phone-login");
    d.login_as(&fx.srv, "ada@example.com");
    for p in &owner_pages {
        d.goto(&full(p));
        d.find("//body");
        fits(&d, p);
    }
    // The switcher is its icon; the long trail ellipsises.
    d.goto(&fx.srv.url(&format!("{ws}/p/{}", deep.id)));
    let label = displayed(
        &d,
        "//summary[@aria-label='Switch workspace']//span[@class='ws-label']",
    );
    assert_eq!(label, [false], "icon-only switcher");
    let crumbs_right = js_f64(
        &d,
        "return document.querySelector('.crumbs').getBoundingClientRect().right",
    );
    let last = js(
        &d,
        "var e = document.querySelector('.crumbs > :last-child'); return [getComputedStyle(e).textOverflow, e.scrollWidth > e.clientWidth]",
    );
    assert!(crumbs_right <= 390.0);
    assert_eq!(
        last,
        serde_json::json!(["ellipsis", true]),
        "the long title is cut with …"
    );
    // The page ••• menu opens inside the viewport.
    d.click("//summary[@aria-label='Page menu']");
    let (left, right) = (
        js_f64(&d, "return document.querySelector('details.page-menu .menu').getBoundingClientRect().left"),
        js_f64(&d, "return document.querySelector('details.page-menu .menu').getBoundingClientRect().right"),
    );
    assert!(left >= 0.0 && right <= 390.0, "page menu {left}–{right}");
    d.screenshot("lists-phone-page-menu");
    d.click("//summary[@aria-label='Page menu']");
    d.click("//summary[@aria-label='Switch workspace']");
    let right = js_f64(
        &d,
        "return document.querySelector('details[open] .menu').getBoundingClientRect().right",
    );
    assert!(right <= 390.0, "switcher menu {right}");
    d.screenshot("lists-phone-switcher");
    // A member's pages.
    let m = Driver::start_phone(390, 844, &[]);
    m.login_as(&fx.srv, "grace@example.com");
    for p in &member_pages {
        m.goto(&full(p));
        m.find("//body");
        fits(&m, p);
    }
    m.screenshot("lists-phone-member-consent");
}

/// WCAG relative luminance and contrast, from computed colours: each
/// element's text against the first opaque background behind it.
const CONTRAST_JS: &str = r#"
function rgb(s) { var m = s.match(/[\d.]+/g).map(Number); return { c: m.slice(0, 3), a: m.length > 3 ? m[3] : 1 }; }
function lin(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
function lum(c) { return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]); }
function bgOf(e) {
  for (; e; e = e.parentElement) {
    var b = rgb(getComputedStyle(e).backgroundColor);
    if (b.a > 0.5) return b.c;
  }
  return rgb(getComputedStyle(document.documentElement).backgroundColor).c;
}
var out = [];
document.querySelectorAll(arguments[0]).forEach(function (e) {
  var f = lum(rgb(getComputedStyle(e).color).c), b = lum(bgOf(e));
  out.push(Math.round(((Math.max(f, b) + 0.05) / (Math.min(f, b) + 0.05)) * 100) / 100);
});
return out;
"#;

fn ratios(d: &Driver, css: &str) -> Vec<f64> {
    let v =
        d.rt.block_on(d.c().execute(CONTRAST_JS, vec![serde_json::json!(css)]))
            .expect("contrast script");
    v.as_array()
        .expect("array")
        .iter()
        .filter_map(|x| x.as_f64())
        .collect()
}

#[test]
fn browser_contrast_reaches_aa_in_light_and_dark() {
    let fx = crate::kit::fixture();
    connect(&fx, "ada@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    pagegrant::domain::connections::create_internal(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        &fx.acme,
        pagegrant::db::models::Role::Owner,
        &fx.ada.id,
        "Reports Bot",
    )
    .expect("internal");
    for (theme, flags) in [
        ("light", &[][..]),
        ("dark", &["--blink-settings=preferredColorScheme=0"][..]),
    ] {
        let d = Driver::start_with(1280, 800, flags);
        d.login_as(&fx.srv, "ada@example.com");
        let check = |d: &Driver, what: &str, css: &str| {
            let r = ratios(d, css);
            assert!(!r.is_empty(), "{theme}: no {what} ({css}) on {}", d.url());
            for x in &r {
                assert!(*x >= 4.5, "{theme}: {what} ({css}) at {x}:1 on {}", d.url());
            }
        };
        d.goto(&fx.srv.url(&format!("/w/{}", fx.acme.id)));
        check(&d, "muted text", "main .muted");
        check(&d, "the plan badge", ".badge");
        check(&d, "sidebar links", ".side-link, .tree li a");
        check(&d, "the workspace icon", ".ws-icon");
        d.goto(
            &fx.srv
                .url(&format!("/w/{}/settings/connections", fx.acme.id)),
        );
        check(&d, "tabs", ".tabs a");
        check(&d, "table headers", "table.connections th");
        check(&d, "badges", "table.connections .badge");
        check(&d, "first-party badges", ".add-list .badge.first-party");
        check(&d, "sort links", ".sort-links a");
        check(&d, "danger links", ".row-actions a.danger");
        check(&d, "buttons", ".btn");
        let caps = d
            .rt
            .block_on(d.c().execute(
                "return Array.from(document.querySelectorAll('.badge')).map(function (b) { return getComputedStyle(b).textTransform; })",
                vec![],
            ))
            .expect("script");
        assert!(
            caps.as_array().expect("a").iter().all(|t| t == "none"),
            "{theme}: badges are sentence case in the text, not by CSS: {caps}"
        );
        d.screenshot(&format!("lists-contrast-connections-{theme}"));
        d.goto(&fx.srv.url("/developers"));
        check(&d, "the primary button", ".btn.primary");
        check(&d, "muted text", "main .muted");
        check(&d, "form labels", "main label");
        d.screenshot(&format!("lists-contrast-developers-{theme}"));
        d.goto(&fx.srv.url(&format!(
            "/w/{}/settings/enterprise/disconnect-all?integration_id={}",
            fx.acme.id, fx.conf.integration.id
        )));
        check(&d, "the danger button", ".btn.danger");
        d.goto(&fx.srv.url(&format!("/w/{}/p/{}", fx.acme.id, fx.eng.id)));
        check(
            &d,
            "links in the trail",
            ".crumbs a, .crumbs span:not(.sep)",
        );
        check(&d, "page links", "main a");
        d.screenshot(&format!("lists-contrast-page-{theme}"));
    }
}

#[test]
fn browser_audit_times_show_local_time_with_utc_on_hover() {
    let fx = crate::kit::fixture();
    connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(&fx.srv.url(&format!("/w/{}/settings/audit", fx.acme.id)));
    let t = d.find("//td[@class='when']/time");
    let title =
        d.rt.block_on(t.attr("title"))
            .expect("attr")
            .expect("title");
    let shown = d.rt.block_on(t.text()).expect("text");
    let local = js(
        &d,
        "var t = document.querySelector('td.when time'); return new Date(t.getAttribute('datetime')).toLocaleString(undefined, {year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'})",
    );
    assert!(title.ends_with(" UTC"), "{title}");
    assert_eq!(
        Some(shown.as_str()),
        local.as_str(),
        "the viewer's local time"
    );
    assert_ne!(shown, title, "converted from the server's UTC text");
    d.screenshot_both("lists-audit-local-time");
}

#[test]
fn browser_policy_save_returns_focus_to_its_block() {
    let fx = crate::kit::fixture();
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    d.click("//label[normalize-space()='Only from approved list']");
    d.submit_label("Save");
    wait_for(|| d.url().ends_with("#install-policy"), "back at the block");
    d.find("//section[contains(@class,'enterprise')]//p[@role='status' and normalize-space()='Saved who may install connections']");
    let focused = js(&d, "return document.activeElement.id");
    assert_eq!(focused.as_str(), Some("install-policy"));
    let top = js_f64(
        &d,
        "return document.getElementById('install-policy').getBoundingClientRect().top",
    );
    assert!((0.0..400.0).contains(&top), "scrolled to it: {top}");
    d.screenshot_both("lists-policy-saved");
    d.reload();
    d.find("//h3[@id='install-policy']");
    assert!(d
        .find_all("//p[@role='status' and normalize-space()='Saved who may install connections']")
        .is_empty());
}
