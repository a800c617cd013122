//! Clients identified by a Client ID Metadata Document (CIMD,
//! draft-ietf-oauth-client-id-metadata-document): the `client_id` is an
//! https URL, and the JSON document served there says who the client is.
//! This module owns the rules on the URL and the document (DESIGN §7,
//! SECURITY S61, S62) and the cache: a CIMD client is materialised as a
//! public, dynamic integration whose row carries `cimd_expires_at`, so
//! consent, connections, blocking and the install policy work unchanged and
//! every instance shares the cache. No network here: `oauth::cimd` fetches.

use serde_json::Value;

use crate::config::RegistrationConfig;
use crate::crypto::SecretBox;
use crate::db::models::{now, ApplicationType, AuthMethod};
use crate::db::queries::integrations;
use crate::db::{self, Conn};
use crate::domain::integrations::{self as integ, DynamicFields, NewIntegration};
use crate::domain::registration::{self, ClientMetadata};
use crate::error::{AppError, AppResult, Refusal};

/// Whether a `client_id` is meant as a document's URL: any http(s) URL is,
/// so one that breaks a rule gets that rule's reason, not "unknown client".
pub fn looks_like_url(client_id: &str) -> bool {
    let lower = client_id.get(..8).unwrap_or(client_id).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// `127.0.0.1` (any of 127/8), `[::1]` or `localhost`: the only hosts
/// `registration.cimd_dev_loopback` lets through.
pub fn is_loopback_name(u: &url::Url) -> bool {
    crate::domain::integrations::is_loopback_host(u)
}

/// The host a person is shown for the client ("claude.ai"; with its port
/// when the URL names one).
pub fn verified_host(u: &url::Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => String::new(),
    }
}

/// The rules on the URL itself (the draft's §3): https with a path, no
/// dot segments, fragment or credentials, written in its normal form (so
/// one document is one client), and a host `cimd_allowed_hosts` allows.
/// `http` only on loopback with `cimd_dev_loopback`.
pub fn check_url(cfg: &RegistrationConfig, client_id: &str) -> Result<url::Url, String> {
    let Ok(u) = url::Url::parse(client_id) else {
        return Err("the client_id is not a valid URL".into());
    };
    match u.scheme() {
        "https" => {}
        "http" if cfg.cimd_dev_loopback && is_loopback_name(&u) => {}
        _ => return Err("the client_id URL must use https".into()),
    }
    if client_id.len() > 2000 {
        return Err("the client_id URL is longer than 2000 characters".into());
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("the client_id URL must not carry a user name or password".into());
    }
    if u.fragment().is_some() {
        return Err("the client_id URL must not have a fragment".into());
    }
    let raw_path = client_id
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("");
    let raw_path = raw_path.split(['?', '#']).next().unwrap_or("");
    if raw_path.split('/').any(|seg| seg == "." || seg == "..") {
        return Err("the client_id URL must not have . or .. path segments".into());
    }
    if u.path() == "/" || u.path().is_empty() {
        return Err(
            "the client_id URL must have a path (e.g. https://app.example/oauth/client.json)"
                .into(),
        );
    }
    if u.as_str() != client_id {
        return Err(format!(
            "the client_id URL must be written in its normal form, {}",
            u.as_str()
        ));
    }
    let host = u.host_str().unwrap_or_default();
    if !cfg.cimd_allowed_hosts.is_empty() && !cfg.cimd_allowed_hosts.iter().any(|h| h == host) {
        return Err(format!(
            "{host} is not among the hosts this server accepts client metadata documents from"
        ));
    }
    Ok(u)
}

/// How long a fetched document is trusted: its `Cache-Control: max-age`
/// (0 for `no-cache`/`no-store`; the minimum when absent), within
/// `cimd_cache_min_s..=cimd_cache_max_s`.
pub fn cache_seconds(cfg: &RegistrationConfig, cache_control: Option<&str>) -> i64 {
    let mut secs: Option<i64> = None;
    for d in cache_control.unwrap_or("").split(',').map(str::trim) {
        let lower = d.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            secs = Some(0);
            break;
        }
        if let Some(v) = lower.strip_prefix("max-age=") {
            if let Ok(n) = v.trim_matches('"').parse::<i64>() {
                secs = Some(n);
            }
        }
    }
    secs.unwrap_or(cfg.cimd_cache_min_s)
        .clamp(cfg.cimd_cache_min_s, cfg.cimd_cache_max_s)
}

/// The document as fetched from `client_id`: valid JSON, its `client_id`
/// equal to the URL byte for byte, `none` as its token endpoint method
/// (alone, or among `token_endpoint_auth_methods_supported` as ChatGPT
/// sends it), no client secret, and every rule a registration follows
/// (redirect URIs, grant and response types, links, scope).
pub fn check_document(
    cfg: &RegistrationConfig,
    client_id: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<registration::Checked, String> {
    if !json_media_type(content_type) {
        return Err(format!(
            "the document is not JSON: it is served as {}, and application/json (or a +json type) is required",
            content_type
                .map(|c| c.split(';').next().unwrap_or("").trim())
                .filter(|c| !c.is_empty() && c.len() <= 100 && c.bytes().all(|b| b.is_ascii_graphic()))
                .unwrap_or("no Content-Type")
        ));
    }
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Err("the document is not JSON".into());
    };
    let Some(obj) = v.as_object() else {
        return Err("the document is not a JSON object".into());
    };
    match obj.get("client_id").and_then(Value::as_str) {
        Some(id) if id == client_id => {}
        Some(_) => return Err("the document's client_id is not exactly its own URL".into()),
        None => return Err("the document has no client_id".into()),
    }
    // A document is public; a secret in it would be no secret (draft §4.1).
    if obj.contains_key("client_secret") || obj.contains_key("client_secret_expires_at") {
        return Err("the document must not hold a client_secret".into());
    }
    let mut m: ClientMetadata = serde_json::from_value(v.clone())
        .map_err(|e| format!("the document's field {} has the wrong type", e))?;
    let none = match (
        &m.token_endpoint_auth_method,
        &m.token_endpoint_auth_methods_supported,
    ) {
        (Some(one), _) => AuthMethod::parse(one) == Some(AuthMethod::None),
        (None, Some(list)) => list
            .iter()
            .any(|l| AuthMethod::parse(l) == Some(AuthMethod::None)),
        (None, None) => false,
    };
    if !none {
        return Err(
            "the document must name none as its token_endpoint_auth_method (a public client using PKCE)"
                .into(),
        );
    }
    m.token_endpoint_auth_method = Some(AuthMethod::None.to_string());
    // Documents rarely name a scope (Claude's and ChatGPT's do not), and MCP
    // clients then ask for every scope the protected resource lists: a
    // document without one may ask for any of those, and the person
    // decides on the consent page, which lists what is asked.
    if m.scope.as_deref().is_none_or(|s| s.trim().is_empty()) {
        m.scope = Some(crate::error::Capability::join(
            crate::db::models::ASKABLE_CAPABILITIES,
        ));
    }
    registration::check(&m, &cfg.native_schemes)
        .map_err(|why| format!("the document is refused: {why}"))
}

/// Whether a `Content-Type` names JSON: `application/json` or any
/// `+json` structured syntax suffix (RFC 6839), parameters ignored. A
/// document served as `text/html` is a web page, not a client's metadata
/// (S61).
pub fn json_media_type(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", sub)) => sub == "json" || sub.ends_with("+json"),
        _ => false,
    }
}

/// Spends one unit of each of two hourly budgets (`per_ip` for this
/// address, `total` for everyone); `Err(Throttled)` when either is spent,
/// giving back what was taken.
fn spend(conn: &mut Conn, what: &str, ip: &str, per_ip: u32, total: u32) -> AppResult<()> {
    use crate::db::queries::throttle;
    // The registrations' hourly window, so `longest_window_s` (what the
    // clean-up of closed windows keeps) covers these counters too.
    const HOUR: i64 = crate::config::REGISTRATION_WINDOW_S;
    let t = now();
    let keys = [format!("cimd:{what}:ip:{ip}"), format!("cimd:{what}:all")];
    let mut taken = Vec::new();
    for (key, cap) in keys.iter().zip([per_ip, total]) {
        let got = throttle::take(conn, key, t, HOUR)?;
        taken.push((key, got.window_start));
        if got.failures > cap as i32 {
            for (k, start) in &taken {
                throttle::give_back(conn, k, *start)?;
            }
            return Err(AppError::Throttled((got.window_start + HOUR - t).max(1)));
        }
    }
    Ok(())
}

/// One document fetch from `ip`, within `registration.cimd_fetches_per_ip_per_hour`
/// and `cimd_fetches_per_hour` (S71): every fetch is a request pagegrant
/// sends on someone else's behalf.
pub fn spend_fetch(conn: &mut Conn, cfg: &RegistrationConfig, ip: &str) -> AppResult<()> {
    spend(
        conn,
        "fetch",
        ip,
        cfg.cimd_fetches_per_ip_per_hour,
        cfg.cimd_fetches_per_hour,
    )
}

/// Whether the client's cached document is still fresh.
pub fn fresh(conn: &mut Conn, client_id: &str) -> AppResult<bool> {
    Ok(integrations::by_client_id(conn, client_id)?
        .and_then(|i| i.cimd_expires_at)
        .is_some_and(|t| t > now()))
}

/// Materialises a checked document as the client's integration, new or
/// updated (name, redirect URIs, scope, links) until `expires_at`. A
/// redirect URI the document dropped stops working here (S62).
/// `Refusal::Document` when the document's name breaks the naming rules.
/// What `store` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Stored {
    /// The client's row reflects the document.
    Ready,
    /// No row, and none was made: nobody is logged in yet (S71).
    NotYet,
}

/// Where the document came from and who asked, for `store`.
pub struct Origin<'a> {
    pub client_id: &'a str,
    pub host: &'a str,
    pub ip: &'a str,
    /// A logged-in person asked: a new client may be stored.
    pub may_create: bool,
}

pub fn store(
    conn: &mut Conn,
    cfg: &RegistrationConfig,
    sbox: &SecretBox,
    o: &Origin<'_>,
    c: registration::Checked,
    expires_at: i64,
) -> AppResult<Stored> {
    let (client_id, host) = (o.client_id, o.host);
    if !o.may_create && integrations::by_client_id(conn, client_id)?.is_none() {
        return Ok(Stored::NotYet);
    }
    let out = db::write_tx(conn, |conn| {
        match integrations::by_client_id(conn, client_id)? {
            None => {
                // A new client row: within the per-address and total
                // budgets (S71); a person is logged in by now.
                spend(
                    conn,
                    "new",
                    o.ip,
                    cfg.cimd_new_clients_per_ip_per_hour,
                    cfg.cimd_new_clients_per_hour,
                )?;
                integ::register(
                    conn,
                    sbox,
                    NewIntegration {
                        name: c.name.clone(),
                        redirect_uris: c.uris.clone(),
                        public_client: true,
                        capabilities: vec![c.capabilities.clone()],
                        website_url: c.client_uri.clone(),
                        developer_name: Some(host.to_string()),
                        client_id: Some(client_id.to_string()),
                        dynamic: Some(DynamicFields {
                            registration_token_hash: None,
                            native: c.native,
                            token_endpoint_auth_method: AuthMethod::None,
                            client_uri: c.client_uri.clone(),
                            logo_uri: c.logo_uri.clone(),
                            cimd_expires_at: Some(expires_at),
                            native_schemes: cfg.native_schemes.clone(),
                        }),
                        ..Default::default()
                    },
                )?;
            }
            Some(i) if i.cimd_expires_at.is_none() => {
                return Err(AppError::invalid(
                    "this client_id belongs to an integration registered otherwise",
                ))
            }
            Some(i) => {
                integ::check_name(conn, c.name.trim(), false)?;
                integrations::update_dynamic(
                    conn,
                    &i.id,
                    &integrations::DynamicUpdate {
                        name: c.name.trim().to_string(),
                        developer_name: host.to_string(),
                        capabilities: c.capabilities.clone(),
                        application_type: Some(ApplicationType::of(c.native)),
                        token_endpoint_auth_method: Some(AuthMethod::None),
                        client_uri: c.client_uri.clone(),
                        website_url: c.client_uri.clone(),
                        logo_uri: c.logo_uri.clone(),
                    },
                )?;
                integrations::replace_redirect_uris(conn, &i.id, &c.uris)?;
                integrations::set_cimd_expiry(conn, &i.id, expires_at)?;
            }
        }
        Ok(())
    });
    match out {
        Ok(()) => Ok(Stored::Ready),
        Err(AppError::Invalid(why)) => {
            Err(Refusal::Document(format!("the document is refused: {why}")).into())
        }
        Err(e) => Err(e),
    }
}

/// Documents checked for requests nobody was logged in for, kept in
/// memory until they expire or someone logs in (bounded: the least
/// recently used go first), so the anonymous request and the logged-in one
/// after it cost one fetch and the database holds nothing until a person
/// reaches the consent page (S71). Per instance.
#[derive(Clone)]
pub struct Seen(std::sync::Arc<quick_cache::sync::Cache<String, (registration::Checked, i64)>>);

/// How many such documents an instance keeps.
const SEEN_CAPACITY: usize = 1000;

impl Default for Seen {
    fn default() -> Self {
        Seen(std::sync::Arc::new(quick_cache::sync::Cache::new(
            SEEN_CAPACITY,
        )))
    }
}

impl Seen {
    /// The document checked for `client_id`, while it has not expired.
    pub fn get(&self, client_id: &str) -> Option<(registration::Checked, i64)> {
        let t = now();
        self.0
            .get(client_id)
            .filter(|(_, expires_at)| *expires_at > t)
    }

    /// Keeps a checked document until `expires_at` (or until pushed out).
    pub fn insert(&self, client_id: String, entry: (registration::Checked, i64)) {
        self.0.insert(client_id, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RegistrationConfig {
        crate::config::Config::defaults()
            .map(|c| c.registration)
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn cache_control_is_clamped_to_5_minutes_and_24_hours_s62() {
        let c = cfg();
        assert_eq!(cache_seconds(&c, None), 300);
        assert_eq!(cache_seconds(&c, Some("public, max-age=3600")), 3600);
        assert_eq!(cache_seconds(&c, Some("max-age=10")), 300);
        assert_eq!(cache_seconds(&c, Some("max-age=999999")), 86400);
        assert_eq!(cache_seconds(&c, Some("no-store")), 300);
        assert_eq!(cache_seconds(&c, Some("max-age=x")), 300);
    }

    #[test]
    fn client_id_urls_s61() {
        let mut c = cfg();
        assert!(check_url(&c, "https://claude.ai/oauth/mcp-oauth-client-metadata").is_ok());
        for bad in [
            "https://claude.ai",
            "https://claude.ai/",
            "http://claude.ai/doc",
            "https://u:p@claude.ai/doc",
            "https://claude.ai/doc#x",
            "https://claude.ai/a/../doc",
            "https://claude.ai/./doc",
            "https://Claude.ai/doc",
            "http://127.0.0.1:8000/doc",
        ] {
            assert!(check_url(&c, bad).is_err(), "{bad}");
        }
        c.cimd_dev_loopback = true;
        assert!(check_url(&c, "http://127.0.0.1:8000/doc").is_ok());
        assert!(check_url(&c, "http://localhost:8000/doc").is_ok());
        assert!(check_url(&c, "http://claude.ai/doc").is_err());
        c.cimd_allowed_hosts = vec!["claude.ai".into()];
        assert!(check_url(&c, "https://claude.ai/doc").is_ok());
        assert!(check_url(&c, "https://chatgpt.com/doc").is_err());
    }
}
