//! UX round (issue 16) behaviours that need no browser.

use crate::common::*;

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
