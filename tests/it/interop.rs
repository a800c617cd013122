//! Interop with a standard OAuth client someone else wrote (the `oauth2`
//! crate): authorization code with PKCE and client_secret_basic, refresh,
//! introspection and revocation against the running server, so the wire
//! format is checked against more than our own reading of the RFCs.

use crate::kit::*;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IntrospectionUrl,
    PkceCodeChallenge, RedirectUrl, RevocationUrl, Scope, StandardRevocableToken,
    TokenIntrospectionResponse, TokenResponse, TokenUrl,
};

#[test]
fn oauth2_crate_runs_code_pkce_refresh_introspect_revoke() {
    let fx = fixture();
    let iss = fx.srv.base.clone();
    let client = BasicClient::new(ClientId::new(fx.conf.integration.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            fx.conf.client_secret.clone().expect("secret"),
        ))
        .set_auth_uri(AuthUrl::new(format!("{iss}/v1/oauth/authorize")).expect("url"))
        .set_token_uri(TokenUrl::new(format!("{iss}/v1/oauth/token")).expect("url"))
        .set_introspection_url(
            IntrospectionUrl::new(format!("{iss}/v1/oauth/introspect")).expect("url"),
        )
        .set_revocation_url(RevocationUrl::new(format!("{iss}/v1/oauth/revoke")).expect("url"))
        .set_redirect_uri(RedirectUrl::new("https://partner.example/cb".into()).expect("url"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("read_content".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The person's part: log in, open the URL the client built, allow.
    let browser = logged_in(&fx.srv, "ada@example.com");
    let page = browser
        .get(auth_url.as_str())
        .send()
        .expect("authorize")
        .text()
        .expect("body");
    let r = answer(&fx, &browser, &page, "allow", &[fx.eng.id.as_str()]);
    let back = url::Url::parse(&location(&r)).expect("redirect");
    let q: std::collections::HashMap<String, String> = back.query_pairs().into_owned().collect();
    assert_eq!(q.get("state"), Some(csrf.secret()));
    assert_eq!(q.get("iss"), Some(&fx.srv.config.server.issuer));

    let http = oauth2::reqwest::blocking::ClientBuilder::new()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let token = client
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .set_pkce_verifier(verifier)
        .request(&http)
        .expect("code exchange");
    assert_eq!(token.scopes().map(|s| s.len()), Some(1));
    let refresh = token.refresh_token().expect("refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .request(&http)
        .expect("refresh");
    let intro = client
        .introspect(refreshed.access_token())
        .request(&http)
        .expect("introspect");
    assert!(intro.active());
    let old = client
        .introspect(token.access_token())
        .request(&http)
        .expect("introspect");
    assert!(
        old.active(),
        "rotation keeps the old access token until it expires"
    );
    let new_refresh = refreshed.refresh_token().expect("rotated").clone();
    // The crate refuses to revoke over plain http (its own policy, InsecureUrl),
    // and the test server is plain http; so this one step is a form POST.
    let _ = StandardRevocableToken::from(new_refresh.clone());
    let r = bare_client()
        .post(format!("{iss}/v1/oauth/revoke"))
        .basic_auth(
            &fx.conf.integration.client_id,
            fx.conf.client_secret.as_deref(),
        )
        .form(&[
            ("token", new_refresh.secret().as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .expect("revoke");
    assert_eq!(r.status(), 200);
    let after = client
        .introspect(refreshed.access_token())
        .request(&http)
        .expect("introspect");
    assert!(!after.active());
    assert!(
        client
            .exchange_refresh_token(&refresh)
            .request(&http)
            .is_err(),
        "reuse refused"
    );
}
