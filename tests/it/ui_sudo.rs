//! Issue 28 items 4 and 5 in the browser: My account → Sessions reached from
//! the user menu with two browsers signed in (a desktop and a phone), ending
//! the other one, and **Confirm it's you** before removing a member once the
//! last proof is older than `security.reauth_s`.

use crate::kit::browser::*;
use crate::kit::*;
use diesel::prelude::*;
use pagegrant::db::schema::sessions;

#[test]
fn browser_sessions_end_the_other_browser_and_confirm_before_removing_a_member() {
    let fx = fixture();
    let desk = Driver::start();
    let phone = Driver::start_phone(390, 844, &[]);
    desk.login_as(&fx.srv, "ada@example.com");
    phone.login_as(&fx.srv, "ada@example.com");

    // My account from the user menu.
    desk.goto(&fx.srv.url(&format!("/w/{}", fx.acme.id)));
    desk.click("//summary[@aria-label='Switch workspace']");
    desk.find("//div[contains(@class,'menu-account')]/a[normalize-space()='My account']");
    desk.screenshot("sudo-user-menu-1280");
    desk.click_label("My account");
    desk.find("//h1[normalize-space()='My account']");
    desk.find("//a[@aria-current='page'][normalize-space()='Sessions']");
    assert_eq!(desk.find_all("//tbody/tr").len(), 2, "two browsers");
    desk.find("//span[contains(@class,'badge')][normalize-space()='This device']");
    desk.screenshot("sudo-sessions-1280");
    phone.goto(&fx.srv.url("/account/sessions"));
    phone.find("//h1[normalize-space()='My account']");
    phone.screenshot("sudo-sessions-390");

    // End the phone's session from the desktop: the phone is signed out.
    desk.submit_label("End");
    desk.find(
        "//p[contains(@class,'flash')][starts-with(normalize-space(),'Ended the session of')]",
    );
    assert_eq!(desk.find_all("//tbody/tr").len(), 1);
    desk.screenshot("sudo-sessions-ended-1280");
    phone.reload();
    phone.find("//h1[normalize-space()='Log in']");

    // An hour later (the last proof aged): removing Grace asks first.
    diesel::update(sessions::table)
        .set(sessions::proved_at.eq(sessions::proved_at - 3600))
        .execute(&mut fx.srv.conn())
        .expect("age");
    let remove = format!("/w/{}/settings/members/{}/remove", fx.acme.id, fx.grace.id);
    desk.goto(&fx.srv.url(&remove));
    desk.find("//h1[normalize-space()=\"Confirm it's you\"]");
    desk.screenshot("sudo-reauth-1280");
    phone.login_as(&fx.srv, "ada@example.com");
    diesel::update(sessions::table)
        .set(sessions::proved_at.eq(sessions::proved_at - 3600))
        .execute(&mut fx.srv.conn())
        .expect("age");
    phone.goto(&fx.srv.url(&remove));
    phone.find("//h1[normalize-space()=\"Confirm it's you\"]");
    phone.screenshot("sudo-reauth-390");
    // A wrong password, then the right one: back to the confirm page.
    desk.fill("Password", "not the password");
    desk.submit_label("Confirm");
    desk.find("//p[@role='alert'][normalize-space()='Incorrect password.']");
    desk.fill("Password", PASSWORD);
    desk.submit_label("Confirm");
    desk.find("//button[normalize-space()='Remove from workspace']");
    assert!(desk.url().ends_with(&remove), "{}", desk.url());
}
