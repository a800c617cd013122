//! Issue 27 items 4 and 6 over plain HTTP: an internal integration's
//! **Access** picker (on `/developers/{id}` and Settings' **Edit access**)
//! keeps the role, CSRF and private-page rules of every other page change,
//! and the consent picker carries what its script needs at any size.

use pagegrant::db::models::{IntegrationKind, Page, Role, User};
use pagegrant::domain::integrations::{Created, NewIntegration};

use crate::kit::*;

/// Grace's internal integration "Reports" in Acme (she installed it).
fn reports(fx: &Fx) -> Created {
    pagegrant::domain::integrations::register(
        &mut fx.srv.conn(),
        &fx.srv.sbox,
        NewIntegration {
            name: "Reports".into(),
            kind: Some(IntegrationKind::Internal),
            workspace: Some(fx.acme.clone()),
            created_by: Some(fx.grace.clone()),
            ..Default::default()
        },
    )
    .expect("internal")
}

fn pages_of(fx: &Fx, made: &Created) -> Vec<String> {
    let id = made.connection_id.as_ref().expect("connection");
    let mut ids: Vec<String> =
        pagegrant::db::queries::connections::page_ids(&mut fx.srv.conn(), id)
            .expect("pages")
            .into_iter()
            .map(|p| p.to_string())
            .collect();
    ids.sort();
    ids
}

fn sorted(pages: &[&Page]) -> Vec<String> {
    let mut v: Vec<String> = pages.iter().map(|p| p.id.to_string()).collect();
    v.sort();
    v
}

fn post_pages(
    fx: &Fx,
    c: &reqwest::blocking::Client,
    path: &str,
    csrf: &str,
    pages: &[&str],
) -> reqwest::blocking::Response {
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf), ("save", "access")];
    form.extend(pages.iter().map(|p| ("page", *p)));
    c.post(fx.srv.url(path)).form(&form).send().expect("post")
}

fn third_member(fx: &Fx) -> User {
    let lin = fx.srv.user("lin@example.com", "Lin");
    fx.srv.member(&fx.acme, &lin, Role::Member);
    lin
}

#[test]
fn developer_saves_pages_from_the_integration_page_audited() {
    let fx = fixture();
    let made = reports(&fx);
    let id = made.integration.id.to_string();
    let g = logged_in(&fx.srv, "grace@example.com");
    let (status, page) = get_html(&g, &fx.srv.url(&format!("/developers/{id}")));
    assert_eq!(status, 200);
    assert!(
        page.contains(">Access<") && page.contains("Save access"),
        "{page}"
    );
    // Her own private page is offered; Ada's is not.
    let offered = attrs(&page, ".picker-list li", "data-title");
    assert!(
        offered.contains(&"Grace Scratch Quokka".to_string()),
        "{offered:?}"
    );
    assert!(
        !offered.contains(&"Ada Secret Zebra".to_string()),
        "{offered:?}"
    );
    let csrf = csrf_of(&fx, &g);
    let path = format!("/developers/{id}/access");
    let r = post_pages(
        &fx,
        &g,
        &path,
        &csrf,
        &[fx.eng.id.as_str(), fx.grace_private.id.as_str()],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(pages_of(&fx, &made), sorted(&[&fx.eng, &fx.grace_private]));
    let (_, after) = follow(&fx.srv, &g, r);
    assert!(
        after.contains("Saved the pages Reports can reach: shared 2 pages"),
        "{after}"
    );
    // Unticking stops sharing; each change is its own audit event.
    let r = post_pages(&fx, &g, &path, &csrf, &[fx.eng.id.as_str()]);
    assert_eq!(r.status(), 303);
    assert_eq!(pages_of(&fx, &made), sorted(&[&fx.eng]));
    let actions = audit_actions(&fx);
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "connection.page_added")
            .count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "connection.page_removed")
            .count(),
        1,
        "{actions:?}"
    );
}

#[test]
fn access_posts_need_the_csrf_token() {
    let fx = fixture();
    let made = reports(&fx);
    let g = logged_in(&fx.srv, "grace@example.com");
    let a = logged_in(&fx.srv, "ada@example.com");
    let dev = format!("/developers/{}/access", made.integration.id);
    let settings = format!(
        "/w/{}/settings/connections/{}/access",
        fx.acme.id,
        made.connection_id.as_ref().expect("c")
    );
    for (c, path) in [(&g, &dev), (&a, &settings)] {
        let r = post_pages(&fx, c, path, "forged", &[fx.eng.id.as_str()]);
        assert_eq!(r.status(), 403, "{path}");
    }
    assert!(pages_of(&fx, &made).is_empty());
}

#[test]
fn edit_access_is_for_owners_and_the_installer_only() {
    let fx = fixture();
    let made = reports(&fx);
    let lin = third_member(&fx);
    let path = format!(
        "/w/{}/settings/connections/{}/access",
        fx.acme.id,
        made.connection_id.as_ref().expect("c")
    );
    // The owner: the picker, and saving works.
    let a = logged_in(&fx.srv, "ada@example.com");
    let (status, page) = get_html(&a, &fx.srv.url(&path));
    assert_eq!(status, 200);
    assert!(page.contains("Edit access: Reports") && page.contains("Save access"));
    // Ada's own private page cannot reach Grace's connection: not offered.
    let offered = attrs(&page, ".picker-list li", "data-title");
    assert!(offered.contains(&"Roadmap".to_string()), "{offered:?}");
    assert!(
        !offered
            .iter()
            .any(|t| t.contains("Zebra") || t.contains("Quokka")),
        "{offered:?}"
    );
    let r = post_pages(&fx, &a, &path, &csrf_of(&fx, &a), &[fx.roadmap.id.as_str()]);
    assert_eq!(r.status(), 303);
    assert_eq!(pages_of(&fx, &made), sorted(&[&fx.roadmap]));
    // Another member: refused to see or change it.
    let l = logged_in(&fx.srv, &lin.email);
    assert_eq!(get_html(&l, &fx.srv.url(&path)).0, 403);
    let r = post_pages(&fx, &l, &path, &csrf_of(&fx, &l), &[]);
    assert_eq!(r.status(), 403);
    assert_eq!(pages_of(&fx, &made), sorted(&[&fx.roadmap]));
    // ...and another's integration page is not theirs either.
    let dev = format!("/developers/{}/access", made.integration.id);
    let r = post_pages(&fx, &l, &dev, &csrf_of(&fx, &l), &[]);
    assert!(matches!(r.status().as_u16(), 403 | 404), "{}", r.status());
    assert_eq!(pages_of(&fx, &made), sorted(&[&fx.roadmap]));
}

#[test]
fn an_owner_saving_leaves_the_installers_private_pages_alone() {
    let fx = fixture();
    let made = reports(&fx);
    let g = logged_in(&fx.srv, "grace@example.com");
    let dev = format!("/developers/{}/access", made.integration.id);
    let r = post_pages(
        &fx,
        &g,
        &dev,
        &csrf_of(&fx, &g),
        &[fx.grace_private.id.as_str()],
    );
    assert_eq!(r.status(), 303);
    let a = logged_in(&fx.srv, "ada@example.com");
    let path = format!(
        "/w/{}/settings/connections/{}/access",
        fx.acme.id,
        made.connection_id.as_ref().expect("c")
    );
    let r = post_pages(&fx, &a, &path, &csrf_of(&fx, &a), &[fx.eng.id.as_str()]);
    assert_eq!(r.status(), 303);
    assert_eq!(pages_of(&fx, &made), sorted(&[&fx.eng, &fx.grace_private]));
    // Saved is said once, by a one-time note: the address carries no flag
    // and a reload says nothing again (issue 27 item 11).
    let back = location(&r);
    assert!(!back.contains('?'), "{back}");
    let (_, page) = get_html(&a, &fx.srv.url(&back));
    assert!(page.contains("Saved the pages Reports can reach"), "{page}");
    let (_, again) = get_html(&a, &fx.srv.url(&back));
    assert!(!again.contains("Saved the pages"), "a reload says nothing");
}

#[test]
fn access_refuses_pages_it_does_not_offer_and_public_connections() {
    let fx = fixture();
    let made = reports(&fx);
    let a = logged_in(&fx.srv, "ada@example.com");
    let csrf = csrf_of(&fx, &a);
    let path = format!(
        "/w/{}/settings/connections/{}/access",
        fx.acme.id,
        made.connection_id.as_ref().expect("c")
    );
    // Another workspace's page, Ada's private page, and no id at all: a
    // clear page, nothing changed.
    for bad in [
        fx.notebook_page.id.as_str(),
        fx.ada_private.id.as_str(),
        "not-a-page",
    ] {
        let r = post_pages(&fx, &a, &path, &csrf, &[fx.eng.id.as_str(), bad]);
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.text().expect("body").contains("cannot be shared"));
    }
    assert!(pages_of(&fx, &made).is_empty());
    // A public integration's connection gets its pages from consent.
    connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let conn = pagegrant::db::queries::connections::find_installed(
        &mut fx.srv.conn(),
        &fx.conf.integration.id,
        &fx.acme.id,
        &fx.grace.id,
    )
    .expect("q")
    .expect("connection");
    let public = format!("/w/{}/settings/connections/{}/access", fx.acme.id, conn.id);
    assert_eq!(get_html(&a, &fx.srv.url(&public)).0, 400);
}

#[test]
fn settings_row_of_an_internal_integration_offers_edit_access() {
    let fx = fixture();
    let made = reports(&fx);
    let a = logged_in(&fx.srv, "ada@example.com");
    let (_, page) = get_html(
        &a,
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    let href = format!(
        "/w/{}/settings/connections/{}/access",
        fx.acme.id,
        made.connection_id.as_ref().expect("c")
    );
    assert!(
        page.contains(&href) && page.contains(">Edit access<"),
        "{page}"
    );
}

#[test]
fn consent_picker_marks_levels_and_says_what_will_be_shared() {
    let fx = fixture();
    let g = logged_in(&fx.srv, "grace@example.com");
    let page = consent_page(&fx, &g, &base(&fx.conf.integration.client_id, &[]));
    // One Allow access, in the picker's footer, beside Cancel.
    assert_eq!(page.matches(">Allow access<").count(), 1);
    assert!(has(&page, ".picker-foot button[value=allow]"));
    assert!(has(&page, ".picker-foot button[value=deny]"));
    // Select all / Select none at the top and under each parent.
    assert!(has(
        &page,
        ".picker-tools button[data-select=all][data-parent='']"
    ));
    let under = format!(
        ".picker-list button[data-select=none][data-parent='{}']",
        fx.eng.id
    );
    assert!(has(&page, &under), "{page}");
    // A tree widget: rows are treeitems with their level.
    assert!(has(
        &page,
        "ul.picker-list[role=tree] li[role=treeitem][aria-level='2']"
    ));
    assert!(page.contains("class=\"picker-nomatch"));
}
