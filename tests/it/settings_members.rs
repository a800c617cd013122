//! Settings & members → **Members** (owners only): the list, **Add member**,
//! changing a role, **Remove from workspace** (the person's connections end
//! at once), the last owner kept; every role on every action, CSRF, and the
//! CLI verbs `workspace remove-member` and `workspace set-role`. Also the
//! Connections tab's Pages column.

use crate::kit::*;
use pagegrant::db::models::Role;
use reqwest::blocking::Client;

fn members_url(fx: &Fx, rest: &str) -> String {
    fx.srv
        .url(&format!("/w/{}/settings/members{rest}", fx.acme.id))
}

fn post(c: &Client, url: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let r = c.post(url).form(form).send().expect("post");
    let status = r.status().as_u16();
    let loc = location(&r);
    (status, loc, r.text().expect("body"))
}

fn role_of(fx: &Fx, user: &pagegrant::db::models::UserId) -> Option<Role> {
    pagegrant::db::queries::workspaces::membership(&mut fx.srv.conn(), &fx.acme.id, user)
        .expect("q")
        .map(|m| m.role)
}

#[test]
fn members_tab_is_for_owners_members_get_403_outsiders_404() {
    let fx = fixture();
    fx.srv.user("nina@example.com", "Nina");
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (status, page) = get_html(&ada, &members_url(&fx, ""));
    assert_eq!(status, 200);
    for text in [
        ">Members</a>",
        ">Connections</a>",
        "Ada",
        "ada@example.com",
        "Grace",
        "grace@example.com",
        "Add member",
        "Remove from workspace",
        "Save",
        "Joined",
    ] {
        assert!(page.contains(text), "{text}");
    }
    // The tab sits beside Connections for owners, and not for members.
    let (_, conns) = get_html(
        &ada,
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    assert!(conns.contains(&format!("/w/{}/settings/members", fx.acme.id)));
    let grace = logged_in(&fx.srv, "grace@example.com");
    let (_, mine) = get_html(
        &grace,
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    assert!(!mine.contains("/settings/members"));

    // A member: 403 on every Members route, nothing changes.
    let token = csrf_of(&fx, &grace);
    assert_eq!(get_html(&grace, &members_url(&fx, "")).0, 403);
    let ada_remove = members_url(&fx, &format!("/{}/remove", fx.ada.id));
    assert_eq!(get_html(&grace, &ada_remove).0, 403);
    let (s, _, _) = post(&grace, &ada_remove, &[("csrf", &token)]);
    assert_eq!(s, 403);
    let (s, _, _) = post(
        &grace,
        &members_url(&fx, &format!("/{}/role", fx.grace.id)),
        &[("csrf", &token), ("role", "owner")],
    );
    assert_eq!(s, 403);
    let (s, _, _) = post(
        &grace,
        &members_url(&fx, ""),
        &[
            ("csrf", &token),
            ("email", "nina@example.com"),
            ("role", "owner"),
        ],
    );
    assert_eq!(s, 403);
    assert_eq!(role_of(&fx, &fx.grace.id), Some(Role::Member));

    // Someone outside the workspace: it does not exist for them.
    let nina = logged_in(&fx.srv, "nina@example.com");
    let nina_token = {
        let (_, page) = get_html(&nina, &fx.srv.url("/developers"));
        input_value(&page, "csrf").expect("csrf")
    };
    assert_eq!(get_html(&nina, &members_url(&fx, "")).0, 404);
    assert_eq!(get_html(&nina, &ada_remove).0, 404);
    let (s, _, _) = post(&nina, &ada_remove, &[("csrf", &nina_token)]);
    assert_eq!(s, 404);
    // Not logged in: the login page.
    assert_eq!(
        client()
            .get(members_url(&fx, ""))
            .send()
            .expect("get")
            .status(),
        303
    );
}

#[test]
fn add_member_by_email_with_csrf_and_errors_next_to_the_field() {
    let fx = fixture();
    let nina = fx.srv.user("nina@example.com", "Nina");
    let ada = logged_in(&fx.srv, "ada@example.com");
    let token = csrf_of(&fx, &ada);
    let url = members_url(&fx, "");

    // Without the session's token: 403, nobody added.
    let (s, _, _) = post(
        &ada,
        &url,
        &[
            ("csrf", "forged"),
            ("email", "nina@example.com"),
            ("role", "member"),
        ],
    );
    assert_eq!(s, 403);
    assert_eq!(role_of(&fx, &nina.id), None);

    // Someone without an account: since issue 27 an invitation (tests in
    // ux_invites.rs), not a refusal.
    let (s, loc, _) = post(
        &ada,
        &url,
        &[
            ("csrf", &token),
            ("email", "nobody@example.com"),
            ("role", "member"),
        ],
    );
    assert_eq!(s, 303);
    assert!(loc.ends_with("#invited"), "{loc}");
    // A malformed address: said next to the field, what was typed kept.
    let (s, _, page) = post(
        &ada,
        &url,
        &[("csrf", &token), ("email", "nobody"), ("role", "member")],
    );
    assert_eq!(s, 400);
    assert!(page.contains("class=\"field-error\""), "{page}");
    assert!(has(&page, r#"input[value="nobody"]"#));
    // Already a member: 409, said so.
    let (s, _, page) = post(
        &ada,
        &url,
        &[
            ("csrf", &token),
            ("email", "grace@example.com"),
            ("role", "member"),
        ],
    );
    assert_eq!(s, 409);
    assert!(page.contains("already a member"));
    // A role that is neither: 400.
    let (s, _, _) = post(
        &ada,
        &url,
        &[
            ("csrf", &token),
            ("email", "nina@example.com"),
            ("role", "admin"),
        ],
    );
    assert_eq!(s, 400);

    // Added (email in any case), then the page says so: Post/Redirect/Get.
    let (s, loc, _) = post(
        &ada,
        &url,
        &[
            ("csrf", &token),
            ("email", " Nina@Example.com "),
            ("role", "member"),
        ],
    );
    assert_eq!(s, 303);
    assert_eq!(role_of(&fx, &nina.id), Some(Role::Member));
    let (_, page) = get_html(&ada, &fx.srv.url(&loc));
    assert!(page.contains("Added Nina to Acme Corp"), "{page}");
    assert!(audit_actions(&fx).iter().any(|a| a == "member.added"));

    // Change role: Nina becomes an owner and can open Members herself.
    let (s, _, _) = post(
        &ada,
        &members_url(&fx, &format!("/{}/role", nina.id)),
        &[("csrf", &token), ("role", "owner")],
    );
    assert_eq!(s, 303);
    assert_eq!(role_of(&fx, &nina.id), Some(Role::Owner));
    assert!(audit_actions(&fx)
        .iter()
        .any(|a| a == "member.role_changed"));
    let nina_c = logged_in(&fx.srv, "nina@example.com");
    assert_eq!(get_html(&nina_c, &url).0, 200);
}

#[test]
fn the_last_owner_cannot_be_removed_or_demoted() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let token = csrf_of(&fx, &ada);
    let remove = members_url(&fx, &format!("/{}/remove", fx.ada.id));
    let role = members_url(&fx, &format!("/{}/role", fx.ada.id));

    // The confirmation page says why, and offers no Remove button.
    let (s, page) = get_html(&ada, &remove);
    assert_eq!(s, 200);
    assert!(
        page.contains("Ada is the last owner of Acme Corp"),
        "{page}"
    );
    assert!(!page.contains("type=\"submit\" class=\"btn danger\""));
    // A crafted post is refused the same way; nothing changes.
    let (s, _, page) = post(&ada, &remove, &[("csrf", &token)]);
    assert_eq!(s, 400);
    assert!(page.contains("last owner"), "{page}");
    let (s, _, page) = post(&ada, &role, &[("csrf", &token), ("role", "member")]);
    assert_eq!(s, 400);
    assert!(page.contains("Make someone else an owner first"));
    assert_eq!(role_of(&fx, &fx.ada.id), Some(Role::Owner));

    // With a second owner, Ada may step down.
    let (s, _, _) = post(
        &ada,
        &members_url(&fx, &format!("/{}/role", fx.grace.id)),
        &[("csrf", &token), ("role", "owner")],
    );
    assert_eq!(s, 303);
    let (s, _, _) = post(&ada, &role, &[("csrf", &token), ("role", "member")]);
    assert_eq!(s, 303);
    assert_eq!(role_of(&fx, &fx.ada.id), Some(Role::Member));
    // And now Grace is the last owner.
    let grace = logged_in(&fx.srv, "grace@example.com");
    let (s, _, _) = post(
        &grace,
        &members_url(&fx, &format!("/{}/remove", fx.grace.id)),
        &[("csrf", &csrf_of(&fx, &grace))],
    );
    assert_eq!(s, 400);
}

#[test]
fn removing_a_member_ends_their_connections_at_once() {
    let fx = fixture();
    let g = connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let a = connect(&fx, "ada@example.com", fx.acme.id.as_str(), &[&fx.roadmap]);
    let grace_token = g["access_token"].as_str().expect("at").to_string();
    let ada_token = a["access_token"].as_str().expect("at").to_string();
    assert_eq!(me_status(&fx, &grace_token), 200);

    let ada = logged_in(&fx.srv, "ada@example.com");
    // The Connections tab shows how many pages each connection reaches:
    // Engineering and Roadmap below it, or Roadmap alone.
    let (_, conns) = get_html(
        &ada,
        &fx.srv
            .url(&format!("/w/{}/settings/connections", fx.acme.id)),
    );
    assert!(conns.contains("<th>Pages</th>"));
    assert!(
        conns.contains("2 pages") && conns.contains("1 page<"),
        "{conns}"
    );
    assert!(conns.contains("aria-label=\"Search connections\""));

    let remove = members_url(&fx, &format!("/{}/remove", fx.grace.id));
    let (s, page) = get_html(&ada, &remove);
    assert_eq!(s, 200);
    assert!(page.contains("Remove Grace from Acme Corp?"));
    assert!(
        html_unescape(&page).contains(&fx.conf.integration.name),
        "names the connection that ends"
    );
    let (s, loc, _) = post(&ada, &remove, &[("csrf", &csrf_of(&fx, &ada))]);
    assert_eq!(s, 303);
    let (_, page) = get_html(&ada, &fx.srv.url(&loc));
    assert!(page.contains("Removed Grace from Acme Corp"));

    // Her token is dead at once; Ada's is not.
    assert_eq!(me_status(&fx, &grace_token), 401);
    assert_eq!(me_status(&fx, &ada_token), 200);
    assert_eq!(role_of(&fx, &fx.grace.id), None);
    let grace = logged_in(&fx.srv, "grace@example.com");
    assert_eq!(
        get_html(&grace, &fx.srv.url(&format!("/w/{}", fx.acme.id))).0,
        404
    );
    let actions = audit_actions(&fx);
    assert!(actions.iter().any(|a| a == "member.removed"));
    assert!(actions.iter().any(|a| a == "connection.disconnected"));
    // Removing her again: she is not there.
    let (s, _, _) = post(&ada, &remove, &[("csrf", &csrf_of(&fx, &ada))]);
    assert_eq!(s, 404);
}

#[test]
fn cli_remove_member_and_set_role() {
    let fx = fixture();
    let g = connect(&fx, "grace@example.com", fx.acme.id.as_str(), &[&fx.eng]);
    let grace_token = g["access_token"].as_str().expect("at").to_string();
    let run = |args: &[&str]| {
        let out = pagegrant_on(&fx.srv, args, None);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let ws = fx.acme.id.to_string();
    // The last owner stays, with a clear message and a non-zero exit.
    let (ok, _, err) = run(&[
        "workspace",
        "set-role",
        "--workspace",
        &ws,
        "--email",
        "ada@example.com",
        "--role",
        "member",
    ]);
    assert!(!ok);
    assert!(err.contains("last owner"), "{err}");
    let (ok, _, err) = run(&[
        "workspace",
        "remove-member",
        "--workspace",
        &ws,
        "--email",
        "ada@example.com",
    ]);
    assert!(!ok && err.contains("last owner"), "{err}");
    let (ok, _, err) = run(&[
        "workspace",
        "set-role",
        "--workspace",
        &ws,
        "--email",
        "grace@example.com",
        "--role",
        "admin",
    ]);
    assert!(!ok && err.contains("unknown role"), "{err}");

    let (ok, out, err) = run(&[
        "workspace",
        "set-role",
        "--workspace",
        &ws,
        "--email",
        "grace@example.com",
        "--role",
        "owner",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one object");
    assert_eq!(v["role"], "owner");
    assert_eq!(v["workspace_id"], ws.as_str());
    assert_eq!(role_of(&fx, &fx.grace.id), Some(Role::Owner));

    let (ok, out, err) = run(&[
        "workspace",
        "remove-member",
        "--workspace",
        &ws,
        "--email",
        "grace@example.com",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one object");
    assert_eq!(v["connections_ended"], 1);
    assert_eq!(v["user_id"], fx.grace.id.as_str());
    assert_eq!(role_of(&fx, &fx.grace.id), None);
    assert_eq!(me_status(&fx, &grace_token), 401);
    // Not a member any more: said so.
    let (ok, _, err) = run(&[
        "workspace",
        "remove-member",
        "--workspace",
        &ws,
        "--email",
        "grace@example.com",
    ]);
    assert!(!ok && err.contains("not a member"), "{err}");
}
