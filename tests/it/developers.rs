//! My integrations at `/developers` (DESIGN §3) and Settings & members →
//! **+ Add connection**: creation with S9's redirect URI rules, the secret
//! shown once, Rotate secret, redirect URI edits, internal tokens, the
//! install policy for internal integrations, and only the creator managing
//! an integration, even by crafted requests (S52).

use crate::kit::*;
use pagegrant::db::models::IntegrationId;
use reqwest::blocking::Client;

pub fn csrf(fx: &Fx, c: &Client) -> String {
    let (_, page) = get_html(c, &fx.srv.url("/developers"));
    input_value(&page, "csrf").expect("csrf")
}

/// Posts the create form and, as a browser does, follows the 303 that a
/// created integration answers with (Post/Redirect/Get); returns the final
/// status and page: 200 and the integration's page once created.
fn create(fx: &Fx, c: &Client, fields: &[(&str, &str)]) -> (u16, String) {
    let token = csrf(fx, c);
    let mut form: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
    form.extend_from_slice(fields);
    let r = c
        .post(fx.srv.url("/developers"))
        .form(&form)
        .send()
        .expect("post");
    follow(&fx.srv, c, r)
}

fn integration_id_of(page: &str) -> String {
    let at = page.find("/developers/").expect("link to the integration") + 12;
    page[at..at + 36].to_string()
}

/// Client authentication at introspection: 200 when the credentials are good.
fn introspect_status(fx: &Fx, client_id: &str, secret: &str) -> u16 {
    bare_client()
        .post(fx.srv.url("/v1/oauth/introspect"))
        .basic_auth(client_id, Some(secret))
        .form(&[("token", "nothing")])
        .send()
        .expect("introspect")
        .status()
        .as_u16()
}

const CALLBACK: &str = "https://builder.example/oauth/callback";

fn create_public(fx: &Fx, c: &Client, name: &str) -> (String, String, String) {
    let (status, page) = create(
        fx,
        c,
        &[
            ("name", name),
            ("kind", "public"),
            ("redirect_uris", CALLBACK),
            ("website", "https://builder.example"),
            ("support_email", "help@builder.example"),
            ("icon", "🧪"),
            ("capability", "read_content"),
            ("capability", "read_user_without_email"),
        ],
    );
    assert_eq!(status, 200, "{page}");
    let client_id = field_by_id(&page, "client-id").expect("client id shown");
    let secret = field_by_id(&page, "client-secret").expect("secret shown once");
    (integration_id_of(&page), client_id, secret)
}

#[test]
fn developers_create_a_public_integration_and_see_its_secret_once() {
    let fx = fixture();
    let grace = logged_in(&fx.srv, "grace@example.com");
    let (status, page) = get_html(&grace, &fx.srv.url("/developers"));
    assert_eq!(status, 200);
    for label in [
        "My integrations",
        "Public",
        "Internal",
        "Redirect URIs",
        "Website",
        "Support email",
        "Capabilities",
        "Create integration",
    ] {
        assert!(page.contains(label), "{label}");
    }
    let (id, client_id, secret) = create_public(&fx, &grace, "Builder <i>Tool</i>");
    assert_eq!(secret.len(), 43, "256 bits, base64url");
    assert_eq!(introspect_status(&fx, &client_id, &secret), 200);
    assert_eq!(introspect_status(&fx, &client_id, "wrong"), 401);

    // Shown once: the integration's page never shows it again.
    let (status, page) = get_html(&grace, &fx.srv.url(&format!("/developers/{id}")));
    assert_eq!(status, 200);
    assert!(!page.contains(&secret));
    assert!(page.contains(&client_id) && page.contains("Rotate secret"));
    assert!(
        page.contains("Builder &#60;i&#62;Tool&#60;/i&#62;") || page.contains("Builder &lt;i&gt;")
    );
    assert!(page.contains(CALLBACK));

    // What was chosen is what the integration has.
    let i = pagegrant::db::queries::integrations::by_client_id(&mut fx.srv.conn(), &client_id)
        .expect("q")
        .expect("row");
    assert_eq!(i.capabilities, "read_content read_user_without_email");
    assert_eq!(i.created_by.as_ref(), Some(&fx.grace.id));
    assert_eq!(i.icon.as_deref(), Some("🧪"));
    assert_eq!(i.website_url.as_deref(), Some("https://builder.example"));

    // Listed under My integrations, and it works at the authorization endpoint.
    let (_, list) = get_html(&grace, &fx.srv.url("/developers"));
    assert!(list.contains(&format!("/developers/{id}")));
    let r = grace
        .get(crate::kit::authorize_url(
            &fx.srv,
            &crate::kit::base(&client_id, &[("redirect_uri", CALLBACK)]),
        ))
        .send()
        .expect("authorize");
    assert_eq!(r.status(), 200, "the consent page");
    assert!(r.text().expect("body").contains("Allow access"));
}

#[test]
fn developers_refuse_bad_redirect_uris_and_fields_s9() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let before = fx.srv.count("integrations");
    for (uri, why) in [
        ("http://partner.example/cb", "https"),
        ("https://partner.example/cb#x", "fragment"),
        ("https://*.partner.example/cb", "wildcard"),
        ("javascript:alert(1)", "scheme"),
        ("data:text/html,hi", "scheme"),
        ("https://user:pw@partner.example/cb", "credentials"),
        ("", "redirect URI"),
    ] {
        let (status, page) = create(
            &fx,
            &ada,
            &[("name", "Bad"), ("kind", "public"), ("redirect_uris", uri)],
        );
        assert_eq!(status, 400, "{uri}");
        assert!(page.contains(why), "{uri}: says why ({why})");
        // Said next to the field, capitalised.
        assert!(page.contains("<p class=\"field-error\" id=\"int-uris-error\">"));
        assert!(page.contains("aria-describedby=\"int-uris-error\""));
        // The form keeps what was typed.
        assert!(has(&page, r#"input[value="Bad"]"#));
    }
    for (fields, why) in [
        (
            vec![
                ("name", ""),
                ("kind", "public"),
                ("redirect_uris", CALLBACK),
            ],
            "name",
        ),
        (
            vec![
                ("name", "X"),
                ("kind", "public"),
                ("redirect_uris", CALLBACK),
                ("website", "ftp://x"),
            ],
            "website",
        ),
        (
            vec![
                ("name", "X"),
                ("kind", "public"),
                ("redirect_uris", CALLBACK),
                ("support_email", "nope"),
            ],
            "email",
        ),
        (
            vec![
                ("name", "X"),
                ("kind", "public"),
                ("redirect_uris", CALLBACK),
                ("icon", "too long an icon"),
            ],
            "icon",
        ),
        (
            vec![
                ("name", "X"),
                ("kind", "public"),
                ("redirect_uris", CALLBACK),
                ("capability", "read_user_with_email"),
                ("capability", "read_user_without_email"),
            ],
            "read_user",
        ),
        (
            vec![
                ("name", "X"),
                ("kind", "internal"),
                ("workspace_id", "nope"),
            ],
            "workspace",
        ),
    ] {
        let (status, page) = create(&fx, &ada, &fields);
        assert_eq!(status, 400, "{fields:?}");
        assert!(page.contains(why), "{fields:?}: {why}");
    }
    let (status, _) = create(
        &fx,
        &ada,
        &[
            ("name", "X"),
            ("kind", "public"),
            ("redirect_uris", CALLBACK),
            ("capability", "root"),
        ],
    );
    assert_eq!(status, 400);
    assert_eq!(fx.srv.count("integrations"), before, "nothing written");
}

#[test]
fn rotate_secret_shows_a_new_one_and_the_old_stops_at_once() {
    let fx = fixture();
    let grace = logged_in(&fx.srv, "grace@example.com");
    let (id, client_id, old) = create_public(&fx, &grace, "Rotator");
    let (status, confirm) = get_html(&grace, &fx.srv.url(&format!("/developers/{id}/rotate")));
    assert_eq!(status, 200);
    assert!(confirm.contains("Rotate secret") && confirm.contains("stops working"));
    let token = input_value(&confirm, "csrf").expect("csrf");

    // Without the session's token: 403, nothing rotated.
    let r = grace
        .post(fx.srv.url(&format!("/developers/{id}/rotate")))
        .form(&[("csrf", "forged")])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403);
    assert_eq!(introspect_status(&fx, &client_id, &old), 200);

    let r = grace
        .post(fx.srv.url(&format!("/developers/{id}/rotate")))
        .form(&[("csrf", token.as_str())])
        .send()
        .expect("post");
    // Post/Redirect/Get: the new secret is shown on the page redirected to.
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("/developers/{id}"));
    let (status, page) = follow(&fx.srv, &grace, r);
    assert_eq!(status, 200);
    let new = field_by_id(&page, "client-secret").expect("new secret shown");
    assert_ne!(new, old);
    assert!(page.contains("the old secret no longer works"));
    assert_eq!(
        introspect_status(&fx, &client_id, &old),
        401,
        "old secret dead at once"
    );
    assert_eq!(introspect_status(&fx, &client_id, &new), 200);
    assert!(audit_actions(&fx).iter().any(|a| a == "secret.rotated"));
    // A public client has no secret to rotate.
    let (status, page) = create(
        &fx,
        &grace,
        &[
            ("name", "Native"),
            ("kind", "public"),
            ("redirect_uris", "http://127.0.0.1/cb"),
            ("public_client", "on"),
        ],
    );
    assert_eq!(status, 200);
    assert!(field_by_id(&page, "client-secret").is_none(), "no secret");
    let native = integration_id_of(&page);
    assert_eq!(
        get_html(&grace, &fx.srv.url(&format!("/developers/{native}/rotate"))).0,
        400
    );
}

#[test]
fn redirect_uris_are_edited_and_checked_s9() {
    let fx = fixture();
    let grace = logged_in(&fx.srv, "grace@example.com");
    let (id, _, _) = create_public(&fx, &grace, "Editor");
    let token = csrf(&fx, &grace);
    let post = |uris: &str| {
        grace
            .post(fx.srv.url(&format!("/developers/{id}/redirect-uris")))
            .form(&[("csrf", token.as_str()), ("redirect_uris", uris)])
            .send()
            .expect("post")
    };
    let iid = IntegrationId::parse(&id).expect("id");
    let uris = || {
        pagegrant::db::queries::integrations::redirect_uris(&mut fx.srv.conn(), &iid).expect("q")
    };
    let r = post("https://builder.example/one\nhttp://evil.example/cb");
    assert_eq!(r.status(), 400);
    let page = r.text().expect("body");
    assert!(page.contains("https") && page.contains("http://evil.example/cb"));
    assert_eq!(uris(), vec![CALLBACK.to_string()], "nothing changed");
    assert_eq!(post("  \n ").status(), 400, "at least one");
    let r = post(
        "https://builder.example/one\r\nhttp://127.0.0.1:7000/cb\nhttps://builder.example/one",
    );
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("/developers/{id}"),
        "no flag in the address"
    );
    assert_eq!(
        uris(),
        vec![
            "http://127.0.0.1:7000/cb".to_string(),
            "https://builder.example/one".to_string()
        ]
    );
    let (_, page) = get_html(&grace, &fx.srv.url(&format!("/developers/{id}")));
    assert!(page.contains("Saved the redirect URIs"));
    let (_, again) = get_html(&grace, &fx.srv.url(&format!("/developers/{id}")));
    assert!(
        !again.contains("Saved the redirect URIs"),
        "once, not on reload"
    );
    assert!(audit_actions(&fx)
        .iter()
        .any(|a| a == "redirect_uris.changed"));
}

#[test]
fn only_the_creator_manages_an_integration_s52() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (id, client_id, secret) = create_public(&fx, &ada, "Ada's App");
    let grace = logged_in(&fx.srv, "grace@example.com");
    let grace_csrf = csrf(&fx, &grace);
    assert_eq!(
        get_html(&grace, &fx.srv.url(&format!("/developers/{id}"))).0,
        404
    );
    assert_eq!(
        get_html(&grace, &fx.srv.url(&format!("/developers/{id}/rotate"))).0,
        404
    );
    let (_, list) = get_html(&grace, &fx.srv.url("/developers"));
    assert!(!list.contains(&id), "not in her list");
    // Crafted with her own session and token: 404, nothing changes.
    for (path, form) in [
        ("rotate", vec![("csrf", grace_csrf.as_str())]),
        (
            "redirect-uris",
            vec![
                ("csrf", grace_csrf.as_str()),
                ("redirect_uris", "https://grace.example/cb"),
            ],
        ),
        ("token", vec![("csrf", grace_csrf.as_str())]),
    ] {
        let r = grace
            .post(fx.srv.url(&format!("/developers/{id}/{path}")))
            .form(&form)
            .send()
            .expect("post");
        assert_eq!(r.status(), 404, "{path}");
    }
    assert_eq!(
        introspect_status(&fx, &client_id, &secret),
        200,
        "secret unchanged"
    );
    let iid = IntegrationId::parse(&id).expect("id");
    assert_eq!(
        pagegrant::db::queries::integrations::redirect_uris(&mut fx.srv.conn(), &iid).expect("q"),
        vec![CALLBACK.to_string()]
    );
    // Integrations made elsewhere (CLI, no creator) are nobody's here.
    let other = fx.conf.integration.id.to_string();
    assert_eq!(
        get_html(&ada, &fx.srv.url(&format!("/developers/{other}"))).0,
        404
    );
    assert_eq!(get_html(&ada, &fx.srv.url("/developers/not-an-id")).0, 404);
    // Logged out: to the login page.
    let r = bare_client()
        .get(fx.srv.url("/developers"))
        .send()
        .expect("get");
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"));
}

#[test]
fn internal_integrations_follow_the_install_policy_and_tokens_are_audited() {
    let fx = fixture();
    let grace = logged_in(&fx.srv, "grace@example.com");
    let acme = fx.acme.id.to_string();
    let (status, page) = create(
        &fx,
        &grace,
        &[
            ("name", "Grace Bot"),
            ("kind", "internal"),
            ("workspace_id", &acme),
        ],
    );
    assert_eq!(status, 200, "{page}");
    let token = field_by_id(&page, "token").expect("the token, at creation");
    assert!(token.starts_with("ntn_"));
    let me = bare_client()
        .get(fx.srv.url("/v1/users/me"))
        .bearer_auth(&token)
        .send()
        .expect("me");
    assert_eq!(me.status(), 200);
    let id = integration_id_of(&page);
    assert!(
        !page.contains("Rotate secret"),
        "internal ones have no secret"
    );

    // Copy internal integration token, again, audited in the workspace.
    let before = audit_actions(&fx)
        .iter()
        .filter(|a| *a == "token.retrieved")
        .count();
    let (_, detail) = get_html(&grace, &fx.srv.url(&format!("/developers/{id}")));
    assert!(detail.contains("Copy internal integration token"));
    assert!(!detail.contains(&token));
    let r = grace
        .post(fx.srv.url(&format!("/developers/{id}/token")))
        .form(&[("csrf", csrf(&fx, &grace).as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 200);
    assert_eq!(
        field_by_id(&r.text().expect("body"), "token").as_deref(),
        Some(token.as_str())
    );
    let after = audit_actions(&fx)
        .iter()
        .filter(|a| *a == "token.retrieved")
        .count();
    assert_eq!(after, before + 1);

    // A workspace she does not belong to: refused.
    let (status, _) = create(
        &fx,
        &grace,
        &[
            ("name", "Sneaky"),
            ("kind", "internal"),
            ("workspace_id", fx.notebook.id.as_str()),
        ],
    );
    assert_eq!(status, 400);

    // Only from approved list: members may not create one; owners may.
    pagegrant::db::queries::workspaces::set_install_policy(
        &mut fx.srv.conn(),
        &fx.acme.id,
        pagegrant::db::models::InstallPolicy::ApprovedOnly,
        false,
    )
    .expect("policy");
    let n = fx.srv.count("integrations");
    let (status, page) = create(
        &fx,
        &grace,
        &[
            ("name", "Blocked Bot"),
            ("kind", "internal"),
            ("workspace_id", &acme),
        ],
    );
    assert_eq!(status, 403);
    assert!(page.contains("approved list"), "says why");
    assert_eq!(fx.srv.count("integrations"), n);
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (status, _) = create(
        &fx,
        &ada,
        &[
            ("name", "Owner Bot"),
            ("kind", "internal"),
            ("workspace_id", &acme),
        ],
    );
    assert_eq!(status, 200);

    // Disconnected by an owner: the creator is told, not shown a dead token.
    let conn_id = pagegrant::db::queries::connections::for_integration(
        &mut fx.srv.conn(),
        &IntegrationId::parse(&id).expect("id"),
    )
    .expect("q")[0]
        .id
        .to_string();
    let ada_csrf = csrf(&fx, &ada);
    let r = ada
        .post(fx.srv.url(&format!(
            "/w/{acme}/settings/connections/{conn_id}/disconnect"
        )))
        .form(&[("csrf", ada_csrf.as_str())])
        .send()
        .expect("disconnect");
    assert_eq!(r.status(), 303);
    let r = grace
        .post(fx.srv.url(&format!("/developers/{id}/token")))
        .form(&[("csrf", csrf(&fx, &grace).as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403);
    assert!(r.text().expect("body").contains("disconnected"));
}

fn active_connections(fx: &Fx) -> i64 {
    use diesel::prelude::*;
    use pagegrant::db::schema::connections;
    connections::table
        .filter(connections::status.eq("active"))
        .count()
        .get_result(&mut fx.srv.conn())
        .expect("count")
}

fn settings_page(fx: &Fx, c: &Client) -> String {
    let (status, page) = get_html(
        c,
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    assert_eq!(status, 200);
    page
}

#[test]
fn add_connection_starts_consent_with_the_workspace_preselected() {
    let fx = fixture();
    let grace = logged_in(&fx.srv, "grace@example.com");
    let page = settings_page(&fx, &grace);
    assert!(page.contains("+ Add connection"));
    assert!(
        !page.contains("Create internal integration"),
        "members cannot create one here"
    );
    // The partner's entry starts the consent flow for Acme.
    let hrefs = attrs(&page, r#"[href^="/v1/oauth/authorize?client_id="]"#, "href");
    let partner = hrefs
        .iter()
        .find(|h| h.contains(&fx.conf.integration.client_id))
        .expect("Partner listed");
    assert!(partner.contains(&format!("workspace_id={}", fx.acme.id)));
    let r = grace.get(fx.srv.url(partner)).send().expect("consent");
    assert_eq!(r.status(), 200);
    let consent = r.text().expect("body");
    assert!(consent.contains("Allow access"));
    assert!(consent.contains("Acme Corp"), "Acme pre-selected");
    // A public client needs its own PKCE: it points at the developer's site.
    assert!(
        !hrefs
            .iter()
            .any(|h| h.contains(&fx.public.integration.client_id)),
        "no flow it could not finish"
    );
    assert!(page.contains("Mobile"));

    // Only from approved list: the member sees why, with no link.
    pagegrant::db::queries::workspaces::set_install_policy(
        &mut fx.srv.conn(),
        &fx.acme.id,
        pagegrant::db::models::InstallPolicy::ApprovedOnly,
        false,
    )
    .expect("policy");
    let page = settings_page(&fx, &grace);
    assert!(!page.contains(&format!("client_id={}", fx.conf.integration.client_id)));
    assert!(
        page.contains("Not on this workspace&#39;s approved list")
            || page.contains("approved list")
    );
    // Owners may always install.
    let ada = logged_in(&fx.srv, "ada@example.com");
    let page = settings_page(&fx, &ada);
    assert!(page.contains(&format!("client_id={}", fx.conf.integration.client_id)));
}

#[test]
fn owners_create_internal_integrations_from_add_connection_s52() {
    let fx = fixture();
    let url = fx
        .srv
        .url(&format!("/w/{}/settings/connections/internal", fx.acme.id));
    let n = fx.srv.count("integrations");
    let grace = logged_in(&fx.srv, "grace@example.com");
    let g_csrf = csrf(&fx, &grace);
    let r = grace
        .post(&url)
        .form(&[("csrf", g_csrf.as_str()), ("name", "Member Bot")])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403, "members cannot, even crafted");
    fx.srv.user("nina@example.com", "Nina");
    let outsider = logged_in(&fx.srv, "nina@example.com");
    let o_csrf = csrf(&fx, &outsider);
    let r = outsider
        .post(&url)
        .form(&[("csrf", o_csrf.as_str()), ("name", "Outsider Bot")])
        .send()
        .expect("post");
    assert_eq!(r.status(), 404, "non-members");
    let ada = logged_in(&fx.srv, "ada@example.com");
    let r = ada
        .post(&url)
        .form(&[("name", "No Token Bot")])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403, "no CSRF token");
    assert_eq!(fx.srv.count("integrations"), n, "nothing created");

    let a_csrf = csrf(&fx, &ada);
    let r = ada
        .post(&url)
        .form(&[("csrf", a_csrf.as_str()), ("name", "")])
        .send()
        .expect("post");
    assert_eq!(r.status(), 400, "a name is needed");
    let r = ada
        .post(&url)
        .form(&[("csrf", a_csrf.as_str()), ("name", "Reports Bot")])
        .send()
        .expect("post");
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(
        !to.contains('?'),
        "a one-time note, no flag in the address: {to}"
    );
    let (_, page) = get_html(&ada, &fx.srv.url(&to));
    assert!(page.contains("Created Reports Bot"));
    let (_, again) = get_html(&ada, &fx.srv.url(&to));
    assert!(
        !again.contains("Created Reports Bot"),
        "once, not on reload"
    );
    assert!(page.contains("Copy internal integration token"));
    assert_eq!(fx.srv.count("integrations"), n + 1);
    // It is Ada's, under My integrations.
    let (_, mine) = get_html(&ada, &fx.srv.url("/developers"));
    assert!(mine.contains("Reports Bot"));
}

#[test]
fn enterprise_actions_flash_and_disconnect_all_asks_first_s52() {
    let fx = fixture();
    crate::kit::connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let ws = fx.acme.id.to_string();
    let conf = fx.conf.integration.id.to_string();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let a_csrf = csrf(&fx, &ada);
    let post = |c: &Client, form: &[(&str, &str)]| {
        c.post(fx.srv.url(&format!("/w/{ws}/settings/enterprise")))
            .form(form)
            .send()
            .expect("post")
    };
    let r = post(
        &ada,
        &[
            ("csrf", &a_csrf),
            ("action", "approve"),
            ("integration_id", &conf),
        ],
    );
    assert_eq!(r.status(), 303);
    let (_, page) = get_html(&ada, &fx.srv.url(&location(&r)));
    assert!(
        page.contains("Approved Partner &#60;b&#62;App&#60;/b&#62;")
            || page.contains("Approved Partner &lt;b&gt;")
    );
    let r = post(
        &ada,
        &[
            ("csrf", &a_csrf),
            ("action", "policy"),
            ("policy", "approved_only"),
        ],
    );
    let (_, page) = get_html(&ada, &fx.srv.url(&location(&r)));
    assert!(page.contains("Saved who may install connections"));

    let confirm = fx.srv.url(&format!(
        "/w/{ws}/settings/enterprise/disconnect-all?integration_id={conf}"
    ));
    let grace = logged_in(&fx.srv, "grace@example.com");
    assert_eq!(get_html(&grace, &confirm).0, 403, "members: not allowed");
    let (status, page) = get_html(&ada, &confirm);
    assert_eq!(status, 200);
    assert!(page.contains("Disconnect all users") && page.contains("Grace"));
    assert_eq!(active_connections(&fx), 1);
    let r = post(
        &ada,
        &[
            ("csrf", &a_csrf),
            ("action", "disconnect_all"),
            ("integration_id", &conf),
        ],
    );
    let (_, page) = get_html(&ada, &fx.srv.url(&location(&r)));
    assert!(page.contains("for all users"));
    assert_eq!(active_connections(&fx), 0);
}

/// Post/Redirect/Get (issue 16): Create and Rotate secret answer 303; the
/// page redirected to shows the secret once, and reloading it neither
/// creates, rotates, nor shows the secret again.
#[test]
fn create_and_rotate_are_post_redirect_get_and_the_secret_shows_once() {
    let fx = fixture();
    let grace = logged_in(&fx.srv, "grace@example.com");
    let token = csrf(&fx, &grace);
    let before = fx.srv.count("integrations");
    let r = grace
        .post(fx.srv.url("/developers"))
        .form(&[
            ("csrf", token.as_str()),
            ("name", "Once"),
            ("kind", "public"),
            ("redirect_uris", CALLBACK),
            ("capability", "read_content"),
            ("capability", ""),
        ])
        .send()
        .expect("post");
    assert_eq!(r.status(), 303);
    let page_url = location(&r);
    assert!(page_url.starts_with("/developers/"), "{page_url}");
    // The secret travels sealed, never in clear or in the address.
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .find(|v| v.starts_with("pg_once="))
        .expect("one-time cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(cookie.contains("Path=/developers"));
    let (status, page) = get_html(&grace, &fx.srv.url(&page_url));
    assert_eq!(status, 200);
    assert!(page.contains("Created Once"));
    let secret = field_by_id(&page, "client-secret").expect("shown once");
    assert!(!cookie.contains(&secret));
    let client_id = field_by_id(&page, "client-id").expect("client id");
    assert_eq!(introspect_status(&fx, &client_id, &secret), 200);
    // "none" for user information: only what was ticked.
    let i = pagegrant::db::queries::integrations::by_client_id(&mut fx.srv.conn(), &client_id)
        .expect("q")
        .expect("row");
    assert_eq!(i.capabilities, "read_content");
    // Reload: no second integration, no secret.
    let (status, again) = get_html(&grace, &fx.srv.url(&page_url));
    assert_eq!(status, 200);
    assert!(field_by_id(&again, "client-secret").is_none());
    assert!(!again.contains(&secret) && !again.contains("Created Once"));
    assert_eq!(fx.srv.count("integrations"), before + 1);
    // The sealed cookie replayed by another session shows nothing.
    let value = cookie
        .split(';')
        .next()
        .expect("pair")
        .trim_start_matches("pg_once=")
        .to_string();
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let other = Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    assert_eq!(
        login(&fx.srv, &other, "grace@example.com", PASSWORD, None).status(),
        303
    );
    let base: reqwest::Url = fx.srv.url("/").parse().expect("url");
    jar.add_cookie_str(&format!("pg_once={value}; Path=/developers"), &base);
    let (status, elsewhere) = get_html(&other, &fx.srv.url(&page_url));
    assert_eq!(status, 200);
    assert!(
        !elsewhere.contains(&secret),
        "bound to the session it was made in"
    );

    // Rotate secret: 303; the new secret once; a reload rotates nothing.
    let id = page_url.trim_start_matches("/developers/").to_string();
    let r = grace
        .post(fx.srv.url(&format!("/developers/{id}/rotate")))
        .form(&[("csrf", token.as_str())])
        .send()
        .expect("rotate");
    assert_eq!(r.status(), 303);
    let (_, rotated) = follow(&fx.srv, &grace, r);
    let new = field_by_id(&rotated, "client-secret").expect("new secret");
    assert_ne!(new, secret);
    let (_, again) = get_html(&grace, &fx.srv.url(&page_url));
    assert!(field_by_id(&again, "client-secret").is_none());
    assert_eq!(
        introspect_status(&fx, &client_id, &new),
        200,
        "still the one shown"
    );
    let rotations = audit_actions(&fx)
        .iter()
        .filter(|a| *a == "secret.rotated")
        .count();
    assert_eq!(rotations, 1);
}

#[test]
fn create_form_has_user_information_radios_and_marks_fields_by_type() {
    let fx = fixture();
    let grace = logged_in(&fx.srv, "grace@example.com");
    let (_, page) = get_html(&grace, &fx.srv.url("/developers"));
    for value in ["read_user_with_email", "read_user_without_email"] {
        assert!(has(
            &page,
            &format!(r#"input[type="radio"][name="capability"][value="{value}"]"#)
        ));
    }
    assert!(page.contains("No user information"));
    assert!(page.contains("data-kind=\"internal\"") && page.contains("data-kind=\"public\""));
    // Everything unticked: asked again, next to the capabilities.
    let (status, page) = create(
        &fx,
        &grace,
        &[
            ("name", "Nothing"),
            ("kind", "public"),
            ("redirect_uris", CALLBACK),
            ("capability", ""),
        ],
    );
    assert_eq!(status, 400);
    assert!(page.contains("id=\"int-capability-error\">Choose at least one capability."));
}

#[test]
fn delete_integration_asks_first_ends_its_connections_and_is_audited() {
    let fx = fixture();
    let grace = logged_in(&fx.srv, "grace@example.com");
    let acme = fx.acme.id.to_string();
    let (status, page) = create(
        &fx,
        &grace,
        &[
            ("name", "Doomed Bot"),
            ("kind", "internal"),
            ("workspace_id", &acme),
        ],
    );
    assert_eq!(status, 200, "{page}");
    let token = field_by_id(&page, "token").expect("token at creation");
    let id = integration_id_of(&page);
    let me = |t: &str| {
        bare_client()
            .get(fx.srv.url("/v1/users/me"))
            .bearer_auth(t)
            .send()
            .expect("me")
            .status()
            .as_u16()
    };
    assert_eq!(me(&token), 200);
    assert!(page.contains("Delete integration"));

    let confirm_url = fx.srv.url(&format!("/developers/{id}/delete"));
    let (status, confirm) = get_html(&grace, &confirm_url);
    assert_eq!(status, 200);
    assert!(confirm.contains("Delete Doomed Bot?") && confirm.contains("Acme Corp: 1 connection"));
    // Someone else: 404 on both; without the token: 403; nothing deleted.
    let ada = logged_in(&fx.srv, "ada@example.com");
    assert_eq!(get_html(&ada, &confirm_url).0, 404);
    let r = ada
        .post(&confirm_url)
        .form(&[("csrf", csrf(&fx, &ada).as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 404);
    let r = grace
        .post(&confirm_url)
        .form(&[("csrf", "forged")])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403);
    assert_eq!(me(&token), 200);

    let r = grace
        .post(&confirm_url)
        .form(&[("csrf", csrf(&fx, &grace).as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/developers");
    let (_, list) = follow(&fx.srv, &grace, r);
    assert!(list.contains("Deleted Doomed Bot; its connections have ended"));
    assert!(!list.contains(&format!("/developers/{id}\"")));
    assert_eq!(me(&token), 401, "its token stops at once");
    assert_eq!(
        get_html(&grace, &fx.srv.url(&format!("/developers/{id}"))).0,
        404
    );
    let actions = audit_actions(&fx);
    assert!(actions.iter().any(|a| a == "integration.deleted"));
    assert!(actions.iter().any(|a| a == "connection.disconnected"));
    // A reload of the list says nothing more.
    let (_, list) = get_html(&grace, &fx.srv.url("/developers"));
    assert!(!list.contains("Deleted Doomed Bot"));
}
