//! Browser tests (feature `e2e`): the walks a person takes, through
//! `kit::browser::Driver` (chromium, clicking by visible label).

use crate::kit::browser::*;
use crate::kit::*;
use std::net::TcpListener;
use std::time::{Duration, Instant};

#[test]
fn browser_login_walk_tree_and_switch_workspace() {
    let srv = TestServer::start_demo();
    let d = Driver::start();
    d.goto(&srv.url("/"));
    d.find("//h1[normalize-space()='Log in']");
    d.screenshot("login");
    d.fill("Email", "ada@example.com");
    d.fill("Password", "wrong password");
    d.click_label("Log in");
    assert_eq!(d.text("//*[@role='alert']"), "Incorrect email or password.");
    d.fill("Password", pagegrant::domain::demo::DEMO_PASSWORD);
    d.click_label("Log in");
    d.find("//main//h1[normalize-space()='Acme Corp']");
    d.screenshot("workspace-home");

    // Walk the tree: a top-level page, then a nested one from its sub-pages.
    d.click("//nav[@aria-label='Pages']//a[normalize-space()='Engineering']");
    d.find("//main//h1[normalize-space()='Engineering']");
    d.click("//main//a[contains(normalize-space(), 'Roadmap 2026')]");
    d.find("//main//h1[normalize-space()='Roadmap 2026']");
    let crumbs = d.text("//nav[@aria-label='Breadcrumbs']");
    assert!(
        crumbs.contains("Acme Corp") && crumbs.contains("Engineering"),
        "{crumbs}"
    );
    d.screenshot("page");

    // The switcher at the top right lists both of Ada's workspaces.
    d.click("//summary[@aria-label='Switch workspace']");
    d.screenshot("switcher");
    d.click("//a[@role='menuitem'][contains(normalize-space(), \"Ada's Notebook\")]");
    d.find("//main//h1[normalize-space()=\"Ada's Notebook\"]");
    assert!(
        d.find_all("//nav[@aria-label='Pages']//a[contains(., 'Recipes')]")
            .len()
            == 1
    );

    // Log out from the switcher menu; the workspace then asks for a login again.
    d.click("//summary[@aria-label='Switch workspace']");
    d.click_label("Log out");
    d.find("//h1[normalize-space()='Log in']");
    d.goto(&srv.url("/"));
    d.find("//h1[normalize-space()='Log in']");
}

#[test]
fn browser_member_sees_only_their_world() {
    let srv = TestServer::start_demo();
    let d = Driver::start();
    d.goto(&srv.url("/login"));
    d.fill("Email", "grace@example.com");
    d.fill("Password", pagegrant::domain::demo::DEMO_PASSWORD);
    d.click_label("Log in");
    d.find("//main//h1[normalize-space()='Acme Corp']");
    let tree = d.text("//nav[@aria-label='Pages']");
    assert!(tree.contains("Grace's Scratchpad"));
    assert!(!tree.contains("Ada's Drafts") && !tree.contains("Unsent Ideas"));
    d.click("//summary[@aria-label='Switch workspace']");
    assert_eq!(
        d.find_all("//a[@role='menuitem']").len(),
        1,
        "Grace is in one workspace"
    );
    d.goto(&srv.url("/w/00000000-0000-4000-8000-000000000000"));
    d.find("//h1[normalize-space()='Page not found']");
    d.screenshot("not-found");
}

/// Serves one fixed HTML page on another loopback port (another origin).
fn serve_framing_page(html: String) -> String {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten().take(8) {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                html.len(),
                html
            );
            let _ = stream.write_all(resp.as_bytes());
        }
    });
    format!("http://127.0.0.1:{port}/")
}

#[test]
fn browser_login_page_cannot_be_framed_s45() {
    let srv = TestServer::start();
    let d = Driver::start();
    // A page of another origin frames the login page: the frame must stay empty.
    let framer = serve_framing_page(format!(
        "<!doctype html><title>framer</title><iframe id=f src='{}' width=600 height=400></iframe>",
        srv.url("/login")
    ));
    d.goto(&framer);
    std::thread::sleep(Duration::from_millis(2000));
    d.screenshot("framed-login");
    d.enter_frame("//iframe[@id='f']");
    let inputs = d.find_all("//input[@name='password']");
    assert!(inputs.is_empty(), "the framed login form rendered");
}

#[test]
fn browser_consent_flow_lands_on_the_redirect_uri_with_a_code() {
    let srv = TestServer::start_demo();
    let d = Driver::start();
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let authorize = format!(
        "{}/v1/oauth/authorize?client_id={}&response_type=code&owner=user&state=tour%201&code_challenge={challenge}&code_challenge_method=S256",
        srv.base,
        pagegrant::domain::demo::PARTNER_CLIENT_ID
    );
    // Not logged in: the login page first, then straight back to the consent page.
    d.goto(&authorize);
    d.fill("Email", "grace@example.com");
    d.fill("Password", pagegrant::domain::demo::DEMO_PASSWORD);
    d.click_label("Log in");
    d.find("//h1[contains(., 'Demo Partner wants to access Acme Corp')]");
    let body = d.text("//main");
    assert!(
        body.contains("Read content") && body.contains("127.0.0.1"),
        "{body}"
    );

    // Select pages: the picker lists Grace's pages, not Ada's private ones; search filters.
    d.click_label("Select pages");
    let picker = d.text("//*[contains(@class,'picker-list')]");
    assert!(
        picker.contains("Grace's Scratchpad") && !picker.contains("Ada's Drafts"),
        "{picker}"
    );
    // Nothing ticked yet: the page says what that means.
    assert_eq!(
        d.text("//*[contains(@class,'picker-empty')]"),
        "No pages selected: Demo Partner will see nothing until you share pages with it."
    );
    d.fill_search("Road");
    let visible = d.text("//*[contains(@class,'picker-list')]");
    assert!(
        visible.contains("Roadmap 2026") && !visible.contains("Benefits"),
        "{visible}"
    );
    // Search results say where they sit.
    assert_eq!(
        d.text("//li[@data-title='Roadmap 2026']//*[contains(@class,'picker-path')]"),
        "Engineering"
    );
    d.fill_search("");
    // The tree opens collapsed (issue 27 item 6), expands and collapses.
    d.click("//button[@aria-label='Expand Engineering']");
    d.click("//button[@aria-label='Collapse Engineering']");
    assert!(d
        .find_all("//li[@data-title='Roadmap 2026' and not(@hidden)]")
        .is_empty());
    d.click("//button[@aria-label='Expand Engineering']");
    d.find("//li[@data-title='Roadmap 2026' and not(@hidden)]");
    // Ticking a parent visibly includes its sub-pages, and the count is of
    // every page the partner will see.
    d.click("//label[normalize-space()='Engineering']");
    assert_eq!(
        d.text("//li[@data-title='Q1 Planning']//*[contains(@class,'picker-note')]"),
        "included with Engineering"
    );
    let q1 = d.find("//li[@data-title='Q1 Planning']//input");
    assert_eq!(
        d.rt.block_on(q1.prop("disabled")).expect("prop").as_deref(),
        Some("true")
    );
    d.click("//label[normalize-space()=\"Grace's Scratchpad\"]");
    assert_eq!(
        d.text("//*[contains(@class,'picker-count')]"),
        "9 pages will be shared"
    );
    d.screenshot("consent");
    d.click_label("Allow access");

    // Landed on the partner's redirect URI with a code, the state and iss.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !d.url().contains("/demo/partner/callback") {
        assert!(Instant::now() < deadline, "still on {}", d.url());
        std::thread::sleep(Duration::from_millis(100));
    }
    let landed = d.url();
    let query: std::collections::HashMap<String, String> = url::Url::parse(&landed)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(query.get("state").map(String::as_str), Some("tour 1"));
    assert_eq!(query.get("iss"), Some(&srv.config.server.issuer));
    assert_eq!(query.get("code").map(String::len), Some(43));
    assert_eq!(
        srv.count("connection_pages"),
        3,
        "the internal bot's page plus Grace's two"
    );
}

#[test]
fn browser_consent_switch_workspace_and_cancel() {
    let srv = TestServer::start_demo();
    let d = Driver::start();
    d.goto(&srv.url("/login"));
    d.fill("Email", "ada@example.com");
    d.fill("Password", pagegrant::domain::demo::DEMO_PASSWORD);
    d.click_label("Log in");
    d.find("//main//h1[normalize-space()='Acme Corp']");
    d.goto(&format!(
        "{}/v1/oauth/authorize?client_id={}&response_type=code&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        srv.base,
        pagegrant::domain::demo::PARTNER_CLIENT_ID
    ));
    d.find("//h1[contains(., 'wants to access Acme Corp')]");
    d.click("//summary[@aria-label='Switch workspace']");
    d.click("//a[@role='menuitem'][contains(normalize-space(), \"Ada's Notebook\")]");
    d.find("//h1[contains(., \"wants to access Ada's Notebook\")]");
    d.click_label("Select pages");
    let picker = d.text("//*[contains(@class,'picker-list')]");
    assert!(
        picker.contains("Recipes") && !picker.contains("Engineering"),
        "{picker}"
    );
    d.click_label("Cancel");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !d.url().contains("error=access_denied") {
        assert!(Instant::now() < deadline, "still on {}", d.url());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(d.url().contains("state=s"));
}

#[test]
fn browser_demo_partner_tour() {
    let srv = TestServer::start_demo();
    let d = Driver::start();
    d.goto(&srv.url("/demo/partner"));
    d.click_label("Connect pagegrant");
    d.fill("Email", "ada@example.com");
    d.fill("Password", pagegrant::domain::demo::DEMO_PASSWORD);
    d.click_label("Log in");
    d.find("//h1[contains(., 'Demo Partner wants to access')]");
    d.click_label("Select pages");
    d.click("//label[normalize-space()='Company Handbook']");
    d.click_label("Allow access");
    d.find("//h1[normalize-space()='Connected']");
    let shown = d.text("//main");
    assert!(
        shown.contains("\"token_type\": \"bearer\"") && shown.contains("\"type\": \"bot\""),
        "{shown}"
    );
    d.screenshot("demo-partner");
}

#[test]
fn browser_owner_disconnects_a_members_connection() {
    let fx = crate::kit::fixture();
    let g = crate::kit::connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let token = g["access_token"].as_str().expect("at").to_string();
    let me = || {
        bare_client()
            .get(fx.srv.url("/v1/users/me"))
            .bearer_auth(&token)
            .send()
            .expect("me")
            .status()
            .as_u16()
    };
    assert_eq!(me(), 200);
    let d = Driver::start();
    d.goto(&fx.srv.url("/login"));
    d.fill("Email", "ada@example.com");
    d.fill("Password", PASSWORD);
    d.click_label("Log in");
    d.find("//main//h1[normalize-space()='Acme Corp']");
    d.click_label("Settings & members");
    d.find("//a[normalize-space()='Connections' and @aria-current='page']");
    d.click("//summary[@aria-label='Actions for Partner <b>App</b>']");
    d.screenshot("settings-connections");
    d.click_label("Disconnect");
    d.find("//h1[starts-with(normalize-space(), 'Disconnect Partner')]");
    d.click("//button[normalize-space()='Disconnect']");
    let flash = d.text("//*[@role='status']");
    assert_eq!(flash, "Disconnected Partner <b>App</b>");
    d.screenshot("settings-disconnected");
    assert_eq!(me(), 401, "the member's token is dead");
}

#[test]
fn browser_page_menu_add_connections_then_disconnect() {
    let fx = crate::kit::fixture();
    let g = crate::kit::connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[]);
    let token = g["access_token"].as_str().expect("at").to_string();
    let api = |id: &str| {
        bare_client()
            .get(fx.srv.url(&format!("/v1/pages/{id}")))
            .bearer_auth(&token)
            .send()
            .expect("get")
            .status()
            .as_u16()
    };
    assert_eq!(api(fx.roadmap.id.as_str()), 404);
    let d = Driver::start();
    d.goto(&fx.srv.url("/login"));
    d.fill("Email", "grace@example.com");
    d.fill("Password", PASSWORD);
    d.click_label("Log in");
    d.click("//nav[@aria-label='Pages']//a[normalize-space()='Roadmap']");
    d.find("//main//h1[normalize-space()='Roadmap']");
    d.click("//summary[@aria-label='Page menu']");
    d.find("//p[normalize-space()='Add connections']");
    d.screenshot("page-menu");
    d.click("//a[.//span[@class='conn-title' and normalize-space()='Partner <b>App</b>']]");
    // A confirmation says what will happen; nothing changed yet.
    d.find("//h1[normalize-space()='Add Partner <b>App</b> to Roadmap?']");
    d.find("//p[normalize-space()='Partner <b>App</b> will see Roadmap.']");
    d.screenshot("page-menu-confirm-add");
    assert_eq!(api(fx.roadmap.id.as_str()), 404);
    d.click_label("Add connection");
    wait_for(
        || api(fx.roadmap.id.as_str()) == 200,
        "added through the menu",
    );
    assert_eq!(
        d.text("//p[@class='flash']"),
        "Partner <b>App</b> can now see Roadmap."
    );
    // The reloaded page lists the connection with its Disconnect link.
    d.find("//ul[@class='reach-list']//a[normalize-space()='Disconnect']");
    d.click("//summary[@aria-label='Page menu']");
    d.click("//ul[@class='reach-list']//a[normalize-space()='Disconnect']");
    d.find("//h1[normalize-space()='Disconnect Partner <b>App</b> from Roadmap?']");
    assert!(d
        .text("//main//p[contains(., 'the connection stays')]")
        .starts_with("Partner <b>App</b> will no longer see Roadmap; the connection stays."));
    d.click_label("Disconnect from this page");
    wait_for(
        || api(fx.roadmap.id.as_str()) == 404,
        "disconnected through the menu",
    );
    assert_eq!(
        d.text("//p[@class='flash']"),
        "Partner <b>App</b> no longer sees Roadmap; the connection stays."
    );
}

#[test]
fn browser_phone_navigates_through_the_menu_button_and_menus_stay_on_screen() {
    let fx = crate::kit::fixture();
    crate::kit::connect(&fx, "ada@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let d = Driver::start_sized(390, 844);
    d.goto(&fx.srv.url("/login"));
    d.fill("Email", "ada@example.com");
    d.fill("Password", PASSWORD);
    d.click_label("Log in");
    d.find("//main//h1[normalize-space()='Acme Corp']");
    let left = |d: &Driver, css: &str| -> f64 {
        d.rt.block_on(d.c().execute(
            &format!("return document.querySelector({css:?}).getBoundingClientRect().left"),
            vec![],
        ))
        .expect("script")
        .as_f64()
        .expect("number")
    };
    // The sidebar is a drawer behind the Menu button.
    d.screenshot("phone-home");
    d.click("//label[normalize-space()='Menu']");
    d.screenshot("phone-menu-open");
    d.click("//aside[@aria-label='Sidebar']//a[normalize-space()='Settings & members']");
    d.find("//main//h1[normalize-space()='Settings & members']");
    // Each row's ••• menu opens inside the viewport.
    d.click("//summary[starts-with(@aria-label, 'Actions for')]");
    assert!(left(&d, "details[open] .menu") >= 0.0, "row menu on screen");
    d.screenshot("phone-row-menu");
    // So does the page ••• menu, reached through the drawer.
    d.click("//label[normalize-space()='Menu']");
    d.click("//aside[@aria-label='Sidebar']//a[normalize-space()='Roadmap']");
    d.find("//main//h1[normalize-space()='Roadmap']");
    d.click("//summary[@aria-label='Page menu']");
    d.find("//p[normalize-space()='Add connections']");
    assert!(
        left(&d, "details.page-menu .menu") >= 0.0,
        "page menu on screen"
    );
    d.screenshot("phone-page-menu");
}

#[test]
fn browser_approved_list_blocks_then_unblocks_a_member() {
    let fx = crate::kit::fixture();
    // Ada installs the partner, so it can be approved.
    crate::kit::connect(&fx, "ada@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let consent_url = format!(
        "{}/v1/oauth/authorize?client_id={}&response_type=code&redirect_uri=https%3A%2F%2Fpartner.example%2Fcb&workspace_id={}",
        fx.srv.base, fx.conf.integration.client_id, fx.acme.id
    );
    let owner = Driver::start();
    owner.goto(&fx.srv.url("/login"));
    owner.fill("Email", "ada@example.com");
    owner.fill("Password", PASSWORD);
    owner.click_label("Log in");
    owner.click_label("Settings & members");
    owner.click("//label[normalize-space()='Only from approved list']");
    owner.submit("//form[contains(@class,'policy-form')]//button[normalize-space()='Save']");
    owner.find("//label[normalize-space()='Only from approved list']/input[@checked]");

    let member = Driver::start();
    member.goto(&consent_url);
    member.fill("Email", "grace@example.com");
    member.fill("Password", PASSWORD);
    member.click_label("Log in");
    assert!(member.text("//*[@role='alert']").contains("approved list"));
    // Issue 27 item 3: Request approval replaces the unusable picker.
    member.find("//button[normalize-space()='Request approval']");
    assert!(member
        .find_all("//button[normalize-space()='Allow access']")
        .is_empty());

    owner.submit("//button[normalize-space()='Approve']");
    owner
        .find("//table[contains(@class,'approved')]//span[normalize-space()='Partner <b>App</b>']");
    owner.screenshot("enterprise-settings");

    member.goto(&consent_url);
    assert!(member.find_all("//*[@role='alert']").is_empty());
    member.click_label("Allow access");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !member.url().starts_with("https://partner.example/cb") {
        assert!(Instant::now() < deadline, "still on {}", member.url());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(member.url().contains("code="));
}

#[test]
fn browser_member_sees_only_my_connections() {
    let fx = crate::kit::fixture();
    crate::kit::connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    crate::kit::connect(&fx, "ada@example.com", fx.acme.id.as_str(), &[&fx.roadmap]);
    let d = Driver::start();
    d.login_as(&fx.srv, "grace@example.com");
    d.click_label("Settings & members");
    d.find("//a[normalize-space()='My connections' and @aria-current='page']");
    d.screenshot("settings-my-connections-member");
    assert!(
        d.find_all("//nav[@aria-label='Settings']//a[normalize-space()='Connections']")
            .is_empty(),
        "no Connections tab for members"
    );
    assert_eq!(
        d.find_all("//table[contains(@class,'connections')]//span[@class='conn-name']")
            .len(),
        1,
        "only her own connection"
    );
    assert!(d
        .find_all("//h2[normalize-space()='Restrict members from installing connections']")
        .is_empty());
    // Trying the owners' tab by address still shows My connections only.
    d.goto(
        &fx.srv
            .url(&format!("/w/{}/settings/connections?tab=all", fx.acme.id)),
    );
    d.find("//a[normalize-space()='My connections' and @aria-current='page']");
    assert_eq!(
        d.find_all("//table[contains(@class,'connections')]//span[@class='conn-name']")
            .len(),
        1
    );
}

#[test]
fn browser_add_connection_starts_consent_for_this_workspace() {
    let fx = crate::kit::fixture();
    let d = Driver::start();
    d.login_as(&fx.srv, "grace@example.com");
    d.click_label("Settings & members");
    d.click_label("+ Add connection");
    d.screenshot("settings-add-connection");
    d.click("//ul[@class='add-list']//a[.//span[@class='conn-title' and normalize-space()='Partner <b>App</b>']]");
    d.find("//button[normalize-space()='Allow access']");
    assert!(d
        .text("//summary[@aria-label='Switch workspace']")
        .contains("Acme Corp"));
    d.click_label("Select pages");
    d.click("//label[normalize-space()='Engineering']");
    d.click_label("Allow access");
    wait_for(
        || d.url().starts_with("https://partner.example/cb"),
        "redirected to the partner",
    );
    assert!(d.url().contains("code="));
}

#[test]
fn browser_create_integration_then_rotate_secret() {
    let fx = crate::kit::fixture();
    let d = Driver::start();
    d.login_as(&fx.srv, "grace@example.com");
    d.click_label("My integrations");
    d.find("//h1[normalize-space()='My integrations']");
    d.fill("Name", "Grace's Sync");
    d.fill(
        "Redirect URIs (public integrations, one per line)",
        "https://sync.example/callback",
    );
    d.fill("Website", "https://sync.example");
    d.screenshot("developers-new");
    d.click_label("Create integration");
    d.find("//*[@role='status' and normalize-space()=\"Created Grace's Sync\"]");
    d.screenshot("developers-created");
    let client_id = d.value("//input[@id='client-id']");
    let first = d.value("//input[@id='client-secret']");
    let introspect = |secret: &str| {
        bare_client()
            .post(fx.srv.url("/v1/oauth/introspect"))
            .basic_auth(&client_id, Some(secret))
            .form(&[("token", "x")])
            .send()
            .expect("introspect")
            .status()
            .as_u16()
    };
    assert_eq!(introspect(&first), 200);

    d.click_label("Rotate secret");
    d.find("//h1[starts-with(normalize-space(), 'Rotate the secret')]");
    d.screenshot("developers-rotate-confirm");
    d.click("//button[normalize-space()='Rotate secret']");
    d.find("//*[@role='status' and contains(., 'the old secret no longer works')]");
    let second = d.value("//input[@id='client-secret']");
    assert_ne!(first, second);
    assert_eq!(introspect(&first), 401, "the old secret stopped at once");
    assert_eq!(introspect(&second), 200);
    d.screenshot("developers-rotated");

    // Reloading after Rotate secret rotates nothing and shows no secret.
    d.reload();
    d.find("//a[normalize-space()='Rotate secret']");
    assert!(d.find_all("//input[@id='client-secret']").is_empty());
    assert_eq!(introspect(&second), 200, "the secret shown still works");

    // Leaving and coming back: the secret is not shown again.
    d.click("//nav[@aria-label='Breadcrumbs']//a[normalize-space()=\"Grace's Sync\"]");
    d.find("//a[normalize-space()='Rotate secret']");
    assert!(d.find_all("//input[@id='client-secret']").is_empty());
}

#[test]
fn browser_copy_internal_token_in_one_press_and_failures_say_so() {
    let fx = crate::kit::fixture();
    let created = pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "Reports Bot".into(),
            kind: Some(pagegrant::db::models::IntegrationKind::Internal),
            workspace: Some(fx.acme.clone()),
            created_by: Some(fx.ada.clone()),
            ..Default::default()
        },
    )
    .expect("internal");
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    let stub = |ok: bool| {
        let script = format!(
            "Object.defineProperty(navigator, 'clipboard', {{configurable: true, value: {{writeText: function (t) {{ window.__copied = t; return {}; }}}}}});",
            if ok { "Promise.resolve()" } else { "Promise.reject(new Error('denied'))" }
        );
        d.rt.block_on(d.c().execute(&script, vec![])).expect("stub");
    };
    stub(true);
    d.click("//summary[@aria-label='Actions for Reports Bot']");
    d.click_label("Copy internal integration token");
    let status = "//p[contains(@class,'copy-status') and not(@hidden)]";
    assert_eq!(
        d.text(status),
        "Copied the token of Reports Bot. The copy is in the audit log."
    );
    let copied =
        d.rt.block_on(d.c().execute("return window.__copied", vec![]))
            .expect("script");
    assert_eq!(
        copied.as_str(),
        created.internal_token.as_deref(),
        "the token itself"
    );
    let audited = pagegrant::db::queries::audit::for_workspace(&mut fx.srv.conn(), &fx.acme.id)
        .expect("audit")
        .iter()
        .filter(|e| e.action == "token.retrieved")
        .count();
    assert_eq!(audited, 1, "the one press is audited");
    // A clipboard that refuses: the page says so instead of "Copied".
    stub(false);
    d.click("//summary[@aria-label='Actions for Reports Bot']");
    d.click_label("Copy internal integration token");
    wait_for(
        || d.text(status).starts_with("Could not copy the token"),
        "the failure is reported",
    );
    d.screenshot("copy-token-failed");
}

#[test]
fn browser_enterprise_block_explains_itself_and_filters_by_a_named_user() {
    let fx = crate::kit::fixture();
    crate::kit::connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "Ops Bot".into(),
            kind: Some(pagegrant::db::models::IntegrationKind::Internal),
            workspace: Some(fx.acme.clone()),
            created_by: Some(fx.ada.clone()),
            ..Default::default()
        },
    )
    .expect("internal");
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    d.find("//h2[normalize-space()='Enterprise: who may install connections']");
    // Auto-approve waits for "Only from approved list".
    let auto = "//input[@name='auto_approve']";
    let disabled = |d: &Driver| {
        let e = d.find(auto);
        d.rt.block_on(e.prop("disabled")).expect("prop").as_deref() == Some("true")
    };
    assert!(disabled(&d), "no restrictions: auto-approve is off");
    d.click("//label[normalize-space()='Only from approved list']");
    assert!(!disabled(&d), "approved list: auto-approve can be ticked");
    // Only public integrations are offered for approval.
    let offered = d.text("//select[@id='approve-pick']");
    assert!(
        offered.contains("Partner <b>App</b>") && !offered.contains("Ops Bot"),
        "{offered}"
    );
    d.click_label("Approve");
    d.find("//p[@class='flash' and starts-with(normalize-space(), 'Approved')]");
    d.find("//table[contains(@class,'approved')]//th[normalize-space()='Installed by']");
    // Filter by user names the user and narrows the whole page.
    d.click("//summary[@aria-label='Approved actions for Partner <b>App</b>']");
    d.click_label("Filter by user: Grace");
    assert_eq!(
        d.text("//p[@class='flash' and contains(., 'Show all')]"),
        "Showing the connections Grace installed · Show all"
    );
    assert!(d
        .find_all("//span[@class='conn-name' and normalize-space()='Ops Bot']")
        .is_empty());
    d.screenshot("enterprise-filtered");
}

#[test]
fn browser_consent_names_who_is_signed_in_and_not_you_comes_back_to_the_request() {
    let fx = crate::kit::fixture();
    let created = pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "Linked App".into(),
            redirect_uris: vec!["https://linked.example/cb".into()],
            privacy_url: Some("https://linked.example/privacy".into()),
            terms_url: Some("https://linked.example/terms".into()),
            ..Default::default()
        },
    )
    .expect("register");
    let consent = format!(
        "{}/v1/oauth/authorize?client_id={}&response_type=code&redirect_uri=https%3A%2F%2Flinked.example%2Fcb",
        fx.srv.base, created.integration.client_id
    );
    let d = Driver::start();
    d.login_as(&fx.srv, "grace@example.com");
    d.goto(&consent);
    d.find("//h1[contains(., 'Linked App wants to access')]");
    assert_eq!(
        d.text("//form[contains(@class,'signed-in')]"),
        "Signed in as grace@example.com · Not you?"
    );
    d.find("//a[normalize-space()='Privacy policy' and @href='https://linked.example/privacy']");
    d.find("//a[normalize-space()='Terms' and @href='https://linked.example/terms']");
    // Tab order is the visual order: Cancel, then Allow access.
    let order = d
        .rt
        .block_on(d.c().execute(
            "return Array.from(document.querySelectorAll('.actions button')).map(b => b.textContent.trim() + '@' + Math.round(b.getBoundingClientRect().left))",
            vec![],
        ))
        .expect("script");
    let order: Vec<String> = serde_json::from_value(order).expect("list");
    let x = |s: &String| {
        s.split('@')
            .nth(1)
            .and_then(|n| n.parse::<i64>().ok())
            .expect("x")
    };
    assert!(
        order[0].starts_with("Cancel@") && order[1].starts_with("Allow access@"),
        "{order:?}"
    );
    assert!(
        x(&order[0]) < x(&order[1]),
        "Cancel sits left of Allow access: {order:?}"
    );
    d.screenshot("consent-signed-in");
    // Not you? logs out and comes back to this same request as someone else.
    d.click_label("Not you?");
    d.find("//h1[normalize-space()='Log in']");
    d.fill("Email", "ada@example.com");
    d.fill("Password", PASSWORD);
    d.click_label("Log in");
    d.find("//h1[contains(., 'Linked App wants to access')]");
    assert_eq!(
        d.text("//form[contains(@class,'signed-in')]"),
        "Signed in as ada@example.com · Not you?"
    );
}

#[test]
fn browser_throttled_login_keeps_the_oauth_flow_and_says_how_long() {
    let fx = crate::kit::fixture_with(|c| c.security.login_max_failures_per_account = 2);
    let consent = format!(
        "{}/v1/oauth/authorize?client_id={}&response_type=code&redirect_uri=https%3A%2F%2Fpartner.example%2Fcb",
        fx.srv.base, fx.conf.integration.client_id
    );
    let d = Driver::start();
    d.goto(&consent);
    for _ in 0..3 {
        d.fill("Email", "grace@example.com");
        d.fill("Password", "not her password");
        d.submit_label("Log in");
        d.find("//*[@role='alert']");
    }
    assert_eq!(
        d.text("//*[@role='alert']"),
        "Too many attempts. Try again in 15 minutes."
    );
    // Still the login form, still on its way back to the consent page.
    let next = d.value("//input[@name='next']");
    assert!(next.starts_with("/v1/oauth/authorize?client_id="), "{next}");
    d.screenshot("login-throttled");
}

#[test]
fn browser_dark_mode_follows_the_system() {
    let fx = crate::kit::fixture();
    // blink's preferredColorScheme 0 is dark.
    let d = Driver::start_with(1280, 800, &["--blink-settings=preferredColorScheme=0"]);
    d.login_as(&fx.srv, "ada@example.com");
    let bg =
        d.rt.block_on(d.c().execute(
            "return getComputedStyle(document.documentElement).backgroundColor",
            vec![],
        ))
        .expect("script");
    assert_eq!(bg.as_str(), Some("rgb(25, 25, 25)"), "dark background");
    d.screenshot("dark-workspace");
}

#[test]
fn browser_create_integration_reload_shows_no_secret_and_makes_no_second() {
    let fx = crate::kit::fixture();
    let before = fx.srv.count("integrations");
    let d = Driver::start();
    d.login_as(&fx.srv, "grace@example.com");
    d.click_label("My integrations");
    d.find("//h1[normalize-space()='My integrations']");
    // Only the chosen type's fields show: Internal hides the redirect URIs.
    d.click("//input[@name='kind' and @value='internal']");
    wait_for(
        || {
            d.find_all("//textarea[@id='int-uris']")
                .iter()
                .all(|e| !d.rt.block_on(e.is_displayed()).unwrap_or(true))
        },
        "redirect URIs hidden for Internal",
    );
    d.screenshot_both("developers-new-internal");
    d.click("//input[@name='kind' and @value='public']");
    d.fill("Name", "Reload Test");
    // A refused field says why next to itself, capitalised.
    d.fill(
        "Redirect URIs (public integrations, one per line)",
        "http://reload.example/callback",
    );
    d.click_label("Create integration");
    let why = d.text("//p[@id='int-uris-error']");
    assert!(
        why.starts_with("Redirect URI") && why.contains("https"),
        "{why}"
    );
    d.screenshot_both("developers-field-error");
    d.fill(
        "Redirect URIs (public integrations, one per line)",
        "https://reload.example/callback",
    );
    d.click("//input[@name='capability' and @value='read_user_without_email']");
    d.screenshot_both("developers-new-public");
    d.click_label("Create integration");
    d.find("//*[@role='status' and normalize-space()='Created Reload Test']");
    assert!(!d.find_all("//input[@id='client-secret']").is_empty());
    d.screenshot_both("developers-created-once");
    d.reload();
    d.find("//h1[contains(., 'Reload Test')]");
    assert!(
        d.find_all("//input[@id='client-secret']").is_empty(),
        "no secret again"
    );
    assert!(
        d.find_all("//*[@role='status']").is_empty(),
        "no flash again"
    );
    assert_eq!(fx.srv.count("integrations"), before + 1, "one, not two");

    // Delete integration, confirmed: gone from the list.
    d.click_label("Delete integration");
    d.find("//h1[normalize-space()='Delete Reload Test?']");
    d.screenshot_both("developers-delete-confirm");
    d.click("//button[normalize-space()='Delete integration']");
    d.find("//*[@role='status' and starts-with(normalize-space(), 'Deleted Reload Test')]");
    assert!(d
        .find_all("//a[normalize-space()='Reload Test']")
        .is_empty());
    assert_eq!(fx.srv.count("integrations"), before);
}

#[test]
fn browser_owner_adds_then_removes_a_member() {
    let fx = crate::kit::fixture();
    fx.srv.user("nina@example.com", "Nina");
    let g = crate::kit::connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let token = g["access_token"].as_str().expect("at").to_string();
    let me = || {
        bare_client()
            .get(fx.srv.url("/v1/users/me"))
            .bearer_auth(&token)
            .send()
            .expect("me")
            .status()
            .as_u16()
    };
    assert_eq!(me(), 200);
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.click_label("Settings & members");
    // Connections: the Pages column, and the search box filters rows.
    d.find("//th[normalize-space()='Pages']");
    d.screenshot_both("settings-connections-pages");
    let search = d.find("//input[@aria-label='Search connections']");
    d.rt.block_on(search.send_keys("zzz")).expect("type");
    wait_for(
        || {
            d.find_all("//table[@id='connections-table']//tbody/tr")
                .iter()
                .all(|e| !d.rt.block_on(e.is_displayed()).unwrap_or(true))
        },
        "rows filtered out",
    );
    d.screenshot("settings-connections-search");
    d.click_label("Members");
    d.find("//a[normalize-space()='Members' and @aria-current='page']");
    d.screenshot_both("settings-members");
    d.fill("Email", "nina@example.com");
    d.click_label("Add members");
    d.find("//*[@role='status' and normalize-space()='Added Nina to Acme Corp']");
    d.find("//tr[contains(., 'nina@example.com')]");
    // Remove Grace, confirmed: her connection ends at once.
    d.click("//tr[contains(., 'grace@example.com')]//a[normalize-space()='Remove from workspace']");
    d.find("//h1[normalize-space()='Remove Grace from Acme Corp?']");
    d.screenshot_both("settings-members-remove-confirm");
    d.click("//button[normalize-space()='Remove from workspace']");
    d.find(
        "//*[@role='status' and starts-with(normalize-space(), 'Removed Grace from Acme Corp')]",
    );
    assert!(d
        .find_all("//tr[contains(., 'grace@example.com')]")
        .is_empty());
    assert_eq!(me(), 401, "her token is dead");
    // The last owner: the confirmation says why instead of offering removal.
    d.click("//tr[contains(., 'ada@example.com')]//a[normalize-space()='Remove from workspace']");
    d.find("//*[@role='alert' and contains(., 'last owner')]");
    assert!(d
        .find_all("//button[normalize-space()='Remove from workspace']")
        .is_empty());
    d.screenshot("settings-members-last-owner");
}

#[test]
fn browser_audit_log_filters_by_what_and_offers_csv() {
    let fx = crate::kit::fixture();
    crate::kit::connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.click_label("Settings & members");
    d.click_label("Audit log");
    d.find("//td[contains(., 'Grace connected Partner <b>App</b> and shared 1 page with it')]");
    d.screenshot_both("audit-log");
    d.click("//select[@id='audit-kind']/option[normalize-space()='Members']");
    d.click_label("Filter");
    d.find("//p[normalize-space()='Nothing matches.']");
    let csv = d.find("//a[normalize-space()='Export CSV']");
    let href =
        d.rt.block_on(csv.attr("href"))
            .expect("attr")
            .expect("href");
    assert!(
        href.contains("audit.csv?") && href.contains("kind=members"),
        "{href}"
    );
}

#[test]
fn browser_menus_answer_arrow_keys() {
    let fx = crate::kit::fixture();
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    let summary = d.find("//summary[@aria-label='Switch workspace']");
    let focused = |d: &Driver| -> String {
        d.rt.block_on(
            d.c()
                .execute("return document.activeElement.textContent.trim()", vec![]),
        )
        .expect("script")
        .as_str()
        .unwrap_or_default()
        .to_string()
    };
    // ArrowDown on the button opens the menu at its first item...
    d.rt.block_on(summary.send_keys("\u{E015}"))
        .expect("arrow down");
    assert!(focused(&d).contains("Acme Corp"), "{}", focused(&d));
    // ...and moves on through the items, wrapping at the end.
    let active = d.rt.block_on(d.c().active_element()).expect("active");
    d.rt.block_on(active.send_keys("\u{E015}"))
        .expect("arrow down");
    assert!(focused(&d).contains("Ada Notebook"), "{}", focused(&d));
    let active = d.rt.block_on(d.c().active_element()).expect("active");
    d.rt.block_on(active.send_keys("\u{E013}"))
        .expect("arrow up");
    assert!(focused(&d).contains("Acme Corp"), "{}", focused(&d));
}

#[test]
fn settings_marks_an_mcp_agent_with_its_last_use() {
    let fx = crate::kit::fixture();
    let token = crate::kit::mcp::connect(&fx, "read_content", &[fx.eng.id.as_str()]);
    crate::kit::mcp::call(&fx, &token, "search", serde_json::json!({}));
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    let row = d.text("//tr[.//span[normalize-space()='Agent']]");
    assert!(row.contains("MCP agent"), "{row}");
    assert!(row.contains("Last used"), "{row}");
    d.screenshot_both("settings-mcp-agent");
}

#[test]
fn browser_demo_page_shows_its_content_headings_and_todos() {
    let srv = TestServer::start_demo();
    let d = Driver::start();
    d.goto(&srv.url("/login"));
    d.fill("Email", pagegrant::domain::demo::OWNER_EMAIL);
    d.fill("Password", pagegrant::domain::demo::DEMO_PASSWORD);
    d.click_label("Log in");
    d.click("//nav[@aria-label='Pages']//a[normalize-space()='Product']");
    d.click("//main//a[contains(normalize-space(), 'Launch Checklist')]");
    d.find("//main//h1[normalize-space()='Launch Checklist']");
    // Headings of the content, below the title; a leaf page has no
    // Sub-pages section (issue 27).
    d.find("//main//div[@class='doc']/h3[normalize-space()='Before launch']");
    assert!(d
        .find_all("//main//h2[normalize-space()='Sub-pages']")
        .is_empty());
    // To-dos are read-only checkboxes labelled with their text.
    let done = d.find_all("//main//label[contains(., 'Security review signed off')]/input[@type='checkbox'][@disabled][@checked]");
    assert_eq!(done.len(), 1);
    let open = d.find_all("//main//label[contains(., 'Status page updated')]/input[@type='checkbox'][@disabled][not(@checked)]");
    assert_eq!(open.len(), 1);
    d.screenshot_both("page-content-checklist");

    // A page with code, quotes and a numbered list.
    d.click("//nav[@aria-label='Pages']//a[normalize-space()='On-call Runbook']");
    d.find("//main//figure[@class='doc-code']/figcaption[normalize-space()='sh']");
    d.find("//main//ol/li[contains(., 'Acknowledge within 5 minutes')]");
    d.screenshot_both("page-content-runbook");
    d.click("//nav[@aria-label='Pages']//a[normalize-space()='Roadmap 2026']");
    d.find("//main//div[@class='doc']/h3[normalize-space()='Q1: foundations']");
    d.screenshot_both("page-content-roadmap");
}
