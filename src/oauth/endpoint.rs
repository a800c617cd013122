//! oxide-auth's primitives over the database, built per request inside the
//! request's `web::block` (no actor, no global lock). `DbRegistrar` knows one
//! client, loaded by its client id; `DbAuthorizer` writes and redeems codes on
//! the connection it is given, inside the caller's transaction.
//!
//! Why not oxide-auth's `RegisteredUrl::IgnorePortOnLocalhost`: it varies the
//! port only for the host name `localhost`, while SECURITY S6 is about the IP
//! literal `127.0.0.1`. And `AuthorizationFlow` is not used: it redirects to the
//! parsed, normalised `Url` (so a registered URI is not returned byte for byte,
//! S8), with its own status and error mapping, and without `iss` (S14).

use std::borrow::Cow;

use oxide_auth::primitives::authorizer::Authorizer;
use oxide_auth::primitives::grant::Grant;
use oxide_auth::primitives::registrar::{
    BoundClient, ClientUrl, ExactUrl, PreGrant, RegisteredUrl, Registrar, RegistrarError,
};
use oxide_auth::primitives::scope::Scope;

use crate::crypto;
use crate::db::models::{
    now, AuthorizationCode, ClientType, ConnectionId, Integration, IntegrationId, IntegrationKind,
    UserId, WorkspaceId,
};
use crate::db::queries::{integrations, oauth as q};
use crate::db::Conn;
use crate::error::{AppResult, Capability};

/// One client, as the database has it.
pub struct DbRegistrar {
    integration: Option<Integration>,
    redirect_uris: Vec<String>,
}

impl DbRegistrar {
    /// Loads the client named by `client_id` (none: every check fails alike).
    pub fn load(conn: &mut Conn, client_id: &str) -> AppResult<DbRegistrar> {
        let integration = integrations::by_client_id(conn, client_id)?;
        let redirect_uris = match &integration {
            Some(i) => integrations::redirect_uris(conn, &i.id)?,
            None => Vec::new(),
        };
        Ok(DbRegistrar {
            integration,
            redirect_uris,
        })
    }

    /// The registrar for client authentication alone, from the client as
    /// already read: `check` needs no redirect URIs (the token endpoint
    /// authenticates every request, so this saves it two lookups).
    pub fn for_check(integration: Option<Integration>) -> DbRegistrar {
        DbRegistrar {
            integration,
            redirect_uris: Vec::new(),
        }
    }

    pub fn integration(&self) -> Option<&Integration> {
        self.integration.as_ref()
    }

    fn client(&self, client_id: &str) -> Result<&Integration, RegistrarError> {
        match &self.integration {
            // Internal integrations hold workspace tokens and never speak OAuth.
            Some(i) if i.client_id == client_id && i.kind == IntegrationKind::Public => Ok(i),
            _ => Err(RegistrarError::Unspecified),
        }
    }
}

/// The loopback literal a redirect URI starts with, if it is one.
fn loopback_prefix(uri: &str) -> Option<&'static str> {
    ["http://127.0.0.1", "http://[::1]", "http://localhost"]
        .into_iter()
        .find(|p| uri.starts_with(p))
}

/// Drops a `:port` right after the host, if any.
fn strip_port(rest: &str) -> Option<&str> {
    match rest.strip_prefix(':') {
        None => Some(rest),
        Some(after) => {
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let port: u32 = after[..digits].parse().ok()?;
            (digits <= 5 && (1..=65535).contains(&port)).then(|| &after[digits..])
        }
    }
}

/// Exact string equality, except that a loopback redirect URI may differ in
/// its port alone (RFC 8252 §7.3, SECURITY S6): `127.0.0.1`, `[::1]`, and
/// `localhost`, which DESIGN §7 lets clients register (VS Code and Claude
/// Code come back on another port than they registered). The host must be
/// the registered one: `localhost` never matches `127.0.0.1`.
pub fn redirect_matches(registered: &str, sent: &str) -> bool {
    if registered == sent {
        return true;
    }
    match (loopback_prefix(registered), loopback_prefix(sent)) {
        (Some(a), Some(b)) if a == b => {
            match (
                strip_port(&registered[a.len()..]),
                strip_port(&sent[b.len()..]),
            ) {
                (Some(r), Some(s)) => {
                    r == s && (r.is_empty() || r.starts_with('/') || r.starts_with('?'))
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// The scope that asks for a refresh token (OpenID Connect Core §11).
pub const OFFLINE_ACCESS: &str = "offline_access";

/// A scope as stored and shown: capability names in the contract's order
/// (oxide-auth's `Scope` is a set, so its own `to_string` order varies).
pub fn scope_string(scope: &Scope) -> String {
    // offline_access, when granted, is kept last so the token responses
    // can echo it (it is no capability).
    crate::error::Capability::ALL
        .iter()
        .map(|c| c.as_str())
        .chain([OFFLINE_ACCESS])
        .filter(|c| scope.iter().any(|s| s == *c))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a client may ask for at authorization: its capabilities, and for
/// a client that registered itself (RFC 7591 or CIMD) also every
/// capability a resource lists (`ASKABLE_CAPABILITIES`, never both
/// user-information ones). A dynamic client's registered `scope` is its
/// own claim, made before anyone reviewed it; MCP clients register with
/// the 401's `scope` (reading) and must be able to step up to writing
/// later, as the person allows on the consent page (S103). A configured
/// integration stays bound to what its developer set.
pub fn askable(i: &Integration) -> String {
    let mut caps: Vec<Capability> = i
        .capabilities
        .split(' ')
        .filter_map(Capability::parse)
        .collect();
    if i.dynamic {
        let has_user_info = caps.iter().any(|c| Capability::USER_INFO.contains(c));
        for c in crate::db::models::ASKABLE_CAPABILITIES {
            if !(has_user_info && Capability::USER_INFO.contains(c)) {
                caps.push(*c);
            }
        }
    }
    Capability::join(&caps)
}

/// The integration's capabilities as an oxide-auth scope.
pub fn capability_scope(i: &Integration) -> Result<Scope, RegistrarError> {
    i.capabilities
        .parse()
        .map_err(|_| RegistrarError::PrimitiveError)
}

impl Registrar for DbRegistrar {
    fn bound_redirect<'a>(&self, bound: ClientUrl<'a>) -> Result<BoundClient<'a>, RegistrarError> {
        self.client(&bound.client_id)?;
        let chosen = match bound.redirect_uri {
            Some(sent) => {
                if !self
                    .redirect_uris
                    .iter()
                    .any(|r| redirect_matches(r, sent.as_str()))
                {
                    return Err(RegistrarError::Unspecified);
                }
                sent.into_owned()
            }
            // Without one, only an unambiguous registration will do (S7).
            None => match self.redirect_uris.as_slice() {
                [only] => {
                    ExactUrl::new(only.clone()).map_err(|_| RegistrarError::PrimitiveError)?
                }
                _ => return Err(RegistrarError::Unspecified),
            },
        };
        Ok(BoundClient {
            client_id: bound.client_id,
            redirect_uri: Cow::Owned(RegisteredUrl::Exact(chosen)),
        })
    }

    /// No scope asked: everything the integration was configured with. A scope
    /// asked for must be a subset of what it may ask (`askable`).
    fn negotiate(
        &self,
        client: BoundClient,
        scope: Option<Scope>,
    ) -> Result<PreGrant, RegistrarError> {
        let i = self.client(&client.client_id)?;
        let configured = capability_scope(i)?;
        let allowed: Scope = askable(i)
            .parse()
            .map_err(|_| RegistrarError::PrimitiveError)?;
        let scope = match scope {
            None => configured,
            Some(asked) => {
                let ok = asked.iter().all(|s| allowed.iter().any(|a| a == s));
                if !ok {
                    return Err(RegistrarError::Unspecified);
                }
                asked
            }
        };
        Ok(PreGrant {
            client_id: client.client_id.into_owned(),
            redirect_uri: client.redirect_uri.into_owned(),
            scope,
        })
    }

    /// Client authentication: a confidential client proves its secret
    /// (compared as SHA-256, in constant time); a public client sends none.
    fn check(&self, client_id: &str, passphrase: Option<&[u8]>) -> Result<(), RegistrarError> {
        let i = self.client(client_id)?;
        match (Some(i.client_type), &i.client_secret_hash, passphrase) {
            (Some(ClientType::Confidential), Some(hash), Some(secret)) => {
                let given = crypto::sha256_hex(&String::from_utf8_lossy(secret));
                if crypto::constant_time_eq(&given, hash) {
                    Ok(())
                } else {
                    Err(RegistrarError::Unspecified)
                }
            }
            (Some(ClientType::Public), None, None) => Ok(()),
            _ => Err(RegistrarError::Unspecified),
        }
    }
}

/// What a code is bound to beyond the grant itself.
#[derive(Debug, Clone)]
pub struct CodeBinding {
    pub integration_id: IntegrationId,
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    pub connection_id: ConnectionId,
    /// The redirect URI as sent at authorize, `None` when none was sent (S27).
    pub redirect_uri_sent: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// The grant's RFC 8707 resources.
    pub resource: String,
}

/// Codes in `authorization_codes`: 256 random bits, stored as SHA-256.
pub struct DbAuthorizer<'c> {
    conn: &'c mut Conn,
    binding: CodeBinding,
}

impl<'c> DbAuthorizer<'c> {
    /// An authorizer that issues codes bound to `binding`.
    pub fn issuing(conn: &'c mut Conn, binding: CodeBinding) -> Self {
        DbAuthorizer { conn, binding }
    }
}

impl Authorizer for DbAuthorizer<'_> {
    fn authorize(&mut self, grant: Grant) -> Result<String, ()> {
        let b = &self.binding;
        let code = crypto::random_secret();
        let row = AuthorizationCode {
            code_hash: crypto::sha256_hex(&code),
            integration_id: b.integration_id.clone(),
            user_id: b.user_id.clone(),
            workspace_id: b.workspace_id.clone(),
            connection_id: b.connection_id.clone(),
            redirect_uri: b.redirect_uri_sent.clone(),
            code_challenge: b.code_challenge.clone(),
            code_challenge_method: b.code_challenge_method.clone(),
            scope: scope_string(&grant.scope),
            family_id: None,
            created_at: now(),
            expires_at: grant.until.timestamp(),
            consumed_at: None,
            resource: b.resource.clone(),
        };
        q::insert_code(self.conn, &row)
            .map_err(|e| tracing::error!(error = %e, "storing a code failed"))?;
        Ok(code)
    }

    /// Codes are redeemed by `token::grant`, which checks PKCE, the
    /// redirect URI and replays in the same transaction as it mints tokens;
    /// this authorizer only issues, so it knows no code to hand out here.
    fn extract(&mut self, _code: &str) -> Result<Option<Grant>, ()> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::redirect_matches;

    #[test]
    fn loopback_varies_only_the_port_s6() {
        let reg = "http://127.0.0.1/cb";
        assert!(redirect_matches(reg, "http://127.0.0.1/cb"));
        assert!(redirect_matches(reg, "http://127.0.0.1:5173/cb"));
        assert!(redirect_matches(
            "http://127.0.0.1:80/cb",
            "http://127.0.0.1:9/cb"
        ));
        assert!(redirect_matches("http://[::1]/cb", "http://[::1]:8000/cb"));
        for bad in [
            "http://127.0.0.1:5173/cb2",
            "http://127.0.0.1:5173/cb/",
            "http://127.0.0.1:0/cb",
            "http://127.0.0.1:99999/cb",
            "http://127.0.0.1:80x/cb",
            "http://127.0.0.1.evil.example/cb",
            "http://127.0.0.1@evil.example/cb",
            "https://127.0.0.1:5173/cb",
            "http://localhost:5173/cb",
            "http://[::1]:8000/cb",
        ] {
            assert!(!redirect_matches(reg, bad), "{bad}");
        }
        assert!(!redirect_matches(
            "https://good.example/cb",
            "https://good.example/cb/"
        ));
        assert!(redirect_matches(
            "http://localhost:3000/cb",
            "http://localhost:61000/cb"
        ));
        for bad in [
            "http://localhost.evil.example/cb",
            "http://localhost@evil.example/cb",
            "http://127.0.0.1:61000/cb",
        ] {
            assert!(!redirect_matches("http://localhost/cb", bad), "{bad}");
        }
    }
}
