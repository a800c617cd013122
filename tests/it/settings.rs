//! Settings & members → Connections / My connections, Disconnect, the audit
//! log: every role on every action, including crafted replays (S52).

use crate::kit::*;
use pagegrant::db::models::Role;
use reqwest::blocking::Client;

struct Setup {
    fx: Fx,
    grace_token: String,
    ada_token: String,
    grace_conn: String,
}

fn setup() -> Setup {
    let fx = fixture();
    let hal = fx.srv.user("hal@example.com", "Hal");
    fx.srv.member(&fx.acme, &hal, Role::Member);
    fx.srv.user("nina@example.com", "Nina");
    let g = connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let a = connect(&fx, "ada@example.com", fx.acme.id.as_str(), &[&fx.roadmap]);
    let grace_conn = pagegrant::db::queries::connections::find_installed(
        &mut fx.srv.conn(),
        &fx.conf.integration.id,
        &fx.acme.id,
        &fx.grace.id,
    )
    .expect("q")
    .expect("conn")
    .id
    .to_string();
    Setup {
        grace_token: g["access_token"].as_str().expect("at").into(),
        ada_token: a["access_token"].as_str().expect("at").into(),
        grace_conn,
        fx,
    }
}

fn settings(s: &Setup, c: &Client, query: &str) -> (u16, String) {
    get_html(
        c,
        &s.fx
            .srv
            .url(&format!("/w/{}/settings/connections{query}", s.fx.acme.id)),
    )
}

fn disconnect_url(s: &Setup, conn: &str) -> String {
    s.fx.srv.url(&format!(
        "/w/{}/settings/connections/{conn}/disconnect",
        s.fx.acme.id
    ))
}

/// The CSRF token of `c`'s own session, from any of its pages.
#[test]
fn owners_see_every_connection_members_only_theirs() {
    let s = setup();
    let ada = logged_in(&s.fx.srv, "ada@example.com");
    let (status, page) = settings(&s, &ada, "");
    assert_eq!(status, 200);
    assert!(page.contains(">Connections</a>") && page.contains(">My connections</a>"));
    assert_eq!(
        page.matches("class=\"conn-name\"").count(),
        2,
        "both connections"
    );
    assert!(page.contains("Grace") && page.contains("Date added"));
    let (_, mine) = settings(&s, &ada, "?tab=mine");
    assert_eq!(mine.matches("class=\"conn-name\"").count(), 1);
    let grace = logged_in(&s.fx.srv, "grace@example.com");
    for q in ["", "?tab=all", "?tab=mine"] {
        let (status, page) = settings(&s, &grace, q);
        assert_eq!(status, 200);
        assert!(
            !page.contains(">Connections</a>"),
            "members have My connections only"
        );
        assert_eq!(
            page.matches("class=\"conn-name\"").count(),
            1,
            "{q}: only her own"
        );
    }
    // The sidebar leads there.
    let (_, home) = get_html(&grace, &s.fx.srv.url(&format!("/w/{}", s.fx.acme.id)));
    assert!(
        home.contains(">Settings &#38;amp; members<") || home.contains(">Settings &amp; members<")
    );
    // Non-members: 404.
    let nina = logged_in(&s.fx.srv, "nina@example.com");
    assert_eq!(settings(&s, &nina, "").0, 404);
}

#[test]
fn owner_disconnects_a_members_connection_and_its_tokens_die_s52() {
    let s = setup();
    let ada = logged_in(&s.fx.srv, "ada@example.com");
    assert_eq!(me_status(&s.fx, &s.grace_token), 200);
    let (status, confirm) = get_html(&ada, &disconnect_url(&s, &s.grace_conn));
    assert_eq!(status, 200, "a confirmation step first");
    assert!(confirm.contains("Disconnect Partner"));
    assert_eq!(me_status(&s.fx, &s.grace_token), 200, "GET changes nothing");
    let csrf = input_value(&confirm, "csrf").expect("csrf");
    assert_eq!(
        ada.post(disconnect_url(&s, &s.grace_conn))
            .send()
            .expect("post")
            .status(),
        403,
        "no CSRF token"
    );
    let r = ada
        .post(disconnect_url(&s, &s.grace_conn))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 303);
    let (_, page) = get_html(&ada, &s.fx.srv.url(&location(&r)));
    assert!(page.contains("Disconnected Partner"), "flash message");
    assert_eq!(page.matches("class=\"conn-name\"").count(), 1);
    assert_eq!(
        me_status(&s.fx, &s.grace_token),
        401,
        "its token is dead at once"
    );
    assert_eq!(
        me_status(&s.fx, &s.ada_token),
        200,
        "the other connection lives"
    );
    let (status, audit) = get_html(
        &ada,
        &s.fx.srv.url(&format!("/w/{}/settings/audit", s.fx.acme.id)),
    );
    assert_eq!(status, 200);
    assert!(audit.contains("connection.disconnected") && audit.contains("connection.granted"));
}

#[test]
fn members_manage_only_their_own_even_by_crafting_requests_s52() {
    let s = setup();
    let hal = logged_in(&s.fx.srv, "hal@example.com");
    let hal_csrf = csrf_of(&s.fx, &hal);
    assert_eq!(get_html(&hal, &disconnect_url(&s, &s.grace_conn)).0, 403);
    let r = hal
        .post(disconnect_url(&s, &s.grace_conn))
        .form(&[("csrf", hal_csrf.as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403, "another member's connection");
    let ada_conn = pagegrant::db::queries::connections::find_installed(
        &mut s.fx.srv.conn(),
        &s.fx.conf.integration.id,
        &s.fx.acme.id,
        &s.fx.ada.id,
    )
    .expect("q")
    .expect("c")
    .id
    .to_string();
    let r = hal
        .post(disconnect_url(&s, &ada_conn))
        .form(&[("csrf", hal_csrf.as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403, "the owner's connection");
    assert_eq!(me_status(&s.fx, &s.grace_token), 200, "nothing changed");
    assert_eq!(me_status(&s.fx, &s.ada_token), 200);
    // Members cannot read the audit log.
    assert_eq!(
        get_html(
            &hal,
            &s.fx.srv.url(&format!("/w/{}/settings/audit", s.fx.acme.id))
        )
        .0,
        403
    );
    // A non-member gets 404; an id under another workspace is 404.
    let nina = logged_in(&s.fx.srv, "nina@example.com");
    assert_eq!(get_html(&nina, &disconnect_url(&s, &s.grace_conn)).0, 404);
    let ada = logged_in(&s.fx.srv, "ada@example.com");
    let wrong_ws = s.fx.srv.url(&format!(
        "/w/{}/settings/connections/{}/disconnect",
        s.fx.notebook.id, s.grace_conn
    ));
    assert_eq!(get_html(&ada, &wrong_ws).0, 404);
    // The installing member may disconnect her own.
    let grace = logged_in(&s.fx.srv, "grace@example.com");
    let csrf = csrf_of(&s.fx, &grace);
    let r = grace
        .post(disconnect_url(&s, &s.grace_conn))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 303);
    assert_eq!(me_status(&s.fx, &s.grace_token), 401);
}

#[test]
fn owners_retrieve_internal_tokens_again_each_time_audited() {
    let s = setup();
    let created = pagegrant::domain::integrations::register(
        &mut s.fx.srv.conn(),
        &s.fx.srv.sbox,
        pagegrant::domain::integrations::NewIntegration {
            name: "Reports".into(),
            kind: Some(pagegrant::db::models::IntegrationKind::Internal),
            workspace: Some(s.fx.acme.clone()),
            created_by: Some(s.fx.ada.clone()),
            ..Default::default()
        },
    )
    .expect("internal");
    let cid = created.connection_id.clone().expect("c").to_string();
    let url = s.fx.srv.url(&format!(
        "/w/{}/settings/connections/{cid}/token",
        s.fx.acme.id
    ));
    let ada = logged_in(&s.fx.srv, "ada@example.com");
    let (_, list) = settings(&s, &ada, "");
    assert!(list.contains("Copy internal integration token"));
    let (status, page) = get_html(&ada, &url);
    assert_eq!(status, 200);
    assert!(!page.contains("ntn_"), "GET reveals nothing");
    let csrf = input_value(&page, "csrf").expect("csrf");
    assert_eq!(
        ada.post(&url).send().expect("post").status(),
        403,
        "no CSRF token"
    );
    for _ in 0..2 {
        let r = ada
            .post(&url)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .expect("post");
        assert_eq!(r.status(), 200);
        let body = r.text().expect("body");
        let shown = attr(&body, r#"[value^="ntn_"]"#, "value").expect("token shown");
        assert_eq!(
            shown,
            created.internal_token.as_deref().expect("t"),
            "the same token each time"
        );
        assert_eq!(me_status(&s.fx, &shown), 200);
    }
    let events = pagegrant::db::queries::audit::for_workspace(&mut s.fx.srv.conn(), &s.fx.acme.id)
        .expect("audit");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "token.retrieved")
            .count(),
        2,
        "each retrieval audited"
    );
    // Members cannot, even crafting the POST with their own token.
    let grace = logged_in(&s.fx.srv, "grace@example.com");
    let gcsrf = csrf_of(&s.fx, &grace);
    assert_eq!(get_html(&grace, &url).0, 403);
    let r = grace
        .post(&url)
        .form(&[("csrf", gcsrf.as_str())])
        .send()
        .expect("post");
    assert_eq!(r.status(), 403);
    assert!(!r.text().expect("body").contains("ntn_"));
}

#[test]
fn view_users_with_access_lists_installers_and_their_pages() {
    let s = setup();
    let ada = logged_in(&s.fx.srv, "ada@example.com");
    let url = s.fx.srv.url(&format!(
        "/w/{}/settings/connections/{}/users",
        s.fx.acme.id, s.grace_conn
    ));
    let (status, page) = get_html(&ada, &url);
    assert_eq!(status, 200);
    assert!(
        page.contains("<td>Grace</td>") && page.contains("<td>Ada</td>"),
        "both installers of the integration"
    );
    assert!(page.contains("Engineering") && page.contains("Roadmap"));
    let grace = logged_in(&s.fx.srv, "grace@example.com");
    let (status, page) = get_html(&grace, &url);
    assert_eq!(status, 200);
    assert!(
        page.contains("<td>Grace</td>") && !page.contains("<td>Ada</td>"),
        "members see their own only"
    );
    let hal = logged_in(&s.fx.srv, "hal@example.com");
    assert_eq!(get_html(&hal, &url).0, 403);
}

fn page_url(s: &Setup, page: &pagegrant::db::models::Page) -> String {
    s.fx.srv.url(&format!("/w/{}/p/{}", s.fx.acme.id, page.id))
}

fn api_page_status(s: &Setup, token: &str, page: &pagegrant::db::models::Page) -> u16 {
    bare_client()
        .get(s.fx.srv.url(&format!("/v1/pages/{}", page.id)))
        .bearer_auth(token)
        .send()
        .expect("get")
        .status()
        .as_u16()
}

#[test]
fn page_menu_lists_direct_and_inherited_connections() {
    let s = setup();
    let ada = logged_in(&s.fx.srv, "ada@example.com");
    let (_, page) = get_html(&ada, &page_url(&s, &s.fx.roadmap));
    let menu = &page[page
        .find("class=\"switcher page-menu\"")
        .expect("page menu")..];
    let menu = &menu[..menu.find("</details>").expect("end")];
    assert!(menu.contains(">Add connections<") && menu.contains("Search connections"));
    // Grace's connection has Engineering: via the ancestor, with a link to it.
    assert!(
        menu.contains(&format!(
            "href=\"/w/{}/p/{}\">via Engineering</a>",
            s.fx.acme.id, s.fx.eng.id
        )),
        "{menu}"
    );
    // Ada's was given Roadmap itself: Disconnect.
    // (A link to the confirmation page since issue 16.)
    assert!(menu.contains(">Disconnect</a>"));
    // A member sees the connections but may disconnect only her own.
    let hal = logged_in(&s.fx.srv, "hal@example.com");
    let (_, page) = get_html(&hal, &page_url(&s, &s.fx.roadmap));
    let menu = &page[page
        .find("class=\"switcher page-menu\"")
        .expect("page menu")..];
    assert!(!menu[..menu.find("</details>").expect("end")].contains(">Disconnect</a>"));
}

#[test]
fn page_menu_add_and_disconnect_follow_roles_s52() {
    let s = setup();
    let grace_conn = s.grace_conn.clone();
    let grace = logged_in(&s.fx.srv, "grace@example.com");
    let csrf = csrf_of(&s.fx, &grace);
    let add = |c: &Client, page: &pagegrant::db::models::Page, csrf: &str, conn: &str| {
        c.post(format!("{}/connections/add", page_url(&s, page)))
            .form(&[("csrf", csrf), ("connection_id", conn)])
            .send()
            .expect("post")
    };
    let remove = |c: &Client, page: &pagegrant::db::models::Page, csrf: &str, conn: &str| {
        c.post(format!("{}/connections/remove", page_url(&s, page)))
            .form(&[("csrf", csrf), ("connection_id", conn)])
            .send()
            .expect("post")
    };
    // Grace adds her connection to her private page: the API sees it at once.
    assert_eq!(
        api_page_status(&s, &s.grace_token, &s.fx.grace_private),
        404
    );
    assert_eq!(
        add(&grace, &s.fx.grace_private, "", &grace_conn).status(),
        403,
        "no CSRF token"
    );
    assert_eq!(
        add(&grace, &s.fx.grace_private, &csrf, &grace_conn).status(),
        303
    );
    assert_eq!(
        api_page_status(&s, &s.grace_token, &s.fx.grace_private),
        200
    );
    // Another member cannot add or remove it, even by crafting requests.
    let hal = logged_in(&s.fx.srv, "hal@example.com");
    let hcsrf = csrf_of(&s.fx, &hal);
    assert_eq!(add(&hal, &s.fx.roadmap, &hcsrf, &grace_conn).status(), 403);
    assert_eq!(remove(&hal, &s.fx.eng, &hcsrf, &grace_conn).status(), 403);
    assert_eq!(
        api_page_status(&s, &s.grace_token, &s.fx.eng),
        200,
        "nothing changed"
    );
    // Nobody shares a page they cannot see: Ada's private page is 404 for Grace.
    assert_eq!(
        add(&grace, &s.fx.ada_private, &csrf, &grace_conn).status(),
        404
    );
    // The owner cannot give a member's connection the owner's private page.
    let ada = logged_in(&s.fx.srv, "ada@example.com");
    let acsrf = csrf_of(&s.fx, &ada);
    assert_eq!(
        add(&ada, &s.fx.ada_private, &acsrf, &grace_conn).status(),
        400
    );
    // Grace disconnects Engineering: its subtree disappears for her token.
    assert_eq!(remove(&grace, &s.fx.eng, &csrf, &grace_conn).status(), 303);
    assert_eq!(api_page_status(&s, &s.grace_token, &s.fx.roadmap), 404);
    let events = pagegrant::db::queries::audit::for_workspace(&mut s.fx.srv.conn(), &s.fx.acme.id)
        .expect("audit");
    assert!(events.iter().any(|e| e.action == "connection.page_removed"));
    assert!(events.iter().any(|e| e.action == "connection.page_added"));
}

fn enterprise_post(s: &Setup, c: &Client, ws: &str, form: &[(&str, &str)]) -> u16 {
    c.post(s.fx.srv.url(&format!("/w/{ws}/settings/enterprise")))
        .form(form)
        .send()
        .expect("post")
        .status()
        .as_u16()
}

fn member_consent_blocked(s: &Setup, client_id: &str) -> bool {
    let grace = logged_in(&s.fx.srv, "grace@example.com");
    let redirect = if client_id == s.fx.first.integration.client_id {
        "https://github.example/cb"
    } else {
        "https://partner.example/cb"
    };
    let page = crate::kit::consent_page(
        &s.fx,
        &grace,
        &crate::kit::base(client_id, &[("redirect_uri", redirect)]),
    );
    page.contains("approved list")
}

#[test]
fn enterprise_restriction_and_approved_list_s52() {
    let s = setup();
    let ws = s.fx.acme.id.to_string();
    let conf = s.fx.conf.integration.id.to_string();
    let ada = logged_in(&s.fx.srv, "ada@example.com");
    let csrf = csrf_of(&s.fx, &ada);
    let (_, page) = settings(&s, &ada, "");
    for label in [
        "Restrict members from installing connections",
        "No restrictions",
        "Only from approved list",
        "Auto-approve connections built by pagegrant",
        "Approved connections",
        "+ Add approved connection",
    ] {
        assert!(
            page.contains(label) || page.contains(&label.replace('&', "&#38;")),
            "{label}"
        );
    }
    // Members see none of it, and cannot act on it by crafting requests.
    let hal = logged_in(&s.fx.srv, "hal@example.com");
    let (_, hal_page) = settings(&s, &hal, "");
    assert!(!hal_page.contains("Approved connections"));
    let hcsrf = csrf_of(&s.fx, &hal);
    assert_eq!(
        enterprise_post(
            &s,
            &hal,
            &ws,
            &[
                ("csrf", &hcsrf),
                ("action", "policy"),
                ("policy", "approved_only")
            ]
        ),
        403
    );
    assert!(
        !member_consent_blocked(&s, &s.fx.conf.integration.client_id),
        "nothing changed"
    );
    // Restrict: members are blocked from unapproved integrations.
    assert_eq!(
        enterprise_post(
            &s,
            &ada,
            &ws,
            &[("action", "policy"), ("policy", "approved_only")]
        ),
        403,
        "no CSRF token"
    );
    assert_eq!(
        enterprise_post(
            &s,
            &ada,
            &ws,
            &[
                ("csrf", &csrf),
                ("action", "policy"),
                ("policy", "approved_only")
            ]
        ),
        303
    );
    assert!(member_consent_blocked(&s, &s.fx.conf.integration.client_id));
    // Only installed integrations can be approved.
    assert_eq!(
        enterprise_post(
            &s,
            &ada,
            &ws,
            &[
                ("csrf", &csrf),
                ("action", "approve"),
                ("integration_id", s.fx.multi.integration.id.as_str())
            ]
        ),
        400
    );
    assert_eq!(
        enterprise_post(
            &s,
            &ada,
            &ws,
            &[
                ("csrf", &csrf),
                ("action", "approve"),
                ("integration_id", &conf)
            ]
        ),
        303
    );
    assert!(
        !member_consent_blocked(&s, &s.fx.conf.integration.client_id),
        "approved unblocks"
    );
    let (_, page) = settings(&s, &ada, "");
    let approved = &page[page.find("Approved connections").expect("section")..];
    assert!(
        approved.contains("Grace") && approved.contains("Ada"),
        "installers listed"
    );
    // Filter by user.
    let (_, filtered) = settings(&s, &ada, &format!("?user={}", s.fx.grace.id));
    let approved = &filtered[filtered.find("Approved connections").expect("section")..];
    let row = &approved[..approved.find("</tbody>").expect("end")];
    assert!(
        row.contains("Grace") && !row.contains(">Ada<") && !row.contains(", Ada"),
        "{row}"
    );
    // Removed from the list: new member installs stop, existing connections keep working.
    assert_eq!(
        enterprise_post(
            &s,
            &ada,
            &ws,
            &[
                ("csrf", &csrf),
                ("action", "unapprove"),
                ("integration_id", &conf)
            ]
        ),
        303
    );
    assert!(member_consent_blocked(&s, &s.fx.conf.integration.client_id));
    assert_eq!(me_status(&s.fx, &s.grace_token), 200);
    // Auto-approve covers first-party integrations only.
    assert!(member_consent_blocked(
        &s,
        &s.fx.first.integration.client_id
    ));
    assert_eq!(
        enterprise_post(
            &s,
            &ada,
            &ws,
            &[
                ("csrf", &csrf),
                ("action", "policy"),
                ("policy", "approved_only"),
                ("auto_approve", "on")
            ]
        ),
        303
    );
    assert!(!member_consent_blocked(
        &s,
        &s.fx.first.integration.client_id
    ));
    assert!(member_consent_blocked(&s, &s.fx.conf.integration.client_id));
    // Disconnect all users.
    assert_eq!(
        enterprise_post(
            &s,
            &ada,
            &ws,
            &[
                ("csrf", &csrf),
                ("action", "disconnect_all"),
                ("integration_id", &conf)
            ]
        ),
        303
    );
    assert_eq!(me_status(&s.fx, &s.grace_token), 401);
    assert_eq!(me_status(&s.fx, &s.ada_token), 401);
    let events = pagegrant::db::queries::audit::for_workspace(&mut s.fx.srv.conn(), &s.fx.acme.id)
        .expect("audit");
    for action in [
        "policy.changed",
        "integration.approved",
        "integration.unapproved",
        "connection.disconnected",
    ] {
        assert!(
            events.iter().any(|e| e.action == action),
            "{action} audited"
        );
    }
    // Not on a Free workspace.
    let ncsrf = csrf;
    assert_eq!(
        enterprise_post(
            &s,
            &ada,
            s.fx.notebook.id.as_str(),
            &[
                ("csrf", &ncsrf),
                ("action", "policy"),
                ("policy", "approved_only")
            ]
        ),
        403
    );
}
