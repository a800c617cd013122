//! Issue 27 in a browser: the page picker at scale (item 6), keyboard
//! parity (item 8: skip link, trees with one Tab stop, Escape back to the
//! menu button, connecting by keyboard in ≤ 12 presses), the collapsible
//! sidebar (item 11) and an internal integration's **Access** (item 4).

use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use pagegrant::db::models::{IntegrationKind, Page};
use pagegrant::domain::integrations::{Created, NewIntegration};

use crate::kit::browser::*;
use crate::kit::*;

const TAB: char = '\u{E004}';
const ENTER: char = '\u{E007}';
const ESCAPE: char = '\u{E00C}';
const SPACE: char = ' ';
const LEFT: char = '\u{E012}';
const RIGHT: char = '\u{E014}';
const DOWN: char = '\u{E015}';
const END: char = '\u{E010}';
const HOME: char = '\u{E011}';

/// Presses one key where the focus is (as a person does: no element is
/// clicked or focused first).
fn press(d: &Driver, key: char) {
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    d.rt.block_on(d.c().perform_actions(actions)).expect("key");
    std::thread::sleep(Duration::from_millis(60));
}

fn js(d: &Driver, script: &str) -> serde_json::Value {
    d.rt.block_on(d.c().execute(script, vec![]))
        .expect("script")
}

fn js_str(d: &Driver, script: &str) -> String {
    js(d, script).as_str().unwrap_or_default().to_string()
}

fn focused(d: &Driver) -> String {
    js_str(d, "var e = document.activeElement; return (e.getAttribute('data-title') || e.getAttribute('aria-label') || e.textContent || '').trim()")
}

fn shown(d: &Driver, xpath: &str) -> bool {
    d.find_all(xpath)
        .iter()
        .any(|e| d.rt.block_on(e.is_displayed()).unwrap_or(false))
}

fn checked_box(d: &Driver, title: &str) -> bool {
    let e = d.find(&format!(
        "//li[@data-title={}]//input",
        xpath_literal(title)
    ));
    d.rt.block_on(e.prop("checked")).expect("prop").as_deref() == Some("true")
}

fn consent_url(fx: &Fx) -> String {
    authorize_url(&fx.srv, &base(&fx.conf.integration.client_id, &[]))
}

#[test]
fn picker_opens_collapsed_with_the_search_focused_and_selects_by_level() {
    let fx = fixture();
    let d = Driver::start();
    d.login_as(&fx.srv, "grace@example.com");
    d.goto(&consent_url(&fx));
    d.click_label("Select pages");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        js_str(&d, "return document.activeElement.className"),
        "picker-search"
    );
    // Top-level pages only: Roadmap waits inside its collapsed parent.
    assert!(shown(&d, "//li[@data-title='Engineering']"));
    assert!(!shown(&d, "//li[@data-title='Roadmap']"));
    d.click("//button[@aria-label='Expand Engineering']");
    assert!(shown(&d, "//li[@data-title='Roadmap']"));
    // Select all under a parent ticks its sub-pages; at the top, the
    // top-level pages; Select none there leaves the sub-pages' own ticks.
    d.click("//button[@aria-label='Select all in Engineering']");
    assert!(checked_box(&d, "Roadmap"));
    d.click("//p[contains(@class,'picker-tools')]//button[normalize-space()='Select all']");
    assert_eq!(
        d.text("//p[contains(@class,'picker-summary')]"),
        "3 pages will be shared: Engineering, Grace Scratch Quokka"
    );
    d.click("//p[contains(@class,'picker-tools')]//button[normalize-space()='Select none']");
    assert_eq!(
        d.text("//p[contains(@class,'picker-summary')]"),
        "1 page will be shared: Roadmap"
    );
    // Allow access stays in view in the sticky footer.
    d.screenshot_both("picker-levels");
    // A search lists matches flat, with their path; nothing found says so.
    d.fill_search("Road");
    assert!(shown(
        &d,
        "//ul[contains(@class,'searching')]/li[@data-title='Roadmap']"
    ));
    assert!(!shown(&d, "//li[@data-title='Engineering']"));
    assert_eq!(
        d.text("//li[@data-title='Roadmap']//*[contains(@class,'picker-path')]"),
        "Engineering"
    );
    d.screenshot_both("picker-search");
    d.fill_search("zzz");
    assert_eq!(
        d.text("//p[contains(@class,'picker-nomatch')]"),
        "No pages match “zzz”"
    );
    d.fill_search("");
    assert!(shown(&d, "//li[@data-title='Engineering']"));
    // The same in the dark theme, for a person to look at.
    let d = Driver::start_with(1280, 800, &["--blink-settings=preferredColorScheme=0"]);
    d.login_as(&fx.srv, "grace@example.com");
    d.goto(&consent_url(&fx));
    d.click_label("Select pages");
    d.click("//button[@aria-label='Expand Engineering']");
    d.screenshot_both("picker-dark");
}

/// Pages `from..total` as top-level pages ("Team NNN") every `per_team`,
/// each followed by its sub-pages ("Doc NNN.MM").
fn grow(fx: &Fx, team_word: &str, from: usize, total: usize, per_team: usize) -> Vec<Page> {
    let mut made = Vec::new();
    let mut team: Option<Page> = None;
    for i in from..total {
        let page = if i % per_team == 0 {
            let t = fx.srv.page(
                &fx.acme,
                &fx.ada,
                &format!("{team_word} {:03}", i / per_team),
                None,
                false,
            );
            team = Some(t.clone());
            t
        } else {
            let title = format!("Doc {:03}.{:02}", i / per_team, i % per_team);
            fx.srv.page(&fx.acme, &fx.ada, &title, team.as_ref(), false)
        };
        made.push(page);
    }
    made
}

/// Server render time (best of three), DOM size, search time and whether
/// Allow access shows, for the consent page at this size.
fn measure(fx: &Fx, d: &Driver, pages: usize) -> String {
    let g = logged_in(&fx.srv, "grace@example.com");
    let url = consent_url(fx);
    let mut best = Duration::MAX;
    let mut bytes = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let (status, body) = get_html(&g, &url);
        best = best.min(t.elapsed());
        assert_eq!(status, 200);
        bytes = body.len();
    }
    d.goto(&url);
    d.click_label("Select pages");
    let dom = js(d, "return document.getElementsByTagName('*').length")
        .as_u64()
        .unwrap_or(0);
    let search_ms = js(
        d,
        "var s = document.querySelector('.picker-search'); var t = performance.now(); s.value = 'Doc 007'; s.dispatchEvent(new Event('input')); var ms = performance.now() - t; s.value = ''; s.dispatchEvent(new Event('input')); return ms;",
    )
    .as_f64()
    .unwrap_or(-1.0);
    let tick_ms = js(
        d,
        "var b = document.querySelector('.picker-tools [data-select=all]'); var t = performance.now(); b.click(); return performance.now() - t;",
    )
    .as_f64()
    .unwrap_or(-1.0);
    let in_view = js(
        d,
        "var b = Array.prototype.find.call(document.querySelectorAll('button'), function (x) { return x.textContent === 'Allow access'; }); var r = b.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;",
    );
    assert_eq!(
        in_view,
        serde_json::json!(true),
        "Allow access out of view at {pages} pages"
    );
    let rows = js(
        d,
        "return document.querySelectorAll('.picker-list li:not([hidden])').length",
    )
    .as_u64()
    .unwrap_or(0);
    format!(
        "{pages} pages: server render {:.1} ms (best of 3, {} KiB of HTML), {dom} DOM elements, {rows} rows showing at open, search {search_ms:.1} ms, top-level Select all {tick_ms:.1} ms",
        best.as_secs_f64() * 1000.0,
        bytes / 1024
    )
}

#[test]
fn picker_with_200_and_2000_pages_stays_usable() {
    let fx = fixture();
    let d = Driver::start();
    d.login_as(&fx.srv, "grace@example.com");
    grow(&fx, "Team", 0, 200, 20);
    let small = measure(&fx, &d, 200);
    d.screenshot_both("picker-200");
    grow(&fx, "Group", 200, 2000, 50);
    let large = measure(&fx, &d, 2000);
    d.screenshot_both("picker-2000");
    // Open at the top level only: 2000 pages show as their 46 parents.
    let rows = js(
        &d,
        "return document.querySelectorAll('.picker-list li:not([hidden])').length",
    );
    assert!(rows.as_u64().unwrap_or(0) < 60, "{rows}");
    let note = format!("{small}\n{large}\n");
    eprintln!("{note}");
    let _ = std::fs::create_dir_all(screenshot_dir());
    let _ = std::fs::write(screenshot_dir().join("picker-scale.txt"), note);
}

#[test]
fn keyboard_connects_the_demo_partner_in_at_most_12_presses() {
    let srv = TestServer::start_demo();
    let d = Driver::start();
    let authorize = format!(
        "{}/v1/oauth/authorize?client_id={}&response_type=code&owner=user&state=kb&code_challenge={CHALLENGE}&code_challenge_method=S256",
        srv.base,
        pagegrant::domain::demo::PARTNER_CLIENT_ID
    );
    d.goto(&authorize);
    d.fill("Email", "grace@example.com");
    d.fill("Password", pagegrant::domain::demo::DEMO_PASSWORD);
    d.click_label("Log in");
    d.find("//h1[contains(., 'Demo Partner wants to access')]");
    // From here on, only keys.
    let presses = std::cell::Cell::new(0);
    let key = |k: char| {
        press(&d, k);
        presses.set(presses.get() + 1);
    };
    while focused(&d) != "Select pages" {
        assert!(
            presses.get() < 12,
            "Select pages not reached: {}",
            focused(&d)
        );
        key(TAB);
    }
    key(ENTER);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        js_str(&d, "return document.activeElement.className"),
        "picker-search"
    );
    key(DOWN);
    assert_eq!(
        js_str(&d, "return document.activeElement.getAttribute('role')"),
        "treeitem"
    );
    key(SPACE);
    assert_eq!(
        js_str(
            &d,
            "return document.activeElement.getAttribute('aria-checked')"
        ),
        "true"
    );
    while focused(&d) != "Allow access" {
        assert!(
            presses.get() < 12,
            "Allow access not reached: {}",
            focused(&d)
        );
        key(TAB);
    }
    key(ENTER);
    wait_for(
        || d.url().contains("/demo/partner/callback"),
        "the partner's callback",
    );
    assert!(d.url().contains("code="), "{}", d.url());
    let presses = presses.get();
    eprintln!("connected by keyboard in {presses} presses");
    assert!(presses <= 12, "{presses} presses");
}

#[test]
fn skip_link_first_and_the_sidebar_is_a_tree_with_one_tab_stop() {
    let fx = fixture();
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(&fx.srv.url(&format!("/w/{}", fx.acme.id)));
    d.find("//aside[@aria-label='Sidebar']");
    js(&d, "localStorage.clear(); document.activeElement.blur()");
    // The first Tab stop is a visible "Skip to content" that lands in main.
    press(&d, TAB);
    assert_eq!(focused(&d), "Skip to content");
    let top = js(
        &d,
        "return document.activeElement.getBoundingClientRect().top",
    )
    .as_f64()
    .unwrap_or(-1.0);
    assert!(top >= 0.0, "skip link off screen at {top}");
    d.screenshot("skip-link");
    press(&d, ENTER);
    assert_eq!(js_str(&d, "return document.activeElement.id"), "content");
    // One Tab stop in the tree; arrows move, Left/Right collapse and expand.
    let stops = js(
        &d,
        "return document.querySelectorAll('.page-tree [role=treeitem][tabindex=\"0\"]').length",
    );
    assert_eq!(stops, serde_json::json!(1));
    let eng = format!(
        "document.querySelector(\".page-tree a[href$='/p/{}']\").focus()",
        fx.eng.id
    );
    js(&d, &eng);
    press(&d, DOWN);
    assert!(focused(&d).contains("Roadmap"), "{}", focused(&d));
    assert_eq!(
        js(&d, "return document.activeElement.tabIndex"),
        serde_json::json!(0),
        "the Tab stop moves with the focus"
    );
    press(&d, LEFT);
    assert!(
        focused(&d).contains("Engineering"),
        "Left goes to the parent: {}",
        focused(&d)
    );
    press(&d, LEFT);
    assert!(!shown(
        &d,
        "//ul[contains(@class,'page-tree')]//a[contains(., 'Roadmap')]"
    ));
    assert_eq!(
        js_str(
            &d,
            "return document.activeElement.getAttribute('aria-expanded')"
        ),
        "false"
    );
    d.screenshot("sidebar-collapsed");
    // Remembered across pages; a chevron click opens it again.
    d.reload();
    let before = d.url();
    assert!(!shown(
        &d,
        "//ul[contains(@class,'page-tree')]//a[contains(., 'Roadmap')]"
    ));
    d.click("//ul[contains(@class,'page-tree')]//a[contains(., 'Engineering')]/span[contains(@class,'tree-chev')]");
    assert!(shown(
        &d,
        "//ul[contains(@class,'page-tree')]//a[contains(., 'Roadmap')]"
    ));
    assert!(d.url() == before, "the chevron does not navigate");
    js(&d, &eng);
    press(&d, RIGHT);
    assert!(
        focused(&d).contains("Roadmap"),
        "Right enters an open parent: {}",
        focused(&d)
    );
    press(&d, END);
    press(&d, HOME);
    assert_ne!(focused(&d), "", "Home and End stay in the tree");
    js(&d, &eng);
    press(&d, RIGHT);
    press(&d, ENTER);
    wait_for(
        || d.url().contains(&format!("/p/{}", fx.roadmap.id)),
        "Enter opens the page",
    );
}

#[test]
fn escape_closes_a_menu_and_returns_focus_to_its_button() {
    let fx = fixture();
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(&fx.srv.url(&format!("/w/{}/p/{}", fx.acme.id, fx.eng.id)));
    for summary in ["Switch workspace", "Page menu"] {
        let xp = format!("//summary[@aria-label='{summary}']");
        if d.find_all(&xp).is_empty() {
            continue;
        }
        let s = d.find(&xp);
        d.rt.block_on(s.send_keys(&DOWN.to_string())).expect("down");
        assert_eq!(js(&d, &format!("return document.querySelector(\"summary[aria-label='{summary}']\").parentNode.open")), serde_json::json!(true));
        assert_ne!(focused(&d), summary, "focus went into the menu");
        press(&d, ESCAPE);
        assert_eq!(js(&d, &format!("return document.querySelector(\"summary[aria-label='{summary}']\").parentNode.open")), serde_json::json!(false));
        assert_eq!(focused(&d), summary);
    }
    // The same on a Settings row's •••.
    d.click_label("Settings & members");
    let row = "//summary[starts-with(@aria-label,'Actions for')]";
    if !d.find_all(row).is_empty() {
        let s = d.find(row);
        let label =
            d.rt.block_on(s.attr("aria-label"))
                .expect("attr")
                .unwrap_or_default();
        d.rt.block_on(s.send_keys(&DOWN.to_string())).expect("down");
        press(&d, ESCAPE);
        assert_eq!(focused(&d), label);
    }
}

/// Grace's internal integration "Reports" in Acme.
fn reports(fx: &Fx) -> Created {
    pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        NewIntegration {
            name: "Reports".into(),
            kind: Some(IntegrationKind::Internal),
            workspace: Some(fx.acme.clone()),
            created_by: Some(fx.grace.clone()),
            ..Default::default()
        },
    )
    .expect("internal")
}

fn shared_with(fx: &Fx, made: &Created) -> usize {
    pagegrant::db::queries::connections::page_ids(
        &mut fx.srv.conn(),
        made.connection_id.as_ref().expect("c"),
    )
    .expect("pages")
    .len()
}

#[test]
fn internal_integration_gets_pages_from_its_page_and_from_settings() {
    let fx = fixture();
    let made = reports(&fx);
    let d = Driver::start();
    d.login_as(&fx.srv, "grace@example.com");
    d.click_label("My integrations");
    d.click("//a[normalize-space()='Reports']");
    d.find("//h2[normalize-space()='Access']");
    d.click("//section[@id='access']//label[normalize-space()='Engineering']");
    assert_eq!(
        d.text("//section[@id='access']//p[contains(@class,'picker-summary')]"),
        "2 pages will be shared: Engineering"
    );
    d.screenshot_both("access-developer");
    d.submit_label("Save access");
    assert_eq!(
        d.text("//p[@class='flash']"),
        "Saved the pages Reports can reach: shared 1 page"
    );
    assert_eq!(shared_with(&fx, &made), 1);
    assert!(checked_box(&d, "Engineering"));

    // The owner: Settings → the row's ••• → Edit access, the same picker.
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.click_label("Settings & members");
    d.click("//summary[@aria-label='Actions for Reports']");
    d.click_label("Edit access");
    d.find("//h1[normalize-space()='Edit access: Reports']");
    assert!(checked_box(&d, "Engineering"));
    d.screenshot_both("access-settings");
    d.click("//label[normalize-space()='Engineering']");
    d.submit_label("Save access");
    assert_eq!(
        d.text("//p[@class='flash']"),
        "Saved the pages Reports can reach"
    );
    assert_eq!(shared_with(&fx, &made), 0);
}

#[test]
fn picker_tree_answers_the_keyboard() {
    let fx = fixture();
    let d = Driver::start();
    d.login_as(&fx.srv, "grace@example.com");
    d.goto(&consent_url(&fx));
    d.click_label("Select pages");
    std::thread::sleep(Duration::from_millis(100));
    press(&d, DOWN);
    assert_eq!(focused(&d), "Engineering");
    press(&d, RIGHT);
    assert!(shown(&d, "//li[@data-title='Roadmap']"));
    press(&d, RIGHT);
    assert!(focused(&d).starts_with("Roadmap"), "{}", focused(&d));
    press(&d, SPACE);
    assert!(checked_box(&d, "Roadmap"));
    press(&d, LEFT);
    assert!(focused(&d).starts_with("Engineering"), "{}", focused(&d));
    press(&d, LEFT);
    assert!(!shown(&d, "//li[@data-title='Roadmap']"));
    press(&d, END);
    assert!(
        focused(&d).starts_with("Grace Scratch Quokka"),
        "{}",
        focused(&d)
    );
    // One Tab stop: Tab leaves the tree for the footer.
    press(&d, TAB);
    assert_eq!(focused(&d), "Cancel");
}
