//! Issue 27 items 1–3 in a browser, by visible labels, with screenshots at
//! 1280 and 390 px: the catalog without unvetted integrations, the consent
//! page of an unverified integration, an MCP agent and a CIMD client, and
//! a member asking the owners to approve an integration.

use crate::kit::browser::*;
use crate::kit::docserver::{document, DocServer};
use crate::kit::*;
use pagegrant::domain::integrations::{self, Draft};
use serde_json::Value;

/// A script's string result.
fn js(d: &Driver, script: &str) -> String {
    d.rt.block_on(d.c().execute(script, vec![]))
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Scrolls `xpath` into the middle of the viewport, for the screenshot.
fn scroll_to(d: &Driver, xpath: &str) {
    let e = d.find(xpath);
    let arg = serde_json::to_value(&e).expect("element");
    let _ = d.rt.block_on(
        d.c()
            .execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg]),
    );
}

/// Screenshots at 1280 and 390 px, each scrolled to `xpath`.
fn shots_at(d: &Driver, name: &str, xpath: &str) {
    scroll_to(d, xpath);
    d.screenshot(&format!("{name}-1280"));
    d.resize(390, 844);
    scroll_to(d, xpath);
    d.screenshot(&format!("{name}-390"));
    d.resize(1280, 800);
}

fn settings_url(fx: &Fx) -> String {
    fx.srv
        .url(&format!("/w/{}/settings/connections", fx.acme.id))
}

#[test]
fn browser_catalog_lists_only_vouched_integrations_and_marks_the_rest() {
    let fx = fixture();
    let mallory = fx.srv.user("mallory@example.com", "Mallory");
    let fake = integrations::create_for(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        &mallory.id,
        Draft {
            name: "Slack (official)".into(),
            internal: false,
            workspace_id: String::new(),
            redirect_uris: vec![CB.into()],
            public_client: false,
            capabilities: vec!["read_content".into()],
            website_url: Some("https://slack-official.example/".into()),
            privacy_url: None,
            terms_url: None,
            support_email: None,
            icon: None,
        },
    )
    .expect("create");
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.click_label("Settings & members");
    d.click_label("+ Add connection");
    d.find("//ul[@class='add-list']//span[@class='conn-title' and normalize-space()='GitHub']");
    assert!(d
        .find_all("//ul[@class='add-list']//span[normalize-space()='Slack (official)']")
        .is_empty());
    d.screenshot_both("catalog-add-connection");

    // Its own link still works, and says who vouches for it: nobody.
    d.goto(&authorize_url(
        &fx.srv,
        &base(
            &fake.integration.client_id,
            &[("workspace_id", fx.acme.id.as_str())],
        ),
    ));
    let line = d.text("//p[contains(@class,'trust-unverified')]");
    assert_eq!(line, "Unverified developer · identified by partner.example");
    d.find("//span[@class='link-host' and normalize-space()='(slack-official.example)']");
    d.screenshot_both("catalog-unverified-consent");

    // Installed here: listed in + Add connection, marked.
    d.click_label("Allow access");
    wait_for(|| d.url().starts_with(CB), "back at the client");
    d.goto(&settings_url(&fx));
    d.click_label("+ Add connection");
    d.find("//ul[@class='add-list']//li[.//span[normalize-space()='Slack (official)']]//span[normalize-space()='Unverified developer']");
    d.find("//table[contains(@class,'connections')]//span[contains(@class,'unverified') and normalize-space()='Unverified developer']");
    d.screenshot_both("catalog-installed-unverified");
}

fn mcp_consent_url(fx: &Fx, id: &str, redirect: &str) -> String {
    let mcp = format!("{}/mcp", fx.srv.config.server.issuer);
    authorize_url(
        &fx.srv,
        &[
            ("client_id", id),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("state", "s"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("resource", &mcp),
            ("workspace_id", fx.acme.id.as_str()),
        ],
    )
}

#[test]
fn browser_mcp_agent_and_cimd_consent_say_what_they_are() {
    let docs = DocServer::start();
    let fx = fixture_with(|c| c.registration.cimd_dev_loopback = true);
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/register"))
        .json(&serde_json::json!({
            "client_name": "Claude Desktop",
            "redirect_uris": [AGENT_CB],
            "token_endpoint_auth_method": "none",
            "client_uri": "https://claude.example/",
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().unwrap();
    let agent = v["client_id"].as_str().unwrap().to_string();

    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(&mcp_consent_url(&fx, &agent, AGENT_CB));
    assert_eq!(
        d.text("//p[contains(@class,'agent-line')]"),
        "AI agent (MCP) — it will be able to search, read, create and edit the pages you select."
    );
    assert_eq!(
        d.text("//p[contains(@class,'trust-unverified')]"),
        "Unverified · identified by agent.example"
    );
    d.find("//ul[contains(@class,'agent-tools')]/li[starts-with(normalize-space(),'Search —')]");
    d.find(
        "//ul[contains(@class,'agent-tools')]/li[starts-with(normalize-space(),'Update page —')]",
    );
    // Amber, not the red of errors.
    let colour = js(
        &d,
        "return getComputedStyle(document.querySelector('.trust-unverified')).color",
    );
    assert_eq!(colour, "rgb(122, 75, 0)", "amber text");
    d.screenshot_both("catalog-mcp-consent");

    let id = docs.url("/oauth/client.json");
    docs.document("/oauth/client.json", document(&id, "Inspector", &[CB]));
    d.goto(&mcp_consent_url(&fx, &id, CB));
    let host = format!("127.0.0.1:{}", docs.port);
    assert_eq!(
        d.text("//p[contains(@class,'trust-unverified')]"),
        format!("Unverified · identified by {host}")
    );
    assert!(d
        .find_all("//p[starts-with(normalize-space(),'By ')]")
        .is_empty());
    d.screenshot_both("catalog-cimd-consent");
}

#[test]
fn browser_member_requests_approval_and_the_owner_answers() {
    let fx = fixture();
    pagegrant::db::queries::workspaces::set_install_policy(
        &mut fx.srv.conn(),
        &fx.acme.id,
        pagegrant::db::models::InstallPolicy::ApprovedOnly,
        false,
    )
    .expect("policy");
    let link = authorize_url(&fx.srv, &base(&fx.conf.integration.client_id, &[]));
    {
        let d = Driver::start();
        d.login_as(&fx.srv, "grace@example.com");
        d.goto(&link);
        d.find("//button[normalize-space()='Request approval']");
        assert!(
            d.find_all("//summary[normalize-space()='Select pages']")
                .is_empty(),
            "no picker"
        );
        d.fill(
            "Note to the owners (optional)",
            "For the <b>sprint</b> board",
        );
        shots_at(
            &d,
            "catalog-request-approval",
            "//button[normalize-space()='Request approval']",
        );
        d.submit_label("Request approval");
        d.find(
            "//p[contains(@class,'request-status') and contains(.,'They have not answered yet')]",
        );
        d.screenshot_both("catalog-request-sent");
    }
    {
        let d = Driver::start();
        d.login_as(&fx.srv, "ada@example.com");
        d.click_label("Settings & members");
        d.find("//h3[normalize-space()='Requests to approve']");
        d.find("//table[contains(@class,'requests')]//td[normalize-space()='For the <b>sprint</b> board']");
        shots_at(
            &d,
            "catalog-owner-requests",
            "//h3[normalize-space()='Requests to approve']",
        );
        d.resize(390, 844);
        let wide = js(&d, "return String(document.documentElement.scrollWidth)");
        assert!(
            wide.parse::<u32>().unwrap_or(9999) <= 390,
            "no wider than a phone: {wide}"
        );
        d.resize(1280, 800);
        // Not installed yet: install it first (owners may), then approve.
        d.click_label("install Partner <b>App</b>");
        d.click_label("Allow access");
        wait_for(|| d.url().starts_with(CB), "back at the client");
        d.goto(&settings_url(&fx));
        d.click("//table[contains(@class,'requests')]//button[normalize-space()='Approve']");
        d.find(
            "//p[@class='flash' and starts-with(normalize-space(),'Approved Partner <b>App</b>')]",
        );
        shots_at(
            &d,
            "catalog-owner-approved",
            "//p[normalize-space()='No member is waiting for an answer.']",
        );
    }
    let d = Driver::start();
    d.login_as(&fx.srv, "grace@example.com");
    d.goto(&link);
    d.find("//p[contains(@class,'request-status') and starts-with(normalize-space(),'Ada approved your request on')]");
    shots_at(
        &d,
        "catalog-request-answered",
        "//button[normalize-space()='Allow access']",
    );
}

#[test]
fn browser_empty_approve_select_explains_itself() {
    let fx = fixture();
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    d.click_label("Settings & members");
    let empty = "//p[contains(@class,'approve-empty') and contains(.,'only connections already installed in Acme Corp can be approved')]";
    shots_at(&d, "catalog-approve-empty", empty);
}

#[test]
fn browser_unverified_marks_are_amber_in_dark_mode_too() {
    let fx = fixture();
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/register"))
        .json(&serde_json::json!({
            "client_name": "Agent",
            "redirect_uris": [AGENT_CB],
            "token_endpoint_auth_method": "none",
        }))
        .send()
        .unwrap();
    let v: Value = r.json().unwrap();
    let agent = v["client_id"].as_str().unwrap().to_string();
    // blink's preferredColorScheme 0 is dark.
    let d = Driver::start_with(1280, 800, &["--blink-settings=preferredColorScheme=0"]);
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(&mcp_consent_url(&fx, &agent, AGENT_CB));
    let colour = js(
        &d,
        "return getComputedStyle(document.querySelector('.trust-unverified')).color",
    );
    assert_eq!(colour, "rgb(242, 207, 126)", "amber text on the dark theme");
    d.screenshot_both("catalog-mcp-consent-dark");
    // Connected: its Settings row carries the badge.
    d.click_label("Allow access");
    wait_for(|| d.url().starts_with(AGENT_CB), "back at the agent");
    d.goto(&settings_url(&fx));
    d.find("//table[contains(@class,'connections')]//span[contains(@class,'unverified')]");
    d.screenshot_both("catalog-settings-dark");
}
