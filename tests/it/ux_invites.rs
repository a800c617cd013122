//! Invitations (issue 27 item 5) over plain HTTP: **Add members** with an
//! address that has no account makes a single-use, expiring link shown
//! once; the sign-up page behind it creates the account, joins the
//! workspace and signs in; used, revoked, replaced and expired links say
//! so; pending invitations are listed and revoked by owners only, with
//! CSRF; bounds; the audit log; and the e-mail path against a real SMTP
//! listener on loopback (`kit::smtp`). Also the Members row's role select
//! (item 11): the only owner's options disabled and explained.

use crate::kit::smtp::SmtpServer;
use crate::kit::*;
use pagegrant::config::SmtpSecurity;
use pagegrant::db::models::Role;
use reqwest::blocking::Client;

fn members_url(fx: &Fx) -> String {
    fx.srv.url(&format!("/w/{}/settings/members", fx.acme.id))
}

fn post(c: &Client, url: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let r = c.post(url).form(form).send().expect("post");
    let status = r.status().as_u16();
    let loc = location(&r);
    (status, loc, r.text().expect("body"))
}

/// Ada invites `email` as `role`; the redirect's page (with the link,
/// once) comes back.
fn invite(fx: &Fx, ada: &Client, email: &str, role: &str) -> String {
    let token = csrf_of(fx, ada);
    let (s, loc, body) = post(
        ada,
        &members_url(fx),
        &[("csrf", &token), ("email", email), ("role", role)],
    );
    assert_eq!(s, 303, "{body}");
    assert!(loc.ends_with("/settings/members#invited"), "{loc}");
    let (s, page) = get_html(ada, &fx.srv.url(&loc));
    assert_eq!(s, 200);
    page
}

fn link_on(page: &str) -> String {
    field_by_id(page, "invite-link").expect("the invitation link is on the page")
}

fn role_of(fx: &Fx, email: &str) -> Option<Role> {
    let u = pagegrant::db::queries::users::by_email(&mut fx.srv.conn(), email).expect("q")?;
    pagegrant::db::queries::workspaces::membership(&mut fx.srv.conn(), &fx.acme.id, &u.id)
        .expect("q")
        .map(|m| m.role)
}

/// The sign-up form's own client (no session): its page, then its post.
fn sign_up(link: &str, name: &str, password: &str) -> (Client, u16, String, String) {
    let c = client();
    let (s, page) = get_html(&c, link);
    assert_eq!(s, 200, "{page}");
    let csrf = input_value(&page, "csrf").expect("csrf");
    let (s, loc, body) = post(
        &c,
        link,
        &[("csrf", &csrf), ("name", name), ("password", password)],
    );
    (c, s, loc, body)
}

#[test]
fn an_unknown_email_gets_a_single_use_link_that_signs_up_and_joins() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let page = invite(&fx, &ada, " Nina@Example.com ", "member");
    assert!(
        page.contains("Invited nina@example.com. Copy the link below"),
        "{page}"
    );
    let link = link_on(&page);
    assert!(
        link.starts_with(&fx.srv.url("/invite/")),
        "{link} is under the issuer"
    );
    // The token is stored as its SHA-256 only.
    let token = link.rsplit('/').next().expect("token").to_string();
    let stored: Vec<String> = {
        use diesel::prelude::*;
        pagegrant::db::schema::invitations::table
            .select(pagegrant::db::schema::invitations::token_hash)
            .load(&mut fx.srv.conn())
            .expect("q")
    };
    assert_eq!(stored, vec![pagegrant::crypto::sha256_hex(&token)]);
    // Shown once: a reload shows the pending row, not the link.
    let (_, again) = get_html(&ada, &members_url(&fx));
    assert!(field_by_id(&again, "invite-link").is_none());
    let row = text_of(&again, "table.invitations tbody tr").expect("pending row");
    for text in ["nina@example.com", "Member", "Ada"] {
        assert!(row.contains(text), "{row}");
    }
    assert!(has(&again, "table.invitations time[title]"), "expiry shown");

    // The sign-up page: the workspace, who invited, the fixed address.
    let (s, form) = get_html(&client(), &link);
    assert_eq!(s, 200);
    assert!(form.contains("Join Acme Corp"), "{form}");
    assert!(form.contains("Ada invited you to Acme Corp as a member"));
    assert!(has(&form, r#"input[readonly][value="nina@example.com"]"#));
    // The password rules of every password: too short is said on the form.
    let (_, s, _, body) = sign_up(&link, "Nina", "short");
    assert_eq!(s, 400);
    assert!(body.contains("at least 8 characters"), "{body}");
    assert!(has(&body, r#"input[name="name"][value="Nina"]"#));
    assert_eq!(role_of(&fx, "nina@example.com"), None);
    // A form without its double-submit cookie is refused.
    let (s, _, _) = post(
        &bare_client(),
        &link,
        &[
            ("csrf", "x"),
            ("name", "Nina"),
            ("password", "long enough pw"),
        ],
    );
    assert_eq!(s, 403);

    // Joined, signed in, landed in the workspace.
    let (nina, s, loc, _) = sign_up(&link, "Nina", "long enough pw");
    assert_eq!(s, 303);
    assert_eq!(loc, format!("/w/{}", fx.acme.id));
    let (s, home) = get_html(&nina, &fx.srv.url(&loc));
    assert_eq!(s, 200);
    assert!(home.contains("Engineering"), "the workspace's pages");
    assert_eq!(role_of(&fx, "nina@example.com"), Some(Role::Member));
    // The account logs in with its password.
    logged_in_with(&fx.srv, "nina@example.com", "long enough pw");

    // The link works once.
    let (s, used) = get_html(&client(), &link);
    assert_eq!(s, 410);
    assert!(
        used.contains("This invitation has already been used"),
        "{used}"
    );
    let (_, s, _, _) = {
        let c = client();
        let (_, login) = get_html(&c, &fx.srv.url("/login"));
        let csrf = input_value(&login, "csrf").expect("csrf");
        let (s, l, b) = post(
            &c,
            &link,
            &[
                ("csrf", &csrf),
                ("name", "Eve"),
                ("password", "long enough pw"),
            ],
        );
        (c, s, l, b)
    };
    assert_eq!(s, 410);
    // No longer pending; the log tells the story.
    let (_, after) = get_html(&ada, &members_url(&fx));
    assert!(!has(&after, "table.invitations"));
    assert!(after.contains("No pending invitations"));
    let actions = audit_actions(&fx);
    for a in ["member.invited", "member.invitation_accepted"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    let (_, log) = get_html(
        &ada,
        &fx.srv
            .url(&format!("/w/{}/settings/audit?kind=members", fx.acme.id)),
    );
    assert!(
        log.contains("Ada invited nina@example.com as a member"),
        "{log}"
    );
    assert!(
        log.contains("Nina accepted the invitation for nina@example.com and joined as a member")
    );
}

#[test]
fn the_invitation_email_arrives_over_smtp_and_its_link_works_once() {
    let smtp = SmtpServer::start();
    let port = smtp.port;
    let fx = fixture_with(move |c| {
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = port;
        c.smtp.security = SmtpSecurity::None;
        c.smtp.from = "pagegrant <noreply@pagegrant.test>".into();
    });
    let ada = logged_in(&fx.srv, "ada@example.com");
    let page = invite(&fx, &ada, "omar@example.com", "owner");
    assert!(
        page.contains("Invited omar@example.com: the invitation was e-mailed to them"),
        "{page}"
    );
    let shown = link_on(&page);

    let mail = smtp.wait_for(1);
    assert_eq!(mail.to, vec!["omar@example.com".to_string()]);
    assert_eq!(mail.from, "noreply@pagegrant.test");
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Ada invited you to Acme Corp on pagegrant")
    );
    let body = mail.body();
    assert!(body.contains("as an owner"), "{body}");
    let link = body
        .split_whitespace()
        .find(|w| w.starts_with(&fx.srv.url("/invite/")))
        .expect("the link is in the e-mail")
        .to_string();
    assert_eq!(link, shown, "the e-mail holds the link the owner sees");

    let (omar, s, loc, _) = sign_up(&link, "Omar", "omar's long password");
    assert_eq!(s, 303);
    assert_eq!(role_of(&fx, "omar@example.com"), Some(Role::Owner));
    assert_eq!(get_html(&omar, &fx.srv.url(&loc)).0, 200);
    // An owner now: Members opens for them.
    assert_eq!(get_html(&omar, &members_url(&fx)).0, 200);
    // Once only.
    let (s, page) = get_html(&client(), &link);
    assert_eq!(s, 410, "{page}");
    assert_eq!(smtp.messages().len(), 1);
}

#[test]
fn an_unreachable_mail_server_still_leaves_the_link_to_copy() {
    let closed = free_port();
    let fx = fixture_with(move |c| {
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = closed;
        c.smtp.security = SmtpSecurity::None;
        c.smtp.from = "noreply@pagegrant.test".into();
        c.smtp.timeout_s = 2;
    });
    let ada = logged_in(&fx.srv, "ada@example.com");
    let page = invite(&fx, &ada, "pia@example.com", "member");
    assert!(
        page.contains("but the e-mail could not be sent (the mail server could not be reached)"),
        "{page}"
    );
    assert!(has(&page, r#"p.alert[role="alert"]"#));
    let (_, s, _, _) = sign_up(&link_on(&page), "Pia", "pia's long password");
    assert_eq!(s, 303);
}

#[test]
fn a_server_without_starttls_is_refused_when_starttls_is_configured() {
    // The default security: the plain listener offers no STARTTLS, so
    // nothing is sent in the clear; the owner is told and gets the link.
    let smtp = SmtpServer::start();
    let port = smtp.port;
    let fx = fixture_with(move |c| {
        c.smtp.host = "127.0.0.1".into();
        c.smtp.port = port;
        c.smtp.security = SmtpSecurity::Starttls;
        c.smtp.from = "noreply@pagegrant.test".into();
    });
    let ada = logged_in(&fx.srv, "ada@example.com");
    let page = invite(&fx, &ada, "tess@example.com", "member");
    assert!(page.contains("but the e-mail could not be sent"), "{page}");
    assert!(link_on(&page).contains("/invite/"));
    assert!(smtp.messages().is_empty(), "nothing went out in the clear");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

#[test]
fn revoked_replaced_expired_and_unknown_links_each_say_so() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let first = link_on(&invite(&fx, &ada, "ravi@example.com", "member"));
    // Inviting the same address again replaces the link.
    let page = invite(&fx, &ada, "ravi@example.com", "member");
    assert!(page.contains("The earlier link no longer works"), "{page}");
    let second = link_on(&page);
    let (s, replaced) = get_html(&client(), &first);
    assert_eq!(s, 410);
    assert!(
        replaced.contains("This invitation link was replaced"),
        "{replaced}"
    );
    let (_, list) = get_html(&ada, &members_url(&fx));
    assert_eq!(
        select(
            &scraper::Html::parse_document(&list),
            "table.invitations tbody tr"
        )
        .len(),
        1,
        "one pending invitation per address"
    );

    // Revoke: owners only, with CSRF.
    let action = attr(&list, "table.invitations form", "action").expect("revoke form");
    let revoke = fx.srv.url(&action);
    let grace = logged_in(&fx.srv, "grace@example.com");
    let (s, _, _) = post(&grace, &revoke, &[("csrf", &csrf_of(&fx, &grace))]);
    assert_eq!(s, 403, "a member cannot revoke");
    let (s, _, _) = post(&ada, &revoke, &[("csrf", "forged")]);
    assert_eq!(s, 403, "a forged form cannot revoke");
    assert_eq!(get_html(&client(), &second).0, 200, "still pending");
    let (s, loc, _) = post(&ada, &revoke, &[("csrf", &csrf_of(&fx, &ada))]);
    assert_eq!(s, 303);
    let (_, page) = get_html(&ada, &fx.srv.url(&loc));
    assert!(page.contains("Revoked the invitation"), "{page}");
    let (s, revoked) = get_html(&client(), &second);
    assert_eq!(s, 410);
    assert!(revoked.contains("This invitation was revoked"), "{revoked}");
    // Revoking again: said, not a 500.
    let (s, _, body) = post(&ada, &revoke, &[("csrf", &csrf_of(&fx, &ada))]);
    assert_eq!(s, 409, "{body}");
    assert!(body.contains("no longer pending"));
    assert!(audit_actions(&fx)
        .iter()
        .any(|a| a == "member.invitation_revoked"));

    // Expired.
    let third = link_on(&invite(&fx, &ada, "sam@example.com", "member"));
    {
        use diesel::prelude::*;
        use pagegrant::db::schema::invitations::dsl::*;
        diesel::update(invitations.filter(email.eq("sam@example.com")))
            .set(expires_at.eq(1))
            .execute(&mut fx.srv.conn())
            .expect("expire");
    }
    let (s, expired) = get_html(&client(), &third);
    assert_eq!(s, 410);
    assert!(expired.contains("This invitation has expired"), "{expired}");
    let (_, list) = get_html(&ada, &members_url(&fx));
    assert!(
        !list.contains("sam@example.com"),
        "expired ones leave the list"
    );

    // Unknown and malformed tokens: a page, never a 500.
    let unknown = fx.srv.url(&format!("/invite/{}", "A".repeat(43)));
    let (s, page) = get_html(&client(), &unknown);
    assert_eq!(s, 404);
    assert!(page.contains("This invitation link is not valid"));
    let s = get_html(&client(), &fx.srv.url("/invite/%00x")).0;
    assert!((400..500).contains(&s), "{s}");
    assert_eq!(get_html(&client(), &fx.srv.url("/invite/short")).0, 404);
}

#[test]
fn only_owners_invite_and_invitations_are_bounded() {
    let fx = fixture_with(|c| {
        c.members.max_pending_invites = 2;
        c.members.invites_per_hour = 3;
    });
    // A member cannot invite.
    let grace = logged_in(&fx.srv, "grace@example.com");
    let token = csrf_of(&fx, &grace);
    let (s, _, _) = post(
        &grace,
        &members_url(&fx),
        &[
            ("csrf", &token),
            ("email", "x@example.com"),
            ("role", "member"),
        ],
    );
    assert_eq!(s, 403);
    assert_eq!(fx.srv.count("invitations"), 0);

    let ada = logged_in(&fx.srv, "ada@example.com");
    invite(&fx, &ada, "a1@example.com", "member");
    invite(&fx, &ada, "a2@example.com", "member");
    let token = csrf_of(&fx, &ada);
    let (s, _, page) = post(
        &ada,
        &members_url(&fx),
        &[
            ("csrf", &token),
            ("email", "a3@example.com"),
            ("role", "member"),
        ],
    );
    assert_eq!(s, 409);
    assert!(
        page.contains("already has 2 pending invitations. Revoke some before inviting more."),
        "{page}"
    );
    assert!(
        has(&page, r#"input[value="a3@example.com"]"#),
        "what was typed is kept"
    );
    // Renewing a pending one is allowed (it replaces), until the hourly bound.
    invite(&fx, &ada, "a1@example.com", "member");
    let (s, _, page) = post(
        &ada,
        &members_url(&fx),
        &[
            ("csrf", &token),
            ("email", "a2@example.com"),
            ("role", "member"),
        ],
    );
    assert_eq!(s, 409);
    assert!(page.contains("invitations in the last hour"), "{page}");
    // A bad address is said next to the field; an existing account is
    // still added directly.
    let (s, _, page) = post(
        &ada,
        &members_url(&fx),
        &[
            ("csrf", &token),
            ("email", "not-an-address"),
            ("role", "member"),
        ],
    );
    assert_eq!(s, 400);
    assert!(page.contains("Enter an email address"), "{page}");
    fx.srv.user("zed@example.com", "Zed");
    let (s, loc, _) = post(
        &ada,
        &members_url(&fx),
        &[
            ("csrf", &token),
            ("email", "zed@example.com"),
            ("role", "member"),
        ],
    );
    assert_eq!(s, 303);
    // Added at once, said once by a one-time note (no flag in the address).
    assert!(!loc.contains('?'), "{loc}");
    let (_, page) = get_html(&ada, &fx.srv.url(&loc));
    assert!(page.contains("Added Zed to"), "{page}");
    let (_, again) = get_html(&ada, &fx.srv.url(&loc));
    assert!(!again.contains("Added Zed to"), "a reload says nothing");
}

#[test]
fn a_link_for_an_address_that_got_an_account_meanwhile_says_log_in() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let link = link_on(&invite(&fx, &ada, "kim@example.com", "member"));
    fx.srv.user("kim@example.com", "Kim");
    let (s, page) = get_html(&client(), &link);
    assert_eq!(s, 409);
    assert!(page.contains("You already have an account"), "{page}");
}

#[test]
fn the_only_owners_role_select_is_disabled_and_explained() {
    let fx = fixture();
    let ada = logged_in(&fx.srv, "ada@example.com");
    let (_, page) = get_html(&ada, &members_url(&fx));
    let ada_row = format!(r#"form[action$="/{}/role"]"#, fx.ada.id);
    let grace_row = format!(r#"form[action$="/{}/role"]"#, fx.grace.id);
    assert!(has(
        &page,
        &format!(r#"{ada_row} option[value="member"][disabled]"#)
    ));
    assert!(has(&page, &format!("{ada_row} button[disabled]")));
    let why = text_of(&page, &format!("{ada_row} .role-why")).expect("why");
    assert_eq!(
        why,
        "The only owner's role can't be changed. Make someone else an owner first."
    );
    assert!(!has(&page, &format!(r#"{grace_row} option[disabled]"#)));
    assert_eq!(
        text_of(&page, &format!("{grace_row} button")).as_deref(),
        Some("Save")
    );
    // With a second owner, nobody's options are disabled.
    fx.srv.member(
        &fx.acme,
        &fx.srv.user("o2@example.com", "Otto"),
        Role::Owner,
    );
    let (_, page) = get_html(&ada, &members_url(&fx));
    assert!(!has(&page, "form.role-form option[disabled]"));
    assert!(!has(&page, ".role-why"));
}
