//! Interop with the real Notion SDKs (feature `e2e`): the JavaScript SDK
//! (`@notionhq/client`) and the Python client (`notion-client`), pinned in
//! tests/sdk/*, run unchanged against the server after the code is obtained
//! through the real HTTP consent flow. They append, list, update and delete
//! blocks (issue 18) with the SDKs' own typed calls.

use std::process::Command;

use crate::kit::*;

/// Everything an SDK script needs, with a fresh code from the consent flow.
fn env_for(fx: &Fx) -> Vec<(&'static str, String)> {
    let q1 = fx
        .srv
        .page(&fx.acme, &fx.ada, "Q1 Plan", Some(&fx.roadmap), false);
    // A partner that may also insert content, so the scripts can append blocks.
    let partner = pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "SDK Partner".into(),
            kind: Some(pagegrant::db::models::IntegrationKind::Public),
            redirect_uris: vec![CB.into()],
            developer_name: Some("SDK Labs".into()),
            capabilities: vec![
                "read_content".into(),
                "update_content".into(),
                "insert_content".into(),
                "read_user_with_email".into(),
            ],
            ..Default::default()
        },
    )
    .expect("register");
    let g = logged_in(&fx.srv, "grace@example.com");
    let page = consent_page(fx, &g, &base(&partner.integration.client_id, &[]));
    let r = answer(fx, &g, &page, "allow", &[fx.eng.id.as_str()]);
    let code = code_of(&r);
    let visible = [&fx.eng, &fx.roadmap, &q1]
        .iter()
        .map(|p| p.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    vec![
        ("PG_BASE", fx.srv.base.clone()),
        ("PG_CLIENT_ID", partner.integration.client_id.clone()),
        (
            "PG_CLIENT_SECRET",
            partner.client_secret.clone().expect("secret"),
        ),
        ("PG_CODE", code),
        ("PG_REDIRECT_URI", CB.into()),
        ("PG_WORKSPACE_ID", fx.acme.id.to_string()),
        ("PG_VISIBLE_IDS", visible),
        ("PG_DESCENDANT_ID", fx.roadmap.id.to_string()),
        ("PG_PARENT_ID", fx.eng.id.to_string()),
        ("PG_UNSHARED_ID", fx.ada_private.id.to_string()),
    ]
}

fn run(mut cmd: Command, fx: &Fx) {
    for (k, v) in env_for(fx) {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("run the SDK script (see .ci/run for its set-up)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "SDK interop failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all passed"), "{stdout}");
}

#[test]
fn python_notion_client_works_unchanged() {
    let fx = fixture();
    let mut cmd = Command::new("python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sdk/python/interop.py"
    ));
    run(cmd, &fx);
}

#[test]
fn javascript_notionhq_client_works_unchanged() {
    let fx = fixture();
    let mut cmd = Command::new("node");
    cmd.arg("interop.mjs")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/js"));
    run(cmd, &fx);
}
