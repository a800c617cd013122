//! Issue 27 items 1–3 over HTTP: the honest catalog behind **+ Add
//! connection** (only what someone vouches for, or what this workspace
//! installed or approved), the consent page saying who vouches for a client
//! and what an MCP agent may do, and a member asking the owners to approve
//! an integration the approved list stops.

use crate::kit::*;
use pagegrant::db::models::{IntegrationId, User};
use pagegrant::domain::integrations::{self, Created, Draft};
use reqwest::blocking::Client;
use serde_json::{json, Value};

/// A public integration made at `/developers` by `who`, on CB.
pub fn made_by(fx: &Fx, who: &User, name: &str) -> Created {
    integrations::create_for(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        &who.id,
        Draft {
            name: name.into(),
            internal: false,
            workspace_id: String::new(),
            redirect_uris: vec![CB.into()],
            public_client: false,
            capabilities: vec!["read_content".into()],
            website_url: Some("https://slack-official.example/about".into()),
            privacy_url: Some("https://privacy.example/policy".into()),
            terms_url: None,
            support_email: None,
            icon: None,
        },
    )
    .expect("create")
}

fn settings(fx: &Fx, c: &Client, ws: &str) -> String {
    let (status, page) = get_html(c, &fx.srv.url(&format!("/w/{ws}/settings/connections")));
    assert_eq!(status, 200);
    page
}

/// The names **+ Add connection** lists.
fn catalog(page: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(page);
    select(&doc, ".add-list .conn-title")
        .iter()
        .map(|e| e.text().collect::<String>())
        .collect()
}

fn review(fx: &Fx, id: &IntegrationId) -> Value {
    let out = pagegrant_on(
        &fx.srv,
        &["integration", "review", id.as_str(), "--json"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn a_fresh_users_public_integration_is_not_in_another_workspaces_catalog_until_reviewed() {
    let fx = fixture();
    let mallory = fx.srv.user("mallory@example.com", "Mallory");
    let fake = made_by(&fx, &mallory, "Slack (official)");
    let ada = logged_in(&fx.srv, "ada@example.com");
    let grace = logged_in(&fx.srv, "grace@example.com");
    let acme = fx.acme.id.to_string();

    for c in [&ada, &grace] {
        let listed = catalog(&settings(&fx, c, &acme));
        assert!(
            listed.iter().any(|n| n == "GitHub"),
            "first-party: {listed:?}"
        );
        assert!(
            listed.iter().any(|n| n == "Partner <b>App</b>"),
            "CLI-registered: {listed:?}"
        );
        assert!(
            !listed.iter().any(|n| n.contains("Slack")),
            "unvetted: {listed:?}"
        );
    }
    // Still reachable through its own link, marked.
    let page = consent_page(&fx, &ada, &base(&fake.integration.client_id, &[]));
    assert!(
        page.contains(
            "Unverified developer</strong> · identified by <strong>partner.example</strong>"
        ),
        "{page}"
    );
    assert!(
        !page.contains("By Mallory"),
        "no By ‹name› for an unreviewed client"
    );
    assert!(
        page.contains("(slack-official.example)") && page.contains("(privacy.example)"),
        "link hosts"
    );

    let v = review(&fx, &fake.integration.id);
    assert_eq!(v["reviewed"], json!(true));
    assert_eq!(v["already_reviewed"], json!(false));
    let listed = catalog(&settings(&fx, &grace, &acme));
    assert!(listed.iter().any(|n| n == "Slack (official)"), "{listed:?}");
    let page = consent_page(&fx, &ada, &base(&fake.integration.client_id, &[]));
    assert!(!page.contains("Unverified"), "reviewed: no longer marked");
    assert!(page.contains("By Mallory"));
    let reviewed = audit_actions(&fx)
        .iter()
        .filter(|a| *a == "integration.reviewed")
        .count();
    assert_eq!(reviewed, 1);
}

#[test]
fn an_unvetted_integration_installed_here_stays_listed_and_marked_only_here() {
    let fx = fixture();
    let mallory = fx.srv.user("mallory@example.com", "Mallory");
    let app = made_by(&fx, &mallory, "Mallory Notes");
    let ada = logged_in(&fx.srv, "ada@example.com");
    let page = consent_page(
        &fx,
        &ada,
        &base(
            &app.integration.client_id,
            &[("workspace_id", fx.acme.id.as_str())],
        ),
    );
    assert_eq!(answer(&fx, &ada, &page, "allow", &[]).status(), 303);

    let acme = settings(&fx, &ada, fx.acme.id.as_str());
    assert!(catalog(&acme).iter().any(|n| n == "Mallory Notes"));
    let doc = scraper::Html::parse_document(&acme);
    let marked: Vec<String> = select(&doc, ".add-list li")
        .iter()
        .map(|e| e.text().collect::<String>())
        .filter(|t| t.contains("Mallory Notes"))
        .collect();
    assert!(marked[0].contains("Unverified developer"), "{marked:?}");
    assert!(
        has(&acme, "table.connections .badge.unverified"),
        "its Settings row is marked"
    );
    // The page ••• menu marks it too.
    let (_, page) = get_html(
        &ada,
        &fx.srv.url(&format!("/w/{}/p/{}", fx.acme.id, fx.eng.id)),
    );
    assert!(has(&page, ".conn-list .badge.unverified"), "page menu");
    // Ada's other workspace installed nothing: not listed there.
    let notebook = settings(&fx, &ada, fx.notebook.id.as_str());
    assert!(!catalog(&notebook).iter().any(|n| n == "Mallory Notes"));
    // Nor offered to anyone in another workspace through the page menu.
    let (_, menu) = get_html(
        &ada,
        &fx.srv
            .url(&format!("/w/{}/p/{}", fx.notebook.id, fx.notebook_page.id)),
    );
    assert!(!menu.contains("Mallory Notes"));
}

/// A dynamic client registered for the MCP server, as an agent would.
fn register_agent(fx: &Fx) -> String {
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/register"))
        .json(&json!({
            "client_name": "Claude Desktop",
            "redirect_uris": [AGENT_CB],
            "token_endpoint_auth_method": "none",
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().unwrap();
    v["client_id"].as_str().unwrap().to_string()
}

/// The consent request an MCP client sends for `id`.
pub fn mcp_request(fx: &Fx, id: &str, scope: Option<&str>) -> Vec<(String, String)> {
    let mcp = format!("{}/mcp", fx.srv.config.server.issuer);
    let mut v: Vec<(String, String)> = [
        ("client_id", id),
        ("response_type", "code"),
        ("redirect_uri", AGENT_CB),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("resource", mcp.as_str()),
        ("workspace_id", fx.acme.id.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if let Some(s) = scope {
        v.push(("scope".into(), s.into()));
    }
    v
}

fn page_for(fx: &Fx, c: &Client, q: &[(String, String)]) -> String {
    let pairs: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    consent_page(fx, c, &pairs)
}

#[test]
fn an_mcp_agents_consent_page_says_what_it_is_and_what_its_tools_do() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let id = register_agent(&fx);
    let page = page_for(&fx, &ada, &mcp_request(&fx, &id, None));
    assert!(
        page.contains("<strong>AI agent (MCP)</strong> — it will be able to search, read, create and edit the pages you select"),
        "{page}"
    );
    assert!(page.contains("Unverified</strong> · identified by <strong>agent.example</strong>"));
    assert!(
        page.contains("class=\"trust-unverified\""),
        "amber, not the red .alert"
    );
    assert!(!page.contains("By Claude Desktop"));
    for tool in ["Search", "Fetch", "Create page", "Update page"] {
        assert!(
            page.contains(&format!("<strong>{tool}</strong> — ")),
            "{tool}"
        );
    }
    // Read-only: only what reading allows.
    let page = page_for(&fx, &ada, &mcp_request(&fx, &id, Some("read_content")));
    assert!(page.contains("it will be able to search and read the pages you select"));
    assert!(!page.contains("<strong>Create page</strong>"));
    // Not for /mcp: no agent line.
    let q: Vec<(String, String)> = mcp_request(&fx, &id, None)
        .into_iter()
        .filter(|(k, _)| k != "resource")
        .collect();
    assert!(!page_for(&fx, &ada, &q).contains("AI agent (MCP)"));
}

fn set_policy(fx: &Fx) {
    pagegrant::db::queries::workspaces::set_install_policy(
        &mut fx.srv.conn(),
        &fx.acme.id,
        pagegrant::db::models::InstallPolicy::ApprovedOnly,
        false,
    )
    .expect("policy");
}

fn ask(
    fx: &Fx,
    c: &Client,
    csrf: &str,
    id: &IntegrationId,
    note: &str,
) -> reqwest::blocking::Response {
    c.post(fx.srv.url(&format!("/w/{}/approval-requests", fx.acme.id)))
        .form(&[
            ("csrf", csrf),
            ("integration_id", id.as_str()),
            ("note", note),
        ])
        .send()
        .expect("ask")
}

fn enterprise(
    fx: &Fx,
    c: &Client,
    csrf: &str,
    form: &[(&str, &str)],
) -> reqwest::blocking::Response {
    let mut f = vec![("csrf", csrf)];
    f.extend_from_slice(form);
    c.post(
        fx.srv
            .url(&format!("/w/{}/settings/enterprise", fx.acme.id)),
    )
    .form(&f)
    .send()
    .expect("enterprise")
}

#[test]
fn a_member_blocked_by_the_approved_list_asks_and_an_owner_answers() {
    let fx = fixture();
    set_policy(&fx);
    let grace = logged_in(&fx.srv, "grace@example.com");
    let ada = logged_in(&fx.srv, "ada@example.com");
    let conf = fx.conf.integration.client_id.clone();
    let id = fx.conf.integration.id.clone();

    let page = consent_page(&fx, &grace, &base(&conf, &[]));
    assert!(page.contains(">Request approval<"), "{page}");
    assert!(
        !page.contains("class=\"consent-form\""),
        "the unusable picker is hidden"
    );
    let g_csrf = csrf_of(&fx, &grace);

    // CSRF: no token, no request.
    let r = grace
        .post(fx.srv.url(&format!("/w/{}/approval-requests", fx.acme.id)))
        .form(&[("integration_id", id.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    // Bounded note.
    assert_eq!(
        ask(&fx, &grace, &g_csrf, &id, &"x".repeat(501)).status(),
        400
    );
    assert_eq!(fx.srv.count("approval_requests"), 0);

    let note = "For the <script>alert(1)</script> sprint board";
    let r = ask(&fx, &grace, &g_csrf, &id, note);
    assert_eq!(r.status(), 303);
    let (status, mine) = get_html(&grace, &fx.srv.url(&location(&r)));
    assert_eq!(status, 200);
    assert!(mine.contains("They have not answered yet"), "{mine}");
    // One pending request per member and integration.
    assert_eq!(ask(&fx, &grace, &g_csrf, &id, "again").status(), 303);
    assert_eq!(fx.srv.count("approval_requests"), 1);
    let page = consent_page(&fx, &grace, &base(&conf, &[]));
    assert!(page.contains("They have not answered yet") && !page.contains(">Request approval<"));

    // Someone outside Acme cannot ask there, nor read the request.
    let eve = fx.srv.user("eve@example.com", "Eve");
    let _ = eve;
    let e = logged_in(&fx.srv, "eve@example.com");
    let (_, dev) = get_html(&e, &fx.srv.url("/developers"));
    let e_csrf = input_value(&dev, "csrf").unwrap();
    assert!(matches!(
        ask(&fx, &e, &e_csrf, &id, "").status().as_u16(),
        403 | 404
    ));
    let (s, _) = get_html(
        &e,
        &fx.srv
            .url(&format!("/w/{}/approval-requests/{id}", fx.acme.id)),
    );
    assert!(matches!(s, 403 | 404));

    // The owner sees it, the note escaped.
    let a_page = settings(&fx, &ada, fx.acme.id.as_str());
    assert!(a_page.contains("Requests to approve"));
    assert!(a_page.contains("&lt;script&gt;") || a_page.contains("&#60;script&#62;"));
    assert!(!a_page.contains("<script>alert(1)"));
    assert!(a_page.contains("Not installed here yet, so it cannot be approved"));
    let a_csrf = csrf_of(&fx, &ada);
    let answer_form = |action: &'static str| {
        vec![
            ("action", action),
            ("integration_id", id.as_str()),
            ("requested_by", fx.grace.id.as_str()),
        ]
    };
    // A member cannot answer.
    let r = enterprise(&fx, &grace, &g_csrf, &answer_form("approve_request"));
    assert_eq!(r.status(), 403);
    // Not installed: approving installs nothing, and is explained.
    let r = enterprise(&fx, &ada, &a_csrf, &answer_form("approve_request"));
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .unwrap()
        .contains("Only connections already installed"));
    assert_eq!(fx.srv.count("connections"), 0);
    // The owner installs it first (owners may), then approves.
    let page = consent_page(&fx, &ada, &base(&conf, &[]));
    assert_eq!(answer(&fx, &ada, &page, "allow", &[]).status(), 303);
    let r = enterprise(&fx, &ada, &a_csrf, &answer_form("approve_request"));
    assert_eq!(r.status(), 303);
    assert_eq!(fx.srv.count("approved_integrations"), 1);
    assert_eq!(
        fx.srv.count("connections"),
        1,
        "approving installed nothing"
    );
    let actions = audit_actions(&fx);
    assert!(actions.contains(&"approval.requested".to_string()));
    assert!(actions.contains(&"integration.approved".to_string()));

    // The member sees the answer next time, and may now connect.
    let page = consent_page(&fx, &grace, &base(&conf, &[]));
    assert!(page.contains("Ada approved your request on"), "{page}");
    assert!(page.contains("class=\"consent-form\""));
    assert_eq!(answer(&fx, &grace, &page, "allow", &[]).status(), 303);
}

#[test]
fn an_owner_declines_and_the_member_sees_it_and_may_ask_again() {
    let fx = fixture();
    set_policy(&fx);
    let grace = logged_in(&fx.srv, "grace@example.com");
    let ada = logged_in(&fx.srv, "ada@example.com");
    let id = fx.multi.integration.id.clone();
    let g_csrf = csrf_of(&fx, &grace);
    assert_eq!(ask(&fx, &grace, &g_csrf, &id, "").status(), 303);
    let a_csrf = csrf_of(&fx, &ada);
    let form = [
        ("action", "decline_request"),
        ("integration_id", id.as_str()),
        ("requested_by", fx.grace.id.as_str()),
    ];
    assert_eq!(enterprise(&fx, &ada, &a_csrf, &form).status(), 303);
    // Answered once: a second answer is refused.
    assert_eq!(enterprise(&fx, &ada, &a_csrf, &form).status(), 400);
    assert!(audit_actions(&fx).contains(&"approval.declined".to_string()));
    let page = consent_page(
        &fx,
        &grace,
        &base(
            &fx.multi.integration.client_id,
            &[("redirect_uri", "https://multi.example/cb")],
        ),
    );
    assert!(page.contains("Ada declined your request on"), "{page}");
    assert!(page.contains(">Request approval<"), "may ask again");
    // Owners have nothing to ask.
    assert_eq!(ask(&fx, &ada, &a_csrf, &id, "").status(), 400);
}

#[test]
fn the_empty_approve_select_says_why_and_how_to_install_one() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let page = settings(&fx, &ada, fx.acme.id.as_str());
    assert!(
        page.contains("only connections already installed in Acme Corp can be approved"),
        "{page}"
    );
    assert!(page.contains("install it first with <strong>+ Add connection</strong>"));
}
