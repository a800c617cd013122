//! Clients that register themselves (RFC 7591) and manage their
//! registration with its access token (RFC 7592): metadata rules, the
//! per-address throttle, and the clean-up of clients nobody connected.
//! DESIGN §7, SECURITY S58–S60. No HTTP here: `oauth::register` speaks it.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::{Config, REGISTRATION_WINDOW_S};
use crate::crypto::{self, SecretBox};
use crate::db::models::{now, ApplicationType, AuthMethod, ClientType, Integration};
use crate::db::queries::{integrations, throttle};
use crate::db::{self, Conn};
use crate::domain::integrations::{
    self as integ, check_redirect_uri, DynamicFields, NewIntegration, RedirectRules,
};
use crate::error::{AppError, AppResult, Refusal};

/// Most redirect URIs one client may register.
const MAX_REDIRECT_URIS: usize = 10;

/// The metadata pagegrant reads; any other field is ignored (RFC 7591 §2).
#[derive(Debug, Default, Deserialize)]
pub struct ClientMetadata {
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: Option<String>,
    /// What ChatGPT sends instead of the singular field.
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub scope: Option<String>,
    pub application_type: Option<String>,
    /// RFC 7592 update: must name the client it updates.
    pub client_id: Option<String>,
}

/// A registration that passed every rule, ready to store.
#[derive(Debug, Clone)]
pub struct Checked {
    pub name: String,
    pub uris: Vec<String>,
    pub method: AuthMethod,
    pub native: bool,
    pub capabilities: String,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
}

fn meta(m: impl Into<String>) -> Refusal {
    Refusal::Metadata(m.into())
}

/// The token endpoint method from the singular field, else from the plural
/// one (`none` first: a client that can do without a secret is public).
fn auth_method(m: &ClientMetadata) -> Result<AuthMethod, Refusal> {
    if let Some(one) = &m.token_endpoint_auth_method {
        return AuthMethod::parse(one).ok_or_else(|| {
            meta(format!(
                "token_endpoint_auth_method '{one}' is not supported; use none, client_secret_basic or client_secret_post"
            ))
        });
    }
    match &m.token_endpoint_auth_methods_supported {
        Some(list) => AuthMethod::ALL
            .iter()
            .copied()
            .find(|k| list.iter().any(|l| l == k.as_str()))
            .ok_or_else(|| meta("token_endpoint_auth_methods_supported names no method pagegrant supports (none, client_secret_basic, client_secret_post)")),
        // RFC 7591 §2: the default is client_secret_basic.
        None => Ok(AuthMethod::ClientSecretBasic),
    }
}

/// Every rule, before anything is stored (registrations and Client ID
/// Metadata Documents alike). `native_schemes` is
/// `registration.native_schemes`.
pub fn check(m: &ClientMetadata, native_schemes: &[String]) -> Result<Checked, Refusal> {
    let method = auth_method(m)?;
    if let Some(g) = &m.grant_types {
        if let Some(bad) = g
            .iter()
            .find(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token"))
        {
            return Err(meta(format!(
                "grant_types '{bad}' is not supported; use authorization_code and refresh_token"
            )));
        }
    }
    if let Some(r) = &m.response_types {
        if let Some(bad) = r.iter().find(|r| r.as_str() != "code") {
            return Err(meta(format!(
                "response_types '{bad}' is not supported; use code"
            )));
        }
    }
    if m.redirect_uris.is_empty() {
        return Err(Refusal::RedirectUri(
            "redirect_uris needs at least one URI".into(),
        ));
    }
    if m.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(Refusal::RedirectUri(format!(
            "at most {MAX_REDIRECT_URIS} redirect_uris may be registered"
        )));
    }
    // An absent application_type with an app's own scheme is a native app
    // (Cursor sends none); an explicit "web" keeps web rules.
    let native = match m
        .application_type
        .as_deref()
        .map(|a| (a, ApplicationType::parse(a)))
    {
        Some((_, Some(a))) => a == ApplicationType::Native,
        None => m
            .redirect_uris
            .iter()
            .any(|u| !u.starts_with("https:") && !u.starts_with("http:")),
        Some((other, None)) => {
            return Err(meta(format!(
                "application_type '{other}' is not supported; use web or native"
            )))
        }
    };
    let rules = match native {
        true => RedirectRules::Native(native_schemes),
        false => RedirectRules::Web,
    };
    let mut uris: Vec<String> = Vec::new();
    for u in &m.redirect_uris {
        check_redirect_uri(u, rules)
            .map_err(|why| Refusal::RedirectUri(format!("redirect URI '{u}' {why}")))?;
        if !uris.contains(u) {
            uris.push(u.clone());
        }
    }
    for (field, v) in [("client_uri", &m.client_uri), ("logo_uri", &m.logo_uri)] {
        if let Some(v) = v {
            match url::Url::parse(v) {
                Ok(u) if u.scheme() == "https" && u.host_str().is_some() && v.len() <= 2000 => {}
                _ => return Err(meta(format!("{field} '{v}' must be an https URL"))),
            }
        }
    }
    let asked: Vec<String> = m
        .scope
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty() && *s != "offline_access")
        .map(String::from)
        .collect();
    let capabilities =
        integ::parse_capabilities(&asked).map_err(|e| meta(format!("scope: {}", plain(e))))?;
    let name = match m.client_name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => n.to_string(),
        // RFC 7591 makes client_name optional; the consent page needs words.
        _ => m
            .client_uri
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(String::from))
            .unwrap_or_else(|| "Unnamed app".into()),
    };
    Ok(Checked {
        name,
        uris,
        method,
        native,
        capabilities,
        client_uri: m.client_uri.clone(),
        logo_uri: m.logo_uri.clone(),
    })
}

fn plain(e: AppError) -> String {
    match e {
        AppError::Invalid(m) | AppError::Conflict(m) => m,
        other => other.to_string(),
    }
}

/// A new registration: what the client is told once.
pub struct Registered {
    pub integration: Integration,
    pub redirect_uris: Vec<String>,
    pub client_secret: Option<String>,
    pub registration_token: String,
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("integration", &self.integration)
            .field("client_secret", &"<hidden>")
            .field("registration_token", &"<hidden>")
            .finish()
    }
}

fn throttle_key(what: &str, ip: &str) -> String {
    format!("register:{what}:ip:{ip}")
}

/// How long until the window that opened at `window_start` closes.
fn wait(window_start: i64, t: i64) -> i64 {
    (window_start + REGISTRATION_WINDOW_S - t).max(1)
}

/// Counts one refused registration from `ip` (outside any transaction, so
/// the count stays) and passes the refusal on; past
/// `registration.max_refused_per_ip_per_hour` it is a 429 instead.
fn refused(conn: &mut Conn, cfg: &Config, ip: &str, r: Refusal) -> AppResult<Registered> {
    let t = now();
    let taken = throttle::take(conn, &throttle_key("refused", ip), t, REGISTRATION_WINDOW_S)?;
    if taken.failures > cfg.registration.max_refused_per_ip_per_hour as i32 {
        return Err(AppError::Throttled(wait(taken.window_start, t)));
    }
    Err(r.into())
}

/// RFC 7591 registration from `ip` (S60, S82). Only registrations that
/// succeed count toward `registration.max_per_ip_per_hour`; refused ones
/// count apart, against the higher `max_refused_per_ip_per_hour`, so one
/// broken client behind a shared address (a NAT) cannot spend the budget
/// of everyone behind it, and probing the rules is still bounded. Clients
/// nobody connected within `registration.unused_ttl_s` are purged (here and
/// on the server's timer), so the table stays bounded by the throttle
/// times the TTL.
pub fn register(
    conn: &mut Conn,
    cfg: &Config,
    sbox: &SecretBox,
    ip: &str,
    m: Result<ClientMetadata, Refusal>,
) -> AppResult<Registered> {
    let t = now();
    // Past the refusal cap, nothing more is judged this hour.
    if let Some((n, start)) =
        throttle::current(conn, &throttle_key("refused", ip), t, REGISTRATION_WINDOW_S)?
    {
        if n >= cfg.registration.max_refused_per_ip_per_hour as i32 {
            return Err(AppError::Throttled(wait(start, t)));
        }
    }
    let c = match m.and_then(|m| check(&m, &cfg.registration.native_schemes)) {
        Ok(c) => c,
        Err(r) => return refused(conn, cfg, ip, r),
    };
    // Taken before writing (one atomic count, so parallel registrations
    // cannot overshoot), given back if the write is refused.
    let key = throttle_key("ok", ip);
    let taken = throttle::take(conn, &key, t, REGISTRATION_WINDOW_S)?;
    if taken.failures > cfg.registration.max_per_ip_per_hour as i32 {
        throttle::give_back(conn, &key, taken.window_start)?;
        return Err(AppError::Throttled(wait(taken.window_start, t)));
    }
    purge(conn, cfg)?;
    let token = crypto::random_secret();
    let uris = c.uris.clone();
    let created = db::write_tx(conn, |conn| {
        integ::register(
            conn,
            sbox,
            NewIntegration {
                name: c.name.clone(),
                redirect_uris: c.uris.clone(),
                public_client: c.method == AuthMethod::None,
                capabilities: vec![c.capabilities.clone()],
                website_url: c.client_uri.clone(),
                dynamic: Some(DynamicFields {
                    registration_token_hash: Some(crypto::sha256_hex(&token)),
                    native: c.native,
                    token_endpoint_auth_method: c.method,
                    client_uri: c.client_uri.clone(),
                    logo_uri: c.logo_uri.clone(),
                    cimd_expires_at: None,
                    native_schemes: cfg.registration.native_schemes.clone(),
                }),
                ..Default::default()
            },
        )
    });
    match created {
        Ok(created) => Ok(Registered {
            integration: created.integration,
            redirect_uris: uris,
            client_secret: created.client_secret,
            registration_token: token,
        }),
        // The name rules (first-party names, spoofing characters) are metadata.
        Err(AppError::Invalid(why)) => {
            throttle::give_back(conn, &key, taken.window_start)?;
            refused(conn, cfg, ip, Refusal::Metadata(why))
        }
        Err(e) => Err(e),
    }
}

/// Deletes the dynamic and CIMD clients unused for `registration.unused_ttl_s`
/// (no connection, no authorization request since), leaving a tombstone for
/// each so an app still holding the id is told to sign in again; forgets
/// closed throttle windows; and forgets tombstones past
/// `registration.tombstone_ttl_s` or beyond `registration.max_tombstones`.
/// Run by registration and by the server's
/// timer (`server::run`), so it happens with registration turned off too.
pub fn purge(conn: &mut Conn, cfg: &Config) -> AppResult<usize> {
    let r = &cfg.registration;
    let t = now();
    db::write_tx(conn, |c| {
        let n = integrations::purge_unused_dynamic(c, t - r.unused_ttl_s, t)?;
        integrations::trim_tombstones(c, t - r.tombstone_ttl_s, i64::from(r.max_tombstones))?;
        // The per-address counters of registrations and CIMD fetches are
        // one row per address: closed windows go too, so they stay bounded
        // even when no login or client failure triggers that clean-up.
        throttle::purge_closed(c, t, cfg.security.longest_window_s())?;
        Ok(n)
    })
}

/// The dynamic client `client_id` if `token` is its registration access
/// token (compared as SHA-256 in constant time); `None` for anything else,
/// so a wrong token and an unknown client look alike (S59).
pub fn authenticate(
    conn: &mut Conn,
    client_id: &str,
    token: &str,
) -> AppResult<Option<Integration>> {
    let Some(i) = integrations::by_client_id(conn, client_id)? else {
        return Ok(None);
    };
    let ok = i.dynamic
        && i.registration_token_hash
            .as_deref()
            .is_some_and(|h| crypto::constant_time_eq(&crypto::sha256_hex(token), h));
    Ok(ok.then_some(i))
}

/// RFC 7592 update: the metadata replaces what was registered. The client
/// cannot switch between public and confidential (a secret would have to
/// appear or vanish); its redirect URIs, name, scope and links may change.
pub fn update(conn: &mut Conn, cfg: &Config, i: &Integration, m: &ClientMetadata) -> AppResult<()> {
    if m.client_id.as_deref() != Some(i.client_id.as_str()) {
        return Err(meta("client_id must be the client's own").into());
    }
    let c = check(m, &cfg.registration.native_schemes)?;
    let public = c.method == AuthMethod::None;
    if public != (i.client_type == ClientType::Public) {
        return Err(meta(
            "token_endpoint_auth_method cannot switch between none and a client secret; register a new client",
        )
        .into());
    }
    // The same name rule as every other path that names an integration (S74).
    let name = c.name.clone();
    match integ::check_name(conn, &name, false) {
        Ok(()) => {}
        Err(AppError::Invalid(why)) => return Err(meta(why).into()),
        Err(e) => return Err(e),
    }
    db::write_tx(conn, |conn| {
        integrations::update_dynamic(
            conn,
            &i.id,
            &integrations::DynamicUpdate {
                name: name.clone(),
                developer_name: name.clone(),
                capabilities: c.capabilities.clone(),
                application_type: Some(ApplicationType::of(c.native)),
                token_endpoint_auth_method: Some(c.method),
                client_uri: c.client_uri.clone(),
                website_url: c.client_uri.clone(),
                logo_uri: c.logo_uri.clone(),
            },
        )?;
        integrations::replace_redirect_uris(conn, &i.id, &c.uris)?;
        Ok(())
    })
}

/// RFC 7592 delete: every connection ends (tokens revoked at once), then
/// the client and everything hanging off it goes.
pub fn delete(conn: &mut Conn, i: &Integration) -> AppResult<()> {
    crate::domain::connections::delete_dynamic(conn, i)
}

/// The client's registration as RFC 7591 §3.2.1 describes it. The secret
/// appears only when just issued; it is stored hashed, so a read cannot show it.
pub fn describe(
    cfg: &Config,
    i: &Integration,
    redirect_uris: &[String],
    client_secret: Option<&str>,
    registration_token: &str,
) -> Value {
    let issuer = &cfg.server.issuer;
    let mut scope: Vec<&str> = i.capabilities.split(' ').collect();
    scope.push("offline_access");
    let mut v = json!({
        "client_id": i.client_id,
        "client_id_issued_at": i.created_at,
        // Secrets do not expire (RFC 7591 §3.2.1: 0 means never).
        "client_secret_expires_at": 0,
        "client_name": i.name,
        "redirect_uris": redirect_uris,
        "token_endpoint_auth_method": i.token_endpoint_auth_method.unwrap_or(AuthMethod::None).as_str(),
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": scope.join(" "),
        "application_type": i.application_type.unwrap_or(ApplicationType::Web).as_str(),
        "registration_access_token": registration_token,
        "registration_client_uri": format!("{issuer}/v1/oauth/register/{}", i.client_id),
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(s) = client_secret {
            o.insert("client_secret".into(), json!(s));
        }
        if let Some(u) = &i.client_uri {
            o.insert("client_uri".into(), json!(u));
        }
        if let Some(u) = &i.logo_uri {
            o.insert("logo_uri".into(), json!(u));
        }
    }
    v
}
