//! Clients that registered themselves, as people meet them: the consent
//! page's wording (S60) and owners blocking one in a workspace (S67), over
//! HTTP against the real server.

use crate::kit::*;
use reqwest::blocking::Client;
use serde_json::{json, Value};

const NOT_REVIEWED: &str = "Registered itself — not reviewed by anyone in this workspace";

/// Registers a public client named "Agent" on `uris`; its client id.
fn register(fx: &Fx, uris: &[&str]) -> String {
    let r = bare_client()
        .post(fx.srv.url("/v1/oauth/register"))
        .json(&json!({
            "client_name": "Agent",
            "redirect_uris": uris,
            "token_endpoint_auth_method": "none",
        }))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().unwrap();
    v["client_id"].as_str().unwrap().to_string()
}

/// The request for `id` on CB in Acme, with PKCE.
fn request<'a>(id: &'a str, ws: &'a str) -> Vec<(&'a str, &'a str)> {
    base(
        id,
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("workspace_id", ws),
        ],
    )
}

#[test]
fn consent_page_says_a_dynamic_client_registered_itself_s60() {
    let fx = fixture();
    let c = logged_in(&fx.srv, "ada@example.com");
    let ws = fx.acme.id.to_string();

    let id = register(&fx, &[CB]);
    let page = consent_page(&fx, &c, &request(&id, &ws));
    assert!(page.contains(NOT_REVIEWED), "{page}");
    assert!(page.contains("You will be sent back to <strong>partner.example</strong>"));
    assert!(!page.contains("runs on this computer"));

    // Every redirect URI on loopback: no host is named.
    let local = register(
        &fx,
        &[
            "http://127.0.0.1:33418/cb",
            "http://[::1]:33418/cb",
            "http://localhost:33418/cb",
        ],
    );
    let page = consent_page(
        &fx,
        &c,
        &base(
            &local,
            &[
                ("redirect_uri", "http://127.0.0.1:40000/cb"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("workspace_id", &ws),
            ],
        ),
    );
    assert!(page.contains(NOT_REVIEWED), "{page}");
    assert!(page.contains("Agent runs on this computer"), "{page}");
    assert!(!page.contains("You will be sent back to"));

    // A client an operator registered says neither, loopback or not.
    let page = consent_page(&fx, &c, &base(&fx.conf.integration.client_id, &[]));
    assert!(!page.contains("Registered itself"));
    assert!(page.contains("You will be sent back to <strong>partner.example</strong>"));
    let page = consent_page(
        &fx,
        &c,
        &base(
            &fx.public.integration.client_id,
            &[
                ("redirect_uri", "http://127.0.0.1/cb"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        ),
    );
    assert!(!page.contains("Registered itself"));
    assert!(page.contains("You will be sent back to <strong>127.0.0.1</strong>"));
}

/// Ada connects `id` to Acme; its access token.
fn connect(fx: &Fx, c: &Client, id: &str) -> String {
    let ws = fx.acme.id.to_string();
    let page = consent_page(fx, c, &request(id, &ws));
    let r = answer(fx, c, &page, "allow", &[fx.eng.id.as_str()]);
    assert_eq!(r.status(), 303);
    let code = code_of(&r);
    let r = exchange_pkce(fx, id, &code, &[]);
    assert_eq!(r.status(), 200);
    let t: Value = r.json().unwrap();
    t["access_token"].as_str().unwrap().to_string()
}

#[test]
fn blocking_a_dynamic_client_ends_its_connections_and_refuses_consent_s67() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let grace = logged_in(&fx.srv, "grace@example.com");
    let ws = fx.acme.id.to_string();
    let id = register(&fx, &[CB]);
    let token = connect(&fx, &ada, &id);
    assert_eq!(me_status(&fx, &token), 200);

    // The owner's list: the badge and the menu item.
    let (status, list) = get_html(&ada, &fx.srv.url(&format!("/w/{ws}/settings/connections")));
    assert_eq!(status, 200);
    assert!(list.contains(">Registered itself</span>"), "{list}");
    let integration_id = list
        .split("/settings/clients/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("Block this client link")
        .to_string();
    assert!(list.contains(&format!(
        "/settings/clients/{integration_id}/block\">Block this client</a>"
    )));
    let block_url = fx
        .srv
        .url(&format!("/w/{ws}/settings/clients/{integration_id}/block"));

    // Members may not block: neither the page nor the POST.
    let (status, _) = get_html(&grace, &block_url);
    assert_eq!(status, 403);
    let (_, home) = get_html(&grace, &fx.srv.url(&format!("/w/{ws}")));
    let grace_csrf = input_value(&home, "csrf").unwrap();
    let r = grace
        .post(&block_url)
        .form(&[("csrf", grace_csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);

    // The confirmation page, then a POST without the CSRF token: refused.
    let (status, confirm) = get_html(&ada, &block_url);
    assert_eq!(status, 200);
    assert!(confirm.contains("Block Agent?"), "{confirm}");
    let csrf = input_value(&confirm, "csrf").unwrap();
    let r = ada.post(&block_url).form(&[("x", "1")]).send().unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(me_status(&fx, &token), 200, "nothing blocked yet");

    let r = ada
        .post(&block_url)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, list) = get_html(&ada, &fx.srv.url(&location(&r)));
    assert!(list.contains("Blocked Agent"), "{list}");
    assert!(list.contains(">Unblock</button>"), "{list}");

    // Its token stops at once.
    assert_eq!(me_status(&fx, &token), 401);

    // A new consent there shows why and cannot be allowed, owners included.
    let page = consent_page(&fx, &ada, &request(&id, &ws));
    assert!(page.contains("blocked Agent"), "{page}");
    assert!(page.contains("disabled>Allow access"), "{page}");
    let r = answer(&fx, &ada, &page, "allow", &[fx.eng.id.as_str()]);
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("blocked Agent"));

    // Another workspace is not affected.
    let other = fx.notebook.id.to_string();
    let page = consent_page(&fx, &ada, &request(&id, &other));
    assert!(!page.contains("blocked Agent"));

    // Audited.
    let (_, log) = get_html(&ada, &fx.srv.url(&format!("/w/{ws}/settings/audit")));
    assert!(log.contains("blocked Agent"), "{log}");

    // Members may not unblock; the owner does, and a new consent goes through.
    let unblock_url = fx.srv.url(&format!(
        "/w/{ws}/settings/clients/{integration_id}/unblock"
    ));
    let r = grace
        .post(&unblock_url)
        .form(&[("csrf", grace_csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = ada
        .post(&unblock_url)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let token = connect(&fx, &ada, &id);
    assert_eq!(me_status(&fx, &token), 200);
    let (_, log) = get_html(&ada, &fx.srv.url(&format!("/w/{ws}/settings/audit")));
    assert!(log.contains("unblocked Agent"), "{log}");
}
