//! Validation of `GET /v1/oauth/authorize`, in the order the contract needs:
//! first the client and the redirect URI, which decide whether an error may be
//! redirected at all (S3–S7, S13: never redirect anywhere unverified); then
//! everything else, whose errors go back to the client as a 303 carrying
//! `error`, `error_description`, `state` and `iss` (S10–S17).

use std::borrow::Cow;

use oxide_auth::primitives::registrar::{
    BoundClient, ClientUrl, ExactUrl, Registrar, RegistrarError,
};
use oxide_auth::primitives::scope::Scope;

use crate::db::models::{ClientType, IntegrationKind};
use oxide_auth::primitives::authorizer::Authorizer;
use oxide_auth::primitives::grant::{Extensions, Grant};

use crate::config::Config;
use crate::db::models::{Session, User};
use crate::db::{self, Conn};
use crate::domain::consent::{self, Answer, Approval, Decision, PromptValue};
use crate::error::{AppError, AppResult, Capability};
use crate::oauth::endpoint::{CodeBinding, DbAuthorizer, DbRegistrar, OFFLINE_ACCESS};

/// Parameters the endpoint reads; any of them twice is `invalid_request` (S13).
const KNOWN: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "state",
    "scope",
    "owner",
    "code_challenge",
    "code_challenge_method",
    "workspace_id",
    "prompt",
    "max_age",
];

/// The longest `state` kept for a pending request and echoed back: room for
/// any client's nonce or encoded return path, not for filling the disk.
pub const MAX_STATE_BYTES: usize = 2048;

/// An error the client gets at its redirect URI.
#[derive(Debug, Clone)]
pub struct ErrorRedirect {
    pub redirect_uri: String,
    pub error: &'static str,
    pub description: String,
    pub state: Option<String>,
}

impl ErrorRedirect {
    pub fn location(&self, issuer: &str) -> String {
        let mut params = vec![
            ("error", self.error),
            ("error_description", self.description.as_str()),
        ];
        if let Some(s) = &self.state {
            params.push(("state", s.as_str()));
        }
        params.push(("iss", issuer));
        redirect_with(&self.redirect_uri, &params)
    }
}

#[derive(Debug)]
pub enum AuthorizeError {
    /// No verified redirect URI: the person gets an error page (400).
    Page(String),
    /// The client gets the error at its verified redirect URI.
    Redirect(ErrorRedirect),
    /// The same error for a client a user registered (`/developers`) rather
    /// than the operator: an error page with a plain link to the client, never
    /// an automatic redirect, so nobody can turn the endpoint into an open
    /// redirector by registering a URI (RFC 9700 §4.11.2, issue 15 #7).
    Link {
        redirect: ErrorRedirect,
        integration_name: String,
    },
    /// Not a refusal: the server failed (an error page, logged).
    Failed(AppError),
}

impl From<AppError> for AuthorizeError {
    fn from(e: AppError) -> Self {
        AuthorizeError::Failed(e)
    }
}

impl From<diesel::result::Error> for AuthorizeError {
    fn from(e: diesel::result::Error) -> Self {
        AuthorizeError::Failed(e.into())
    }
}

impl AuthorizeError {
    /// An error for the client at its verified redirect URI: redirected
    /// there, unless no operator vouched for the client's redirect URIs
    /// (made at `/developers` or registered by itself), when it is a page
    /// with a link instead.
    pub fn at_client(
        redirect: ErrorRedirect,
        integration: &crate::db::models::Integration,
    ) -> Self {
        if integration.created_by.is_some() || integration.dynamic {
            AuthorizeError::Link {
                redirect,
                integration_name: integration.name.clone(),
            }
        } else {
            AuthorizeError::Redirect(redirect)
        }
    }
}

pub use crate::domain::consent::Prompt;

/// A request that passed every check: what the consent page shows.
pub use crate::domain::consent::ConsentRequest as ValidRequest;

/// Appends parameters to a redirect URI, keeping its own query byte for byte (S8).
pub fn redirect_with(uri: &str, params: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    let sep = match uri.find('?') {
        None => "?",
        Some(_) if uri.ends_with('?') || uri.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{uri}{sep}{}", ser.finish())
}

/// The authorize URL for the same request with another value of one parameter.
pub fn authorize_url_with(pairs: &[(String, String)], key: &str, value: &str) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(k, _)| k != key) {
        ser.append_pair(k, v);
    }
    ser.append_pair(key, value);
    format!("/v1/oauth/authorize?{}", ser.finish())
}

/// The PKCE parameters of a request, or why they are refused.
fn check_pkce(
    challenge: Option<&str>,
    method: Option<&str>,
    public: bool,
) -> Result<(), &'static str> {
    match (challenge, method) {
        (None, None) if public => Err(
            "code_challenge is required for public and self-registered clients (PKCE with S256)",
        ),
        (None, None) => Ok(()),
        (Some(_), None) => Err("code_challenge_method is required and must be S256"),
        (None, Some(_)) => Err("code_challenge_method was sent without code_challenge"),
        (Some(c), Some("S256")) if !valid_challenge(c) => {
            Err("code_challenge must be 43 to 128 unreserved characters")
        }
        (Some(_), Some("S256")) => Ok(()),
        (Some(_), Some(_)) => Err("only code_challenge_method=S256 is supported"),
    }
}

/// A PKCE challenge: 43 to 128 characters of the unreserved set (RFC 7636 §4.2).
fn valid_challenge(c: &str) -> bool {
    (43..=128).contains(&c.len())
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Every value of parameter `k`, in order.
fn values<'a>(pairs: &'a [(String, String)], k: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// A client with a verified redirect URI (and whether one was sent).
type Verified = (
    DbRegistrar,
    crate::db::models::Integration,
    BoundClient<'static>,
    Option<String>,
);

/// Steps 1 and 2 of `validate`: the client and its redirect URI. Until both
/// are verified nothing may redirect (S4), so every refusal here is a page.
fn verified_client(
    conn: &mut Conn,
    cfg: &Config,
    pairs: &[(String, String)],
) -> Result<Verified, AuthorizeError> {
    let all = |k: &str| values(pairs, k);
    let refuse = |m: &str| Err(AuthorizeError::Page(m.to_string()));
    // 1. The client.
    let client_id = match all("client_id").as_slice() {
        [] | [""] => {
            return refuse(
                "This link does not say which integration is asking (client_id is missing).",
            )
        }
        [one] => one.to_string(),
        _ => {
            return refuse(
                "This link names the integration more than once (client_id is repeated).",
            )
        }
    };
    let registrar = DbRegistrar::load(conn, &client_id)?;
    let Some(integration) = registrar.integration().cloned() else {
        // A client the purge deleted: its app still holds the id (mcp-remote
        // keeps it for good), and only a fresh sign-in from the app
        // registers it again (issue 25 #5).
        if let Some(name) = crate::db::queries::integrations::tombstone(conn, &client_id)? {
            return Err(AuthorizeError::Page(format!(
                "The app '{name}' signed in with a registration this server has since deleted because it went unused. Start signing in again from the app: close this page, then disconnect and reconnect this server in the app or clear the sign-in it saved (for mcp-remote: remove ~/.mcp-auth); it will register again and come back here."
            )));
        }
        return refuse(
            "No integration with this client_id is registered here, so nothing can be connected.",
        );
    };
    // A dynamic or CIMD client stays while authorization requests keep
    // naming it: the purge counts its unused time from here.
    // Written at most every tenth of the TTL (and at least once a minute),
    // not on every request.
    if integration.dynamic {
        let gap = (cfg.registration.unused_ttl_s / 10).clamp(0, 60);
        crate::db::queries::integrations::touch_used(
            conn,
            &integration.id,
            crate::db::models::now(),
            gap,
        )?;
    }
    if integration.kind != IntegrationKind::Public {
        return refuse("This is an internal integration; it uses a workspace token and cannot be connected through this page.");
    }

    // 2. The redirect URI: until it is verified, nothing is redirected (S4).
    let sent = match all("redirect_uri").as_slice() {
        [] => None,
        [one] => Some(one.to_string()),
        _ => return refuse("This link gives more than one redirect_uri."),
    };
    let exact = match &sent {
        Some(s) => match ExactUrl::new(s.clone()) {
            Ok(e) => Some(Cow::Owned(e)),
            Err(_) => return refuse("The redirect_uri in this link is not a valid URL, so the integration cannot be sent back."),
        },
        None => None,
    };
    let bound = match registrar.bound_redirect(ClientUrl {
        client_id: Cow::Borrowed(client_id.as_str()),
        redirect_uri: exact,
    }) {
        Ok(b) => b,
        Err(_) if sent.is_none() => {
            return refuse("This link gives no redirect_uri, and the integration has registered several; it must say which.")
        }
        Err(_) => {
            return refuse("The redirect_uri in this link is not registered for this integration, so you will not be sent there.")
        }
    };

    let bound = BoundClient {
        client_id: Cow::Owned(bound.client_id.into_owned()),
        redirect_uri: Cow::Owned(bound.redirect_uri.into_owned()),
    };
    Ok((registrar, integration, bound, sent))
}

pub fn validate(
    conn: &mut Conn,
    cfg: &Config,
    raw_query: &str,
) -> Result<ValidRequest, AuthorizeError> {
    let issuer = cfg.server.issuer.as_str();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw_query.as_bytes())
        .into_owned()
        .collect();
    let all = |k: &str| values(&pairs, k);
    let (registrar, integration, bound, sent) = verified_client(conn, cfg, &pairs)?;
    let redirect_uri = bound.redirect_uri.as_str().to_string();

    // 3. Everything else answers at the verified redirect URI.
    let states = all("state");
    // An over-long state is neither stored nor echoed (issue 15 #3).
    let long_state = states.iter().any(|s| s.len() > MAX_STATE_BYTES);
    let state = match states.as_slice() {
        [one] if !long_state => Some(one.to_string()),
        _ => None,
    };
    let fail = |error: &'static str, description: &str| {
        let redirect = ErrorRedirect {
            redirect_uri: redirect_uri.clone(),
            error,
            description: description.to_string(),
            state: state.clone(),
        };
        Err(AuthorizeError::at_client(redirect, &integration))
    };
    if let Some(dup) = KNOWN.iter().find(|k| all(k).len() > 1) {
        return fail(
            "invalid_request",
            &format!("the parameter {dup} is repeated"),
        );
    }
    if long_state {
        return fail(
            "invalid_request",
            &format!("state is longer than {MAX_STATE_BYTES} bytes"),
        );
    }
    match all("response_type").first().copied() {
        None | Some("") => return fail("invalid_request", "response_type is missing"),
        Some("code") => {}
        Some(_) => {
            return fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            )
        }
    }
    match all("owner").first().copied() {
        None | Some("user") => {}
        Some(_) => return fail("invalid_request", "owner must be user"),
    }
    let mut prompt = Prompt::default();
    let Ok(words) = PromptValue::words(all("prompt").first().copied().unwrap_or("")) else {
        return fail(
            "invalid_request",
            "prompt may hold only none, login and consent",
        );
    };
    prompt.none = words.contains(&PromptValue::None);
    prompt.login = words.contains(&PromptValue::Login);
    // max_age: honoured (a login again when the session is older), never
    // accepted and ignored; a value that is not a whole number of seconds
    // is refused.
    if let Some(m) = all("max_age").first() {
        match m.parse::<u32>() {
            Ok(m) => prompt.max_age = Some(i64::from(m)),
            Err(_) => {
                return fail(
                    "invalid_request",
                    "max_age must be a whole number of seconds",
                )
            }
        }
    }
    if prompt.none && words.len() > 1 {
        return fail(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        );
    }
    // offline_access asks for a refresh token, which every grant gets: it
    // is accepted and is not a capability. When asked, it stays in the
    // granted scope (below), so the token responses echo it and clients
    // that compare asked and granted scopes (oauthlib) see no change.
    let offline = all("scope")
        .first()
        .is_some_and(|s| s.split(' ').any(|n| n == OFFLINE_ACCESS));
    let scope_text: Option<String> = all("scope").first().map(|s| {
        s.split(' ')
            .filter(|n| *n != OFFLINE_ACCESS)
            .collect::<Vec<_>>()
            .join(" ")
    });
    let asked: Option<Scope> = match scope_text.as_deref() {
        None | Some("") => None,
        Some(s) => {
            let names: Vec<&str> = s.split(' ').collect();
            if names.iter().any(|n| Capability::parse(n).is_none()) {
                return fail("invalid_scope", "the scope names an unknown capability");
            }
            match s.parse() {
                Ok(scope) => Some(scope),
                Err(_) => return fail("invalid_scope", "the scope is malformed"),
            }
        }
    };
    let pre = match registrar.negotiate(bound, asked) {
        Ok(p) => p,
        Err(RegistrarError::Unspecified) => {
            return fail(
                "invalid_scope",
                "the scope asks for more than the integration's capabilities",
            )
        }
        Err(RegistrarError::PrimitiveError) => {
            return Err(
                AppError::internal("integration capabilities do not parse as a scope").into(),
            )
        }
    };

    // RFC 8707: each resource must be one this server issues tokens for.
    let mut resources: Vec<&str> = Vec::new();
    for r in all("resource") {
        if !crate::domain::resource::is_known(issuer, r) {
            return fail(
                "invalid_target",
                "the resource is not one this server issues tokens for",
            );
        }
        if !resources.contains(&r) {
            resources.push(r);
        }
    }

    // PKCE: S256 only; required for public clients (S16, S17) and for every
    // client that registered itself (DESIGN §7).
    let challenge = all("code_challenge").first().map(|s| s.to_string());
    let method = all("code_challenge_method").first().map(|s| s.to_string());
    let public = integration.client_type == ClientType::Public || integration.dynamic;
    if let Err(why) = check_pkce(challenge.as_deref(), method.as_deref(), public) {
        return fail("invalid_request", why);
    }

    Ok(ValidRequest {
        integration,
        redirect_uri,
        redirect_uri_sent: sent.is_some(),
        state,
        scope: with_offline(crate::oauth::endpoint::scope_string(&pre.scope), offline),
        code_challenge: challenge,
        code_challenge_method: method,
        workspace_id: all("workspace_id").first().map(|s| s.to_string()),
        prompt,
        resource: resources.join(" "),
        pairs,
    })
}

/// The granted capabilities, plus `offline_access` when the request asked
/// for it (it is honoured: every grant gets a refresh token).
fn with_offline(scope: String, offline: bool) -> String {
    match (offline, scope.is_empty()) {
        (false, _) => scope,
        (true, true) => OFFLINE_ACCESS.to_string(),
        (true, false) => format!("{scope} {OFFLINE_ACCESS}"),
    }
}

/// Answers a pending request (`domain::consent::decide`) and tells the
/// client at its redirect URI: a code (with `state` and `iss`, RFC 9207) or
/// `access_denied`. One transaction: the code exists only if the answer
/// was recorded.
pub fn answer(
    conn: &mut Conn,
    cfg: &Config,
    user: &User,
    session: &Session,
    d: Decision,
) -> AppResult<String> {
    let issuer = cfg.server.issuer.as_str();
    db::write_tx(conn, |conn| {
        match consent::decide(conn, user, session, d)? {
            Answer::Denied(pending) => Ok(ErrorRedirect {
                redirect_uri: pending.redirect_uri,
                error: "access_denied",
                description: "the user declined the request".into(),
                state: pending.state,
            }
            .location(issuer)),
            Answer::Approved(a) => {
                let code = issue_code(conn, cfg, &a)?;
                let mut params = vec![("code", code.as_str())];
                if let Some(s) = &a.pending.state {
                    params.push(("state", s.as_str()));
                }
                params.push(("iss", issuer));
                Ok(redirect_with(&a.pending.redirect_uri, &params))
            }
        }
    })
}

/// The authorization code for an approval, through oxide-auth's authorizer.
fn issue_code(conn: &mut Conn, cfg: &Config, a: &Approval) -> AppResult<String> {
    let redirect = url::Url::parse(&a.pending.redirect_uri)
        .map_err(|_| AppError::internal("stored redirect URI does not parse"))?;
    let scope = a
        .pending
        .scope
        .parse()
        .map_err(|_| AppError::internal("stored scope does not parse"))?;
    let until = chrono::Utc::now() + chrono::Duration::seconds(cfg.tokens.code_ttl_s);
    let mut authorizer = DbAuthorizer::issuing(
        conn,
        CodeBinding {
            integration_id: a.integration.id.clone(),
            user_id: a.user_id.clone(),
            workspace_id: a.workspace_id.clone(),
            connection_id: a.connection_id.clone(),
            redirect_uri_sent: a
                .pending
                .redirect_uri_sent
                .then(|| a.pending.redirect_uri.clone()),
            code_challenge: a.pending.code_challenge.clone(),
            code_challenge_method: a.pending.code_challenge_method.clone(),
            resource: a.pending.resource.clone(),
        },
    );
    authorizer
        .authorize(Grant {
            owner_id: a.connection_id.to_string(),
            client_id: a.integration.client_id.clone(),
            scope,
            redirect_uri: redirect,
            until,
            extensions: Extensions::new(),
        })
        .map_err(|_| AppError::internal("issuing a code failed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_keeps_the_registered_query_s8() {
        assert_eq!(
            redirect_with("https://p.example/cb", &[("code", "a b")]),
            "https://p.example/cb?code=a+b"
        );
        assert_eq!(
            redirect_with("https://p.example/cb?x=1&y=%2F", &[("code", "c")]),
            "https://p.example/cb?x=1&y=%2F&code=c"
        );
        assert_eq!(
            redirect_with("https://p.example/cb?", &[("code", "c")]),
            "https://p.example/cb?code=c"
        );
    }

    #[test]
    fn challenge_shape_s17() {
        assert!(valid_challenge(&"a".repeat(43)));
        assert!(valid_challenge(&"A-._~".repeat(10)));
        assert!(!valid_challenge(&"a".repeat(42)));
        assert!(!valid_challenge(&"a".repeat(129)));
        assert!(!valid_challenge(&format!("{}+", "a".repeat(43))));
    }
}
