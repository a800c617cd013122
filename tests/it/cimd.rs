//! Client ID Metadata Documents (DESIGN §7, SECURITY S61, S62), over HTTP
//! against the real server. A small HTTP server in the test serves the
//! documents on 127.0.0.1 and records every request it gets, so "refused
//! before connecting" is checked by what it never saw. Names that point at
//! 127.0.0.1, 10.0.0.1 and 169.254.169.254 come from
//! `registration.cimd_hosts` (answered before DNS and checked like a DNS
//! answer): no packet leaves the machine.

use std::time::{Duration, Instant};

use crate::kit::docserver::{document, DocServer, Reply};
use crate::kit::*;
use reqwest::blocking::Response;
use serde_json::{json, Value};

const CB: &str = AGENT_CB;

/// An error page: 400 HTML, never a redirect; its text.
fn refused_page(r: Response, what: &str) -> String {
    assert_eq!(r.status(), 400, "{what}");
    assert!(r.headers().get("location").is_none(), "{what}: no redirect");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    html_unescape(&r.text().unwrap())
}

/// The documents are on 127.0.0.1: allowed only with cimd_dev_loopback.
fn dev(c: &mut pagegrant::config::Config) {
    c.registration.cimd_dev_loopback = true;
}

#[test]
fn s61_cimd_refuses_loopback_private_link_local_and_metadata_addresses() {
    let docs = DocServer::start();
    let p = docs.port;
    let fx = fixture_with(|c| {
        let h = &mut c.registration.cimd_hosts;
        for (name, ip) in [
            ("loop.example", "127.0.0.1"),
            ("evil.example", "10.0.0.1"),
            ("metadata.example", "169.254.169.254"),
            ("private.example", "192.168.1.20"),
            ("cgnat.example", "100.64.0.7"),
            ("mapped.example", "::ffff:127.0.0.1"),
            ("ula.example", "fd00::1"),
        ] {
            h.insert(name.into(), ip.into());
        }
    });
    let ws = fx.acme.id.to_string();
    // Everything the server would find, were it to connect.
    for path in ["/doc", "/latest/meta-data"] {
        docs.document(path, document(&docs.url(path), "Agent", &[CB]));
    }
    let anon = client();
    for (id, why) in [
        (format!("https://loop.example:{p}/doc"), "loopback"),
        (format!("https://evil.example:{p}/doc"), "private"),
        (
            format!("https://metadata.example:{p}/latest/meta-data"),
            "metadata",
        ),
        (format!("https://private.example:{p}/doc"), "private"),
        (format!("https://cgnat.example:{p}/doc"), "CGNAT"),
        (format!("https://mapped.example:{p}/doc"), "loopback"),
        (format!("https://ula.example:{p}/doc"), "private"),
        (format!("https://127.0.0.1:{p}/doc"), "loopback"),
        (format!("https://[::1]:{p}/doc"), "loopback"),
        (format!("https://localhost:{p}/doc"), "loopback"),
        ("https://10.0.0.1/doc".to_string(), "private"),
        (
            "https://169.254.169.254/latest/meta-data".to_string(),
            "metadata",
        ),
        ("https://[fe80::1]/doc".to_string(), "link-local"),
        ("https://[::ffff:a9fe:a9fe]/doc".to_string(), "metadata"),
        ("https://0.0.0.0/doc".to_string(), "unspecified"),
        // Loopback over http without cimd_dev_loopback: not even considered.
        (docs.url("/doc"), "https"),
    ] {
        let page = refused_page(authorize_get(&anon, &fx, &pkce_request(&id, CB, &ws)), &id);
        assert!(page.contains(why), "{id}: {page}");
        assert!(page.contains("cannot be used"), "{id}: {page}");
    }
    assert!(
        docs.hits().is_empty(),
        "nothing connected: {:?}",
        docs.hits()
    );
    assert_eq!(
        fx.srv
            .count("integrations WHERE cimd_expires_at IS NOT NULL"),
        0
    );
}

#[test]
fn s61_cimd_does_not_follow_redirects() {
    let docs = DocServer::start();
    let fx = fixture_with(dev);
    let ws = fx.acme.id.to_string();
    let id = docs.url("/moved");
    docs.set(
        "/moved",
        Reply::new(302, ("Location", &docs.url("/doc")), b""),
    );
    docs.document("/doc", document(&id, "Agent", &[CB]));
    let page = refused_page(
        authorize_get(&client(), &fx, &pkce_request(&id, CB, &ws)),
        "302",
    );
    assert!(page.contains("redirect"), "{page}");
    assert!(page.contains("not followed"), "{page}");
    assert_eq!(docs.hits(), vec!["/moved"], "the redirect is not followed");
}

#[test]
fn s61_cimd_slow_document_is_refused_within_the_timeout() {
    let docs = DocServer::start();
    let fx = fixture_with(dev);
    let ws = fx.acme.id.to_string();
    let id = docs.url("/slow");
    let mut slow = Reply::json(&document(&id, "Agent", &[CB]));
    slow.delay = Duration::from_secs(8);
    docs.set("/slow", slow);
    let start = Instant::now();
    let page = refused_page(
        authorize_get(&client(), &fx, &pkce_request(&id, CB, &ws)),
        "slow",
    );
    let took = start.elapsed();
    assert!(page.contains("5 seconds"), "{page}");
    assert!(took < Duration::from_millis(6500), "took {took:?}");
    assert!(took >= Duration::from_millis(4900), "took {took:?}");
}

#[test]
fn s61_cimd_huge_non_json_or_mismatched_document_is_an_error_page() {
    let docs = DocServer::start();
    let fx = fixture_with(dev);
    let ws = fx.acme.id.to_string();
    let anon = client();

    // Over 64 KiB, with a Content-Length and without one (streamed).
    for (path, no_length) in [("/huge", false), ("/huge-stream", true)] {
        let id = docs.url(path);
        let mut doc = document(&id, "Agent", &[CB]);
        doc["padding"] = json!("x".repeat(70 * 1024));
        let mut reply = Reply::json(&doc);
        reply.no_length = no_length;
        docs.set(path, reply);
        let page = refused_page(authorize_get(&anon, &fx, &pkce_request(&id, CB, &ws)), path);
        assert!(page.contains("larger than 64 KiB"), "{path}: {page}");
    }

    // Not JSON.
    let id = docs.url("/html");
    docs.set(
        "/html",
        Reply::new(200, ("Content-Type", "text/html"), b"<html>hello</html>"),
    );
    let page = refused_page(
        authorize_get(&anon, &fx, &pkce_request(&id, CB, &ws)),
        "html",
    );
    assert!(page.contains("not JSON"), "{page}");

    // client_id off by one byte, either way.
    let id = docs.url("/doc");
    for other in [docs.url("/doc/"), docs.url("/dod"), docs.url("/do")] {
        docs.document("/doc", document(&other, "Agent", &[CB]));
        let page = refused_page(
            authorize_get(&anon, &fx, &pkce_request(&id, CB, &ws)),
            &other,
        );
        assert!(
            page.contains("client_id is not exactly its own URL"),
            "{page}"
        );
    }

    // A document that is not a public client, or is not found.
    let mut doc = document(&id, "Agent", &[CB]);
    doc["token_endpoint_auth_methods_supported"] = json!(["private_key_jwt"]);
    docs.document("/doc", doc);
    let page = refused_page(
        authorize_get(&anon, &fx, &pkce_request(&id, CB, &ws)),
        "method",
    );
    assert!(page.contains("none"), "{page}");
    let missing = docs.url("/missing");
    let page = refused_page(
        authorize_get(&anon, &fx, &pkce_request(&missing, CB, &ws)),
        "404",
    );
    assert!(page.contains("HTTP 404"), "{page}");

    // A URL that is not a CIMD URL at all.
    let page = refused_page(
        authorize_get(&anon, &fx, &pkce_request(&docs.url("/"), CB, &ws)),
        "no path",
    );
    assert!(page.contains("must have a path"), "{page}");
    assert_eq!(
        fx.srv
            .count("integrations WHERE cimd_expires_at IS NOT NULL"),
        0
    );
}

#[test]
fn s62_cimd_redirect_uri_must_be_in_the_document_and_a_dropped_one_stops_after_expiry() {
    let docs = DocServer::start();
    let fx = fixture_with(|c| {
        c.registration.cimd_dev_loopback = true;
        // Lowered so the expiry can be watched; no Cache-Control below
        // means the minimum.
        c.registration.cimd_cache_min_s = 3;
    });
    let ws = fx.acme.id.to_string();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let id = docs.url("/agent.json");
    let other = "https://agent.example/other";
    docs.document("/agent.json", document(&id, "Agent", &[CB, other]));

    // Not in the document: an error page.
    let page = refused_page(
        authorize_get(
            &ada,
            &fx,
            &pkce_request(&id, "https://evil.example/cb", &ws),
        ),
        "unlisted",
    );
    assert!(page.contains("redirect_uri"), "{page}");
    assert_eq!(
        authorize_get(&ada, &fx, &pkce_request(&id, other, &ws)).status(),
        200
    );
    assert_eq!(docs.hits().len(), 1, "the document is cached");

    // The document drops `other`: still good until the cache expires...
    docs.document("/agent.json", document(&id, "Agent", &[CB]));
    assert_eq!(
        authorize_get(&ada, &fx, &pkce_request(&id, other, &ws)).status(),
        200
    );
    assert_eq!(docs.hits().len(), 1);
    // ...and refused after it.
    std::thread::sleep(Duration::from_millis(3300));
    let page = refused_page(
        authorize_get(&ada, &fx, &pkce_request(&id, other, &ws)),
        "dropped",
    );
    assert!(page.contains("redirect_uri"), "{page}");
    assert_eq!(docs.hits().len(), 2, "fetched again after expiry");
    assert_eq!(
        authorize_get(&ada, &fx, &pkce_request(&id, CB, &ws)).status(),
        200
    );
}

#[test]
fn cimd_client_connects_through_consent_with_pkce() {
    let docs = DocServer::start();
    let fx = fixture_with(dev);
    let ws = fx.acme.id.to_string();
    let id = docs.url("/oauth/client.json");
    docs.document(
        "/oauth/client.json",
        document(&id, "Agent <b>Bold</b>", &[CB, "http://127.0.0.1/callback"]),
    );

    let meta: Value = bare_client()
        .get(fx.srv.url("/.well-known/oauth-authorization-server"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(meta["client_id_metadata_document_supported"], json!(true));

    // Not logged in: the document is fetched, then the login page.
    let anon = client();
    let r = authorize_get(&anon, &fx, &pkce_request(&id, CB, &ws));
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"), "{}", location(&r));

    let ada = logged_in(&fx.srv, "ada@example.com");
    // PKCE is required of a CIMD client, as of every dynamic one.
    let mut no_pkce = pkce_request(&id, CB, &ws);
    no_pkce.retain(|(k, _)| !k.starts_with("code_challenge"));
    let r = authorize_get(&ada, &fx, &no_pkce);
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("code_challenge"));
    // A loopback redirect URI in the document: any port.
    let r = authorize_get(
        &ada,
        &fx,
        &pkce_request(&id, "http://127.0.0.1:51234/callback", &ws),
    );
    assert_eq!(r.status(), 200);
    let r = authorize_get(&ada, &fx, &pkce_request(&id, CB, &ws));
    assert_eq!(r.status(), 200);
    let page = r.text().unwrap();
    let host = format!("127.0.0.1:{}", docs.port);
    assert!(
        page.contains(&format!(
            "Unverified</strong> · identified by <strong>{host}</strong>"
        )),
        "{page}"
    );
    assert!(!page.contains("<b>Bold</b>"), "the name is escaped");
    assert!(page.contains("Agent &#60;b&#62;Bold") || page.contains("Agent &lt;b&gt;Bold"));
    assert!(!page.contains("Registered itself"));

    let r = answer(&fx, &ada, &page, "allow", &[fx.eng.id.as_str()]);
    assert_eq!(r.status(), 303);
    let p = params(&location(&r));
    assert!(location(&r).starts_with(CB));
    let code = p.get("code").expect("code").clone();

    let r = exchange_pkce(&fx, &id, &code, &[("redirect_uri", CB)]);
    assert_eq!(r.status(), 200);
    let t: Value = r.json().unwrap();
    let access = t["access_token"].as_str().unwrap();
    let r = bare_client()
        .get(fx.srv.url("/v1/users/me"))
        .bearer_auth(access)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    // Settings shows it by its host.
    let (_, list) = get_html(&ada, &fx.srv.url(&format!("/w/{ws}/settings/connections")));
    assert!(list.contains(&format!(">From {host}</span>")), "{list}");
    // One document fetch for all of it (the cache).
    assert_eq!(docs.hits(), vec!["/oauth/client.json"]);
}

#[test]
fn cimd_allowed_hosts_limits_who_may_be_a_cimd_client() {
    let docs = DocServer::start();
    let fx = fixture_with(|c| {
        c.registration.cimd_dev_loopback = true;
        c.registration.cimd_allowed_hosts = vec!["claude.ai".into()];
    });
    let ws = fx.acme.id.to_string();
    let id = docs.url("/doc");
    docs.document("/doc", document(&id, "Agent", &[CB]));
    let page = refused_page(
        authorize_get(&client(), &fx, &pkce_request(&id, CB, &ws)),
        "allowed",
    );
    assert!(page.contains("not among the hosts"), "{page}");
    assert!(docs.hits().is_empty());
}

#[test]
fn cimd_turned_off_refuses_url_client_ids_and_is_not_advertised() {
    let docs = DocServer::start();
    let fx = fixture_with(|c| {
        c.registration.cimd_dev_loopback = true;
        c.registration.cimd = false;
    });
    let ws = fx.acme.id.to_string();
    let id = docs.url("/doc");
    docs.document("/doc", document(&id, "Agent", &[CB]));
    let page = refused_page(
        authorize_get(&client(), &fx, &pkce_request(&id, CB, &ws)),
        "off",
    );
    assert!(page.contains("turned off"), "{page}");
    assert!(docs.hits().is_empty());
    let meta: Value = bare_client()
        .get(fx.srv.url("/.well-known/oauth-authorization-server"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(meta.get("client_id_metadata_document_supported").is_none());
}
