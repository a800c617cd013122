//! UX round (issue 16) behaviours that need no browser.

use crate::kit::*;

#[test]
fn cli_integration_add_takes_privacy_and_terms_links() {
    let dir = tempfile::tempdir().expect("dir");
    let out = pagegrant(
        dir.path(),
        &[
            "integration",
            "add",
            "--name",
            "Linked",
            "--redirect-uri",
            "https://linked.example/cb",
            "--privacy-url",
            "https://linked.example/privacy",
            "--terms-url",
            "https://linked.example/terms",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let client_id = v["client_id"].as_str().expect("client id");
    let mut c = pagegrant::db::connect(&cli_db(dir.path())).expect("db");
    let i = pagegrant::db::queries::integrations::by_client_id(&mut c, client_id)
        .expect("query")
        .expect("stored");
    assert_eq!(
        i.privacy_url.as_deref(),
        Some("https://linked.example/privacy")
    );
    assert_eq!(i.terms_url.as_deref(), Some("https://linked.example/terms"));
    // A link that is not http(s) is refused with a message.
    let out = pagegrant(
        dir.path(),
        &[
            "integration",
            "add",
            "--name",
            "Bad",
            "--redirect-uri",
            "https://bad.example/cb",
            "--privacy-url",
            "javascript:alert(1)",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an http(s) URL"));
}

/// Issue 16 item 9: the audit log reads as sentences with names, keeps the
/// settings tabs, filters by who, what and when, and exports CSV.
#[test]
fn audit_log_speaks_in_sentences_filters_and_exports_csv() {
    let fx = crate::kit::fixture();
    crate::kit::connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let conn_id = pagegrant::db::queries::connections::find_installed(
        &mut fx.srv.conn(),
        &fx.conf.integration.id,
        &fx.acme.id,
        &fx.grace.id,
    )
    .expect("q")
    .expect("connection")
    .id;
    let ada = logged_in(&fx.srv, "ada@example.com");
    let ws = fx.acme.id.to_string();
    let (_, home) = get_html(&ada, &fx.srv.url(&format!("/w/{ws}")));
    let csrf = input_value(&home, "csrf").expect("csrf");
    let r = ada
        .post(
            fx.srv
                .url(&format!("/w/{ws}/p/{}/connections/add", fx.ada_private.id)),
        )
        .form(&[("csrf", csrf.as_str()), ("connection_id", conn_id.as_str())])
        .send()
        .expect("share");
    // Ada's private page cannot go to Grace's connection; share Roadmap instead.
    assert_eq!(r.status(), 400);
    let r = ada
        .post(
            fx.srv
                .url(&format!("/w/{ws}/p/{}/connections/add", fx.roadmap.id)),
        )
        .form(&[("csrf", csrf.as_str()), ("connection_id", conn_id.as_str())])
        .send()
        .expect("share");
    assert_eq!(r.status(), 303);

    let audit = |q: &str| get_html(&ada, &fx.srv.url(&format!("/w/{ws}/settings/audit{q}")));
    let (status, page) = audit("");
    assert_eq!(status, 200);
    let text = html_unescape(&page);
    assert!(
        text.contains("Grace connected Partner <b>App</b> and shared 1 page with it"),
        "{text}"
    );
    assert!(
        text.contains("Ada shared Roadmap with Partner <b>App</b>"),
        "{text}"
    );
    assert!(
        !text.contains(&format!("page {}", fx.roadmap.id)),
        "no bare page ids"
    );
    assert!(
        page.contains(">Members</a>") && page.contains(">Connections</a>"),
        "the tabs stay"
    );

    // Who, what, when.
    let (_, mine) = audit(&format!("?who={}", fx.grace.id));
    let mine = html_unescape(&mine);
    assert!(
        mine.contains("Grace connected") && !mine.contains("Ada shared"),
        "{mine}"
    );
    let (_, pages) = audit("?kind=pages");
    let pages = html_unescape(&pages);
    assert!(pages.contains("Ada shared Roadmap") && !pages.contains("Grace connected"));
    let (_, later) = audit("?from=2999-01-01");
    assert!(later.contains("Nothing matches."));
    let (status, bad) = audit("?from=yesterday");
    assert_eq!(status, 400);
    assert!(bad.contains("2026-12-02"), "says how to write a date");

    // Export CSV, with the same filter.
    let r = ada
        .get(
            fx.srv
                .url(&format!("/w/{ws}/settings/audit.csv?kind=pages")),
        )
        .send()
        .expect("csv");
    assert_eq!(r.status(), 200);
    assert!(r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv")));
    let csv = r.text().expect("body");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("time,who,event,action,target,detail"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert!(
        rows[0].contains("Ada shared Roadmap with Partner <b>App</b>"),
        "{csv}"
    );
    // Members may not read it.
    let grace = logged_in(&fx.srv, "grace@example.com");
    let r = grace
        .get(fx.srv.url(&format!("/w/{ws}/settings/audit.csv")))
        .send()
        .expect("csv");
    assert_eq!(r.status(), 403);
}

/// Issue 16 item 7: My integrations takes the privacy policy and terms links
/// the consent page shows, and says next to the field when one is not a URL.
#[test]
fn developers_form_takes_privacy_and_terms_links() {
    let fx = crate::kit::fixture();
    let grace = logged_in(&fx.srv, "grace@example.com");
    let (_, page) = get_html(&grace, &fx.srv.url("/developers"));
    let csrf = input_value(&page, "csrf").expect("csrf");
    let post = |privacy: &str| {
        let r = grace
            .post(fx.srv.url("/developers"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("name", "Linked Notes"),
                ("kind", "public"),
                ("redirect_uris", "https://notes.example/cb"),
                ("privacy_url", privacy),
                ("terms_url", "https://notes.example/terms"),
                ("capability", "read_content"),
            ])
            .send()
            .expect("post");
        follow(&fx.srv, &grace, r)
    };
    let (status, page) = post("not a url");
    assert_eq!(status, 400);
    assert!(
        page.contains("id=\"int-privacy-error\""),
        "the error sits by its field"
    );
    let (status, page) = post("https://notes.example/privacy");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("https://notes.example/privacy") && page.contains("Terms of use"));
}
