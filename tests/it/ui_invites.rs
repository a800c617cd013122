//! Browser tests of issue 27 item 5 (invitations) and item 11's Members
//! row: an owner invites someone without an account, copies the link, and
//! a second browser joins through it; the role select saves on change, and
//! the only owner's row says why it cannot change. Screenshots at 1280 and
//! 390 px (and dark) land in target/screenshots/.

use crate::kit::browser::*;
use crate::kit::*;
use pagegrant::db::models::Role;

fn open_members(d: &Driver) {
    d.click_label("Settings & members");
    d.click_label("Members");
    d.find("//a[normalize-space()='Members' and @aria-current='page']");
}

#[test]
fn browser_owner_invites_copies_the_link_and_a_second_browser_joins() {
    let fx = fixture();
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    open_members(&d);
    d.fill("Email", "nina@example.com");
    d.submit_label("Add members");
    d.find("//*[@role='status' and starts-with(normalize-space(), 'Invited nina@example.com.')]");
    let link = d.value("//input[@id='invite-link']");
    assert!(link.starts_with(&fx.srv.url("/invite/")), "{link}");
    // Copy: the button answers (headless chromium may refuse the clipboard,
    // and then says how to copy by hand).
    d.click_label("Copy");
    wait_for(
        || d.text("//button[@data-copy='invite-link']") != "Copy",
        "the Copy button answers",
    );
    d.find("//table[contains(@class,'invitations')]//tr[contains(., 'nina@example.com') and contains(., 'Ada')]");
    d.screenshot_both("invite-link-shown");

    // A second browser, nobody logged in, opens the link.
    let d2 = Driver::start();
    d2.goto(&link);
    d2.find("//h1[normalize-space()='Join Acme Corp']");
    d2.screenshot_both("invite-signup");
    d2.fill("Name", "Nina");
    d2.fill("Password", "nina's long password");
    d2.submit_label("Create account and join");
    d2.find("//aside[@aria-label='Sidebar']");
    assert!(
        d2.url().ends_with(&format!("/w/{}", fx.acme.id)),
        "{}",
        d2.url()
    );
    d2.find("//*[normalize-space()='Engineering']");
    d2.screenshot("invite-joined-1280");
    // The link works once.
    d2.goto(&link);
    d2.find("//h1[normalize-space()='This invitation has already been used']");
    d2.screenshot_both("invite-used");

    // The owner sees Nina as a member, and no pending invitation.
    d.goto(&fx.srv.url(&format!("/w/{}/settings/members", fx.acme.id)));
    d.find("//tr[contains(., 'nina@example.com')]//select");
    d.find("//p[normalize-space()='No pending invitations.']");

    // Revoke: a second invitation, then its link says it was withdrawn.
    d.fill("Email", "omar@example.com");
    d.submit_label("Add members");
    let second = d.value("//input[@id='invite-link']");
    d.reload();
    d.find("//tr[contains(., 'omar@example.com')]");
    assert!(
        d.find_all("//input[@id='invite-link']").is_empty(),
        "shown once"
    );
    d.rt.block_on(d.c().execute(
        "document.getElementById('pending-title').scrollIntoView()",
        vec![],
    ))
    .expect("scroll");
    d.screenshot("invite-pending-1280");
    d.click("//tr[contains(., 'omar@example.com')]//button[normalize-space()='Revoke']");
    d.find("//*[@role='status' and starts-with(normalize-space(), 'Revoked the invitation')]");
    d2.goto(&second);
    d2.find("//h1[normalize-space()='This invitation was revoked']");
}

#[test]
fn browser_role_select_saves_on_change_and_explains_the_only_owner() {
    let fx = fixture();
    let d = Driver::start();
    d.login_as(&fx.srv, "ada@example.com");
    open_members(&d);
    let ada_row = "//tr[contains(., 'ada@example.com')]";
    let grace_row = "//tr[contains(., 'grace@example.com')]";
    // The only owner: Member is disabled, and the row says why in words.
    d.find(&format!("{ada_row}//option[@value='member' and @disabled]"));
    d.find(&format!(
        "{ada_row}//*[normalize-space()=\"The only owner's role can't be changed. Make someone else an owner first.\"]"
    ));
    // With JavaScript the Save buttons are hidden: the select saves.
    let save = d.find(&format!("{grace_row}//button[normalize-space()='Save']"));
    assert!(!d.rt.block_on(save.is_displayed()).expect("displayed"));
    d.screenshot_both("members-role-select");
    // Dark mode, on a phone.
    let dark = Driver::start_with(390, 844, &["--blink-settings=preferredColorScheme=0"]);
    dark.login_as(&fx.srv, "ada@example.com");
    dark.goto(&fx.srv.url(&format!("/w/{}/settings/members", fx.acme.id)));
    dark.find("//*[contains(@class, 'role-why')]");
    dark.screenshot("members-role-select-dark-390");
    drop(dark);
    d.click(&format!("{grace_row}//select/option[@value='owner']"));
    d.find("//*[@role='status' and normalize-space()='Grace is now an owner of Acme Corp']");
    let role = pagegrant::db::queries::workspaces::membership(
        &mut fx.srv.conn(),
        &fx.acme.id,
        &fx.grace.id,
    )
    .expect("q")
    .map(|m| m.role);
    assert_eq!(role, Some(Role::Owner));
    // Two owners: nobody's options are disabled any more.
    assert!(d.find_all("//option[@disabled]").is_empty());
    d.screenshot("members-role-saved-1280");
}

#[test]
fn browser_role_select_without_javascript_saves_with_its_button() {
    let fx = fixture();
    let d = Driver::start_with(1280, 800, &["--blink-settings=scriptEnabled=false"]);
    d.login_as(&fx.srv, "ada@example.com");
    d.goto(&fx.srv.url(&format!("/w/{}/settings/members", fx.acme.id)));
    let grace_row = "//tr[contains(., 'grace@example.com')]";
    d.click(&format!("{grace_row}//select/option[@value='owner']"));
    d.click(&format!("{grace_row}//button[normalize-space()='Save']"));
    d.find("//*[@role='status' and normalize-space()='Grace is now an owner of Acme Corp']");
    d.screenshot("members-role-no-js-1280");
}
