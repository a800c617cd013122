//! Passkeys in Chromium (issue 28 items 1 and 6), with its virtual
//! authenticator (the WebDriver WebAuthn extension): a person adds a
//! passkey in My account → Passkeys, logs out, presses **Sign in with a
//! passkey** and lands in the workspace. The server's issuer is
//! `http://localhost:PORT`, as by default: browsers refuse passkeys at an IP
//! address.

use serde_json::json;

use crate::kit::browser::*;
use crate::kit::*;

/// A command of the WebDriver WebAuthn extension, under
/// `/session/{id}/webauthn/`.
#[derive(Debug)]
struct WebAuthn {
    method: http::Method,
    path: String,
    body: Option<serde_json::Value>,
}

impl fantoccini::wd::WebDriverCompatibleCommand for WebAuthn {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(|b| b.to_string()),
        )
    }
}

pub(crate) fn webauthn(
    d: &Driver,
    method: http::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let path = path.to_string();
    d.rt.block_on(d.c().issue_cmd(WebAuthn { method, path, body }))
        .expect("webauthn command")
}

/// A platform authenticator with resident keys and user verification that
/// always succeeds; answers its id.
pub(crate) fn add_authenticator(d: &Driver) -> String {
    let body = json!({
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": true,
        "hasUserVerification": true,
        "isUserVerified": true
    });
    let id = webauthn(d, http::Method::POST, "authenticator", Some(body));
    id.as_str().expect("authenticator id").to_string()
}

/// Takes the authenticator's credentials out (answering them), so the
/// login page's conditional request finds nothing to offer.
pub(crate) fn take_credentials(d: &Driver, auth: &str) -> Vec<serde_json::Value> {
    let path = format!("authenticator/{auth}/credentials");
    let creds = webauthn(d, http::Method::GET, &path, None);
    webauthn(d, http::Method::DELETE, &path, None);
    creds.as_array().cloned().unwrap_or_default()
}

pub(crate) fn put_credentials(d: &Driver, auth: &str, creds: Vec<serde_json::Value>) {
    for c in creds {
        webauthn(
            d,
            http::Method::POST,
            &format!("authenticator/{auth}/credential"),
            Some(c),
        );
    }
}

pub(crate) fn log_out(d: &Driver) {
    d.click("//summary[@aria-label='Switch workspace']");
    d.submit_label("Log out");
}

pub(crate) fn localhost_fixture() -> Fx {
    fixture_with(|c| c.server.issuer = c.server.issuer.replace("127.0.0.1", "localhost"))
}

pub(crate) fn log_in(d: &Driver, base: &str, email: &str) {
    d.goto(&format!("{base}/login"));
    d.fill("Email", email);
    d.fill("Password", PASSWORD);
    d.click_label("Log in");
    d.find("//aside[@aria-label='Sidebar']");
}

#[test]
fn a_person_adds_a_passkey_and_signs_in_with_it_in_chromium() {
    let fx = localhost_fixture();
    let base = fx.srv.config.server.issuer.clone();
    let d = Driver::start();
    let auth = add_authenticator(&d);
    log_in(&d, &base, "ada@example.com");

    d.goto(&format!("{base}/account/passkeys"));
    d.find("//p[normalize-space()='You have no passkeys yet.']");
    assert!(d.find_all("//*[@id='passkeys-unavailable']").is_empty());
    d.screenshot_both("passkeys-empty");
    d.fill("Name", "Chromium on Linux");
    d.click_label("Add a passkey");
    d.find("//td[normalize-space()='Chromium on Linux']");
    assert_eq!(d.text("//td[@data-label='Last used']"), "Never");
    assert_eq!(fx.srv.count("passkeys"), 1);
    d.screenshot_both("passkeys-added");

    // Conditional UI: the login page offers the passkey in the email
    // field's autofill, and the virtual authenticator picks it at once.
    log_out(&d);
    d.find("//aside[@aria-label='Sidebar']");
    assert!(d.url().starts_with(&format!("{base}/w/")), "{}", d.url());

    // The button: with nothing for autofill to offer when the page loads,
    // the passkey comes back before the person presses it.
    let creds = take_credentials(&d, &auth);
    assert_eq!(creds.len(), 1, "one discoverable credential: {creds:?}");
    log_out(&d);
    d.find("//button[normalize-space()='Sign in with a passkey']");
    d.screenshot_both("passkeys-login");
    put_credentials(&d, &auth, creds);
    d.click_label("Sign in with a passkey");
    d.find("//aside[@aria-label='Sidebar']");
    assert!(d.url().starts_with(&format!("{base}/w/")), "{}", d.url());

    d.goto(&format!("{base}/account/passkeys"));
    assert_ne!(d.text("//td[@data-label='Last used']"), "Never");
}

/// At a phone's width: the passkeys page and the login page's button.
#[test]
fn passkeys_at_390_px() {
    let fx = localhost_fixture();
    let base = fx.srv.config.server.issuer.clone();
    let d = Driver::start_phone(390, 844, &[]);
    let auth = add_authenticator(&d);
    log_in(&d, &base, "ada@example.com");
    d.goto(&format!("{base}/account/passkeys"));
    d.fill("Name", "Phone");
    d.click_label("Add a passkey");
    d.find("//td[normalize-space()='Phone']");
    let width: f64 =
        d.rt.block_on(
            d.c()
                .execute("return document.documentElement.scrollWidth", vec![]),
        )
        .expect("width")
        .as_f64()
        .expect("number");
    assert!(width <= 390.0, "the page scrolls sideways: {width}px");
    d.screenshot("passkeys-phone-390");
    take_credentials(&d, &auth);
    d.goto(&format!("{base}/developers"));
    log_out(&d);
    d.find("//button[normalize-space()='Sign in with a passkey']");
    d.screenshot("passkeys-phone-login-390");
}
