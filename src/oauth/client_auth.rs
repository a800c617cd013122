//! `ClientCall` and `AuthenticatedClient`: the token, introspection and
//! revocation endpoints' client, read and checked once, in one order: parse the body, read the
//! credentials, refuse a throttled client or address (S54), authenticate
//! through the registrar, refuse a client that has sent too many unknown
//! codes or tokens. The demo partner's in-process exchange goes through
//! the same `authenticate_client`, throttle included.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};

use crate::config::SecurityConfig;
use crate::db::models::Integration;
use crate::db::{self, Conn};
use crate::error::{AppError, AppResult};
use crate::http::errors::OAuthError;
use crate::oauth::client::{self, Params, Presented};
use crate::oauth::guard;
use crate::state::AppState;

/// A client's request to the token, introspection or revocation endpoint,
/// read but not yet authenticated: `ClientCall::run` authenticates it and
/// runs the endpoint's work in the same trip to the database thread (one
/// `db::run` per request), and is the only way to an `AuthenticatedClient`.
pub struct ClientCall {
    params: Params,
    who: Presented,
    ip: String,
}

/// A client that proved who it is, and the rest of its request.
pub struct AuthenticatedClient {
    pub integration: Integration,
    pub params: Params,
    /// It used HTTP Basic (a 401 then says so in `WWW-Authenticate`).
    pub basic: bool,
    /// The address it spoke from: a public client's guesses count per address.
    pub ip: String,
}

impl ClientCall {
    /// Authenticates the client (throttle, credentials, guess budget), then
    /// runs `f` for it on the same connection; a refusal at either step is
    /// the endpoint's OAuth error.
    pub async fn run<T, F>(self, state: &AppState, f: F) -> Result<T, OAuthError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn, &AuthenticatedClient) -> AppResult<T> + Send + 'static,
    {
        let sec = state.config.security.clone();
        let ClientCall { params, who, ip } = self;
        Ok(db::run(&state.pool, move |c| {
            let integration = authenticate_client(c, &sec, &who, &ip)?;
            let client = AuthenticatedClient {
                integration,
                params,
                basic: who.basic,
                ip,
            };
            f(c, &client)
        })
        .await?)
    }

    /// `run` through the grant writer (`db::group`): the client is
    /// authenticated and `f` runs in one savepoint of the writer's next
    /// batch, answered once that batch has committed.
    pub async fn run_batched<T, F>(self, state: &AppState, f: F) -> Result<T, OAuthError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn, &AuthenticatedClient) -> AppResult<T> + Send + 'static,
    {
        let sec = state.config.security.clone();
        let ClientCall { params, who, ip } = self;
        Ok(state
            .grants
            .submit(move |c| {
                // In the writer's savepoint (SQLite) or a transaction of
                // its own (PostgreSQL, whose writer runs no batch).
                let integration = db::write_tx_refusing_or_held(c, |c| {
                    guard::authenticate_in(c, &sec, &who, &ip)
                })?;
                let client = AuthenticatedClient {
                    integration,
                    params,
                    basic: who.basic,
                    ip,
                };
                f(c, &client)
            })
            .await?)
    }
}

/// Throttle, authenticate, check the guess budget; a refusal is `Err`
/// (`Throttled`, `Refusal::Client`), the failure counted all the same.
pub fn authenticate_client(
    c: &mut Conn,
    sec: &SecurityConfig,
    who: &Presented,
    ip: &str,
) -> AppResult<Integration> {
    guard::authenticate(c, sec, who, ip)
}

/// A refusal as the endpoint's OAuth error reads (`invalid_grant: …`),
/// for a client served in process (the demo partner); any other failure
/// stays an error.
pub fn refusal_text(e: AppError) -> AppResult<String> {
    match e {
        AppError::Refused(_) | AppError::Throttled(_) | AppError::Invalid(_) => {
            Ok(OAuthError::from(e).to_string())
        }
        other => Err(other),
    }
}

/// Runs `f` for a client and counts an unknown code or token against the
/// client's guess budget (a public client's: from `ip`): `guessed` says,
/// from `f`'s outcome, whether what was sent was unknown.
pub fn counting_guesses<T>(
    c: &mut Conn,
    sec: &SecurityConfig,
    client: &Integration,
    ip: &str,
    f: impl FnOnce(&mut Conn) -> AppResult<T>,
    guessed: impl FnOnce(&AppResult<T>) -> bool,
) -> AppResult<T> {
    let out = f(c);
    if guessed(&out) {
        guard::record_guess(c, sec, client, ip)?;
    }
    out
}

impl FromRequest for ClientCall {
    type Error = OAuthError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, OAuthError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| {
                let status = e.as_response_error().status_code();
                if status == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    let mut too_large =
                        OAuthError::invalid_request("the request body is too large");
                    too_large.status = status;
                    too_large
                } else {
                    OAuthError::invalid_request("the body could not be read")
                }
            })?;
            let params = client::parse(&req, &body)?;
            let who = client::presented(&req, &params)?;
            Ok(ClientCall {
                params,
                who,
                ip: crate::http::peer_ip(&req),
            })
        })
    }
}
