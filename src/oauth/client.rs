//! The body and client credentials of token, introspection and revocation
//! requests. Bodies may be JSON (what the Notion SDKs send) or a form (what RFC
//! clients send); credentials come by HTTP Basic (each half form-decoded,
//! S20), in the body (S21), or as a bare `client_id` for public clients.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::HttpRequest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use oxide_auth::primitives::registrar::Registrar;

use crate::db::models::Integration;
use crate::error::{AppResult, Refusal};
use crate::http::errors::OAuthError;
use crate::oauth::endpoint::DbRegistrar;

/// A parsed request body: each parameter once.
#[derive(Default)]
pub struct Params(HashMap<String, String>);

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values are codes, tokens and secrets.
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Params {
    /// Parameters built in-process (the demo partner calls the same services).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }
    pub fn has(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }
}

/// Reads a JSON or form body; anything else, or a parameter twice, is
/// `invalid_request`. Credentials in the query string are refused (S24).
pub fn parse(req: &HttpRequest, body: &[u8]) -> Result<Params, OAuthError> {
    if !req.query_string().is_empty() {
        let q: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect();
        if q.iter().any(|(k, _)| {
            k == "client_secret"
                || k == "client_id"
                || k == "code"
                || k == "refresh_token"
                || k == "token"
        }) {
            return Err(OAuthError::invalid_request(
                "parameters belong in the request body, not the query string",
            ));
        }
    }
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut map = HashMap::new();
    if ctype.starts_with("application/json") {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| OAuthError::invalid_request("the body is not valid JSON"))?;
        let obj = value
            .as_object()
            .ok_or_else(|| OAuthError::invalid_request("the body must be a JSON object"))?;
        for (k, v) in obj {
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => continue,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(OAuthError::invalid_request(&format!(
                        "{k} must be a string"
                    )))
                }
            };
            map.insert(k.clone(), s);
        }
    } else if ctype.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in url::form_urlencoded::parse(body).into_owned() {
            if map.insert(k.clone(), v).is_some() {
                return Err(OAuthError::invalid_request(&format!(
                    "the parameter {k} is repeated"
                )));
            }
        }
    } else {
        return Err(OAuthError::invalid_request(
            "send the body as application/x-www-form-urlencoded or application/json",
        ));
    }
    Ok(Params(map))
}

/// Credentials as presented, before they are checked.
pub struct Presented {
    pub client_id: String,
    pub secret: Option<String>,
    pub basic: bool,
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented")
            .field("client_id", &self.client_id)
            .field("secret", &"<hidden>")
            .field("basic", &self.basic)
            .finish()
    }
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Reads the credentials (S20–S23) without checking them.
pub fn presented(req: &HttpRequest, p: &Params) -> Result<Presented, OAuthError> {
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Some(value) = auth {
        let Some(b64) = value
            .strip_prefix("Basic ")
            .or_else(|| value.strip_prefix("basic "))
        else {
            return Err(OAuthError::invalid_client(false));
        };
        let decoded = STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| OAuthError::invalid_client(true))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| OAuthError::invalid_client(true))?;
        let (id, secret) = (form_decode(id), form_decode(secret));
        if p.has("client_secret") {
            return Err(OAuthError::invalid_request(
                "use one client authentication method: HTTP Basic or client_secret in the body, not both",
            ));
        }
        if let Some(body_id) = p.get("client_id") {
            if body_id != id {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from HTTP Basic",
                ));
            }
        }
        if id.is_empty() {
            return Err(OAuthError::invalid_client(true));
        }
        return Ok(Presented {
            client_id: id,
            secret: Some(secret),
            basic: true,
        });
    }
    match p.get("client_id") {
        Some(id) => Ok(Presented {
            client_id: id.to_string(),
            secret: p.get("client_secret").map(String::from),
            basic: false,
        }),
        None => Err(OAuthError::invalid_client(false)),
    }
}

/// Checks presented credentials through the registrar: wrong secret and
/// unknown client fail alike (S22); a confidential client must send its
/// secret, a public one must not (S23). A failure is the refusal
/// `Refusal::Client` (`invalid_client`). `found` is the client `who`
/// names, as the caller already read it (`guard::authenticate`).
pub fn authenticate_as(found: Option<Integration>, who: &Presented) -> AppResult<Integration> {
    let registrar = DbRegistrar::for_check(found);
    let secret = who.secret.as_deref().filter(|s| !s.is_empty());
    let refused = || Refusal::Client { basic: who.basic }.into();
    match registrar.check(&who.client_id, secret.map(str::as_bytes)) {
        Ok(()) => registrar.integration().cloned().ok_or_else(refused),
        Err(_) => Err(refused()),
    }
}
