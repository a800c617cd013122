//! Clients that registered themselves, as people meet them: the consent
//! page's wording (S60), over HTTP against the real server.

use crate::authorize::{base, consent_page, fixture, Fx, CHALLENGE};
use crate::common::*;
use serde_json::{json, Value};

const CB: &str = "https://partner.example/cb";
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
