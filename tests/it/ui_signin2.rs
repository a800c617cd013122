//! Sign-in round 2 in Chromium (issue 28), with its virtual authenticator:
//! passkeys only (**Turn off password sign-in**), a passkey as the second
//! step after the password (**Use a passkey** on /login/two-step),
//! **Confirm it's you** with a passkey, and a passkey's removal page that
//! offers to end the other sessions. Screenshots at 1280 and 390 px.

use diesel::prelude::*;
use pagegrant::db::schema::sessions;

use crate::kit::browser::*;
use crate::kit::*;
use crate::ui_passkeys::{
    add_authenticator, localhost_fixture, log_in, log_out, put_credentials, take_credentials,
};

/// Screenshots at 1280 and 390 px with `css` scrolled into view.
fn screenshot_at(d: &Driver, name: &str, css: &str) {
    for (w, h) in [(1280, 800), (390, 844)] {
        d.resize(w, h);
        let js = format!("document.querySelector({css:?}).scrollIntoView({{block: 'center'}})");
        d.rt.block_on(d.c().execute(&js, vec![])).expect("scroll");
        d.screenshot(&format!("{name}-{w}"));
    }
    d.resize(1280, 800);
}

fn add_passkey(d: &Driver, base: &str, name: &str) {
    d.goto(&format!("{base}/account/passkeys"));
    d.fill("Name", name);
    d.click_label("Add a passkey");
    d.find(&format!("//td[normalize-space()='{name}']"));
}

/// S96, S95: Ada turns password sign-in off (her last passkey then cannot
/// go) and on again, turns on two-step verification with a passkey, and
/// signs in with her password and **Use a passkey**.
#[test]
fn passkeys_only_and_a_passkey_as_second_step_in_chromium_s95_s96() {
    let fx = localhost_fixture();
    let base = fx.srv.config.server.issuer.clone();
    let d = Driver::start();
    let auth = add_authenticator(&d);
    log_in(&d, &base, "ada@example.com");
    add_passkey(&d, &base, "Laptop");
    screenshot_at(&d, "signin2-passkeys", ".password-sign-in");

    d.submit_label("Turn off password sign-in");
    d.find("//p[@role='status'][contains(., 'you sign in with a passkey only')]");
    assert_eq!(fx.srv.count("password_off"), 1);
    screenshot_at(&d, "signin2-passkeys-only", ".password-sign-in");
    d.click("//a[normalize-space()='Remove']");
    d.find("//p[@role='alert'][contains(., 'Turn password sign-in back on first')]");
    d.screenshot_both("signin2-remove-blocked");
    d.click_label("Back to passkeys");
    d.submit_label("Turn on password sign-in");
    d.find("//p[@role='status'][contains(., 'Password sign-in is on again')]");
    assert_eq!(fx.srv.count("password_off"), 0);

    d.goto(&format!("{base}/account/two-step"));
    d.find("//button[normalize-space()='Set up']");
    d.screenshot_both("signin2-two-step-choices");
    d.submit_label("Use a passkey");
    d.find("//ol[@class='codes']");
    d.find("//p[contains(., 'you confirm with one of your passkeys')]");
    d.screenshot_both("signin2-two-step-passkey");

    // Out, with the credential put aside so the login page's conditional
    // request has nothing to offer; in with the password.
    let creds = take_credentials(&d, &auth);
    log_out(&d);
    d.fill("Email", "ada@example.com");
    d.fill("Password", PASSWORD);
    d.submit_label("Log in");
    d.find("//h1[normalize-space()='Two-step verification']");
    d.find("//button[normalize-space()='Use a passkey']");
    assert!(d.url().contains("/login/two-step"), "{}", d.url());
    d.screenshot_both("signin2-second-step");
    put_credentials(&d, &auth, creds);
    d.click_label("Use a passkey");
    d.find("//aside[@aria-label='Sidebar']");
    assert!(d.url().starts_with(&format!("{base}/w/")), "{}", d.url());
}

/// S95: **Confirm it's you** with a passkey, then a passkey's removal page
/// with **End all other sessions** ticked: the other browser is signed out.
#[test]
fn confirm_with_a_passkey_and_remove_ending_other_sessions_in_chromium_s95() {
    let fx = localhost_fixture();
    let base = fx.srv.config.server.issuer.clone();
    let other = logged_in(&fx.srv, "ada@example.com");
    let d = Driver::start();
    add_authenticator(&d);
    log_in(&d, &base, "ada@example.com");
    add_passkey(&d, &base, "Security key");
    diesel::update(sessions::table)
        .set(sessions::proved_at.eq(sessions::proved_at - 3600))
        .execute(&mut fx.srv.conn())
        .expect("age");

    d.goto(&format!("{base}/account/reauth?next=%2Faccount%2Fpasskeys"));
    d.find("//button[normalize-space()='Use a passkey']");
    d.find("//label[normalize-space()='Password']");
    d.screenshot_both("signin2-reauth");
    d.click_label("Use a passkey");
    d.find("//h2[normalize-space()='Password sign-in']");
    assert!(d.url().ends_with("/account/passkeys"), "{}", d.url());
    let fresh: i64 = sessions::table
        .select(diesel::dsl::max(sessions::proved_at))
        .first::<Option<i64>>(&mut fx.srv.conn())
        .expect("proved_at")
        .unwrap_or(0);
    assert!(pagegrant::db::models::now() - fresh < 60, "proved now");

    d.click("//a[normalize-space()='Remove']");
    d.find("//h1[normalize-space()='Remove the passkey Security key?']");
    d.find("//input[@name='end_others'][@checked]");
    d.screenshot_both("signin2-remove-passkey");
    d.submit_label("Remove passkey");
    d.find("//p[@role='status'][contains(., 'Your other sessions have ended.')]");
    assert_eq!(fx.srv.count("passkeys"), 0);
    let r = other.get(fx.srv.url("/developers")).send().expect("get");
    assert_ne!(r.status(), 200, "the other browser is signed out");
}
