//! Issue 30 item 3 over plain HTTP: the consent page's picker reads the
//! workspace's page tree once per change (`domain::tree_cache`, keyed by
//! the workspace's `tree_version`) and keeps its rows rendered, yet every
//! change shows on the next view, private pages stay their creator's, and
//! what is ticked is each request's own.

use diesel::prelude::*;
use pagegrant::db::models::{PageId, Role, Visibility};

use crate::kit::*;

/// A gauge of the picker's cache from `/metrics`.
fn gauge(fx: &Fx, name: &str) -> i64 {
    let body = client()
        .get(fx.srv.url("/metrics"))
        .send()
        .expect("metrics")
        .text()
        .expect("body");
    let line = format!("pagegrant_{name} ");
    body.lines()
        .find_map(|l| l.strip_prefix(&line))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}

fn reads(fx: &Fx) -> i64 {
    gauge(fx, "picker_tree_reads")
}

/// Acme's consent page for `email` (Acme is everyone's first workspace).
fn view(fx: &Fx, c: &reqwest::blocking::Client) -> String {
    let ws = fx.acme.id.to_string();
    consent_page(
        fx,
        c,
        &base(&fx.conf.integration.client_id, &[("workspace_id", &ws)]),
    )
}

/// The picker's row of page `id`, or `None` when the page does not show.
fn row<'a>(page: &'a str, id: &PageId) -> Option<&'a str> {
    let at = page.find(&format!("data-id=\"{id}\""))?;
    let start = page[..at].rfind("<li")?;
    let end = at + page[at..].find("</li>")?;
    Some(&page[start..end])
}

fn set_title(fx: &Fx, id: &PageId, title: &str) {
    use pagegrant::db::schema::pages::dsl;
    diesel::update(dsl::pages.find(id))
        .set(dsl::title.eq(title))
        .execute(&mut fx.srv.conn())
        .expect("rename");
}

fn set_trash(fx: &Fx, id: &PageId, trashed: bool) {
    use pagegrant::db::schema::pages::dsl;
    diesel::update(dsl::pages.find(id))
        .set(dsl::in_trash.eq(trashed))
        .execute(&mut fx.srv.conn())
        .expect("trash");
}

fn set_visibility(fx: &Fx, id: &PageId, v: Visibility) {
    use pagegrant::db::schema::pages::dsl;
    diesel::update(dsl::pages.find(id))
        .set(dsl::visibility.eq(v))
        .execute(&mut fx.srv.conn())
        .expect("visibility");
}

#[test]
fn the_picker_reads_the_tree_once_until_a_page_changes() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let before = reads(&fx);
    let first = view(&fx, &ada);
    assert!(row(&first, &fx.roadmap.id).is_some(), "{first}");
    assert_eq!(reads(&fx), before + 1, "the first view reads the tree");
    let again = view(&fx, &ada);
    let _ = view(&fx, &ada);
    assert_eq!(reads(&fx), before + 1, "later views use the kept tree");
    // The rows come out the same whether rendered now or kept.
    assert_eq!(
        row(&first, &fx.roadmap.id),
        row(&again, &fx.roadmap.id),
        "a kept row is the row as rendered"
    );
    // A change to the tree is one more read, then kept again.
    set_title(&fx, &fx.roadmap.id, "Roadmap 2027");
    let renamed = view(&fx, &ada);
    assert!(renamed.contains("Roadmap 2027"), "{renamed}");
    let _ = view(&fx, &ada);
    assert_eq!(reads(&fx), before + 2);
}

#[test]
fn every_change_to_the_tree_shows_on_the_next_view() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let grace = logged_in(&fx.srv, "grace@example.com");
    let _ = view(&fx, &ada);
    let _ = view(&fx, &grace);
    let start = reads(&fx);

    // Added.
    let launch = fx.srv.page(
        &fx.acme,
        &fx.ada,
        "Launch <Plan> & more",
        Some(&fx.eng),
        false,
    );
    let page = view(&fx, &ada);
    let r = row(&page, &launch.id).expect("the new page shows");
    assert!(r.contains("Launch &#60;Plan&#62; &#38; more"), "{r}");
    assert!(!page.contains("Launch <Plan>"), "titles stay escaped");
    assert!(
        row(&view(&fx, &grace), &launch.id).is_some(),
        "and for everyone"
    );

    // Renamed.
    set_title(&fx, &fx.eng.id, "Platform");
    let page = view(&fx, &grace);
    let r = row(&page, &fx.eng.id).expect("still shows");
    assert!(r.contains("Platform") && !r.contains("Engineering"), "{r}");
    let sub = row(&page, &fx.roadmap.id).expect("roadmap");
    assert!(sub.contains("Platform"), "its path follows: {sub}");

    // Made private: its creator sees it marked, nobody else sees it or
    // what is under it.
    set_visibility(&fx, &fx.eng.id, Visibility::Private);
    let page = view(&fx, &ada);
    let r = row(&page, &fx.eng.id).expect("Ada's own private page");
    assert!(r.contains("data-private=\"true\""), "{r}");
    let page = view(&fx, &grace);
    assert!(row(&page, &fx.eng.id).is_none(), "private to Ada");
    assert!(row(&page, &fx.roadmap.id).is_none(), "and its subtree");
    assert!(row(&page, &launch.id).is_none(), "and its subtree");

    // Shared with the workspace again.
    set_visibility(&fx, &fx.eng.id, Visibility::Workspace);
    let page = view(&fx, &grace);
    assert!(row(&page, &fx.roadmap.id).is_some(), "{page}");

    // Trashed, then restored.
    set_trash(&fx, &fx.roadmap.id, true);
    assert!(row(&view(&fx, &ada), &fx.roadmap.id).is_none());
    assert!(row(&view(&fx, &grace), &fx.roadmap.id).is_none());
    set_trash(&fx, &fx.roadmap.id, false);
    assert!(row(&view(&fx, &grace), &fx.roadmap.id).is_some());

    // One read per change (six of them), none per view.
    assert_eq!(reads(&fx), start + 6);
}

#[test]
fn private_pages_stay_their_creators_whoever_filled_the_cache() {
    let fx = fixture();
    let lin = fx.srv.user("lin@example.com", "Lin");
    fx.srv.member(&fx.acme, &lin, Role::Member);
    let (ada, grace, lin) = (
        logged_in(&fx.srv, "ada@example.com"),
        logged_in(&fx.srv, "grace@example.com"),
        logged_in(&fx.srv, "lin@example.com"),
    );
    let before = (reads(&fx), gauge(&fx, "picker_row_renders"));
    for _ in 0..2 {
        let a = view(&fx, &ada);
        assert!(row(&a, &fx.ada_private.id).is_some(), "Ada's own");
        assert!(row(&a, &fx.grace_private.id).is_none(), "not Grace's");
        assert!(!a.contains("Grace Scratch Quokka"));
        let g = view(&fx, &grace);
        assert!(row(&g, &fx.grace_private.id).is_some(), "Grace's own");
        assert!(row(&g, &fx.ada_private.id).is_none(), "not Ada's");
        assert!(!g.contains("Ada Secret Zebra"));
        let l = view(&fx, &lin);
        assert!(row(&l, &fx.eng.id).is_some(), "{l}");
        assert!(!l.contains("Ada Secret Zebra") && !l.contains("Grace Scratch Quokka"));
    }
    // One tree; rows rendered once for Ada, once for Grace, once for
    // everyone without private pages.
    assert_eq!(reads(&fx), before.0 + 1);
    assert_eq!(gauge(&fx, "picker_row_renders"), before.1 + 3);
}

#[test]
fn what_is_ticked_is_each_requests_own() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let grace = logged_in(&fx.srv, "grace@example.com");
    let renders = gauge(&fx, "picker_row_renders");
    let _ = view(&fx, &grace);
    // Ada shares Engineering (and with it Roadmap).
    let page = view(&fx, &ada);
    let r = answer(&fx, &ada, &page, "allow", &[&fx.eng.id.to_string()]);
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("code="), "{}", location(&r));

    let again = view(&fx, &ada);
    let eng = row(&again, &fx.eng.id).expect("eng");
    assert!(eng.contains(" checked") && eng.contains("Shared"), "{eng}");
    let sub = row(&again, &fx.roadmap.id).expect("roadmap");
    assert!(sub.contains("included with Engineering"), "{sub}");
    assert!(sub.contains("aria-checked=\"true\""), "{sub}");
    let other = row(&again, &fx.ada_private.id).expect("private");
    assert!(!other.contains(" checked") && !other.contains("Shared"));
    // Shared subtrees come first.
    let at = |id: &PageId| again.find(&format!("data-id=\"{id}\"")).expect("row");
    assert!(at(&fx.eng.id) < at(&fx.ada_private.id));

    // Grace's view of the same tree ticks nothing.
    let g = view(&fx, &grace);
    for id in [&fx.eng.id, &fx.roadmap.id] {
        let r = row(&g, id).expect("row");
        assert!(
            !r.contains(" checked") && !r.contains("Shared") && !r.contains("included with"),
            "{r}"
        );
    }
    assert!(g.contains("0 pages will be shared"), "{g}");
    // Rows rendered once for Grace and once for Ada; sharing changes no
    // tree, so every later view reuses them.
    assert_eq!(gauge(&fx, "picker_row_renders"), renders + 2);

    // The POST reads the session in its own trip: signed out between the
    // view and the answer is a login, and nothing is issued.
    let page = view(&fx, &ada);
    let csrf = csrf_of(&fx, &ada);
    let out = ada
        .post(fx.srv.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .expect("logout");
    assert!(out.status().is_redirection(), "{}", out.status());
    let r = answer(&fx, &ada, &page, "allow", &[&fx.eng.id.to_string()]);
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"), "{}", location(&r));
    assert_eq!(
        fx.srv.count("authorization_codes"),
        1,
        "only the first answer's"
    );
    // Back in: the new session answers its own view.
    let ada = logged_in(&fx.srv, "ada@example.com");
    let page = view(&fx, &ada);
    let r = answer(&fx, &ada, &page, "allow", &[&fx.eng.id.to_string()]);
    assert!(location(&r).contains("code="), "{}", location(&r));
}
