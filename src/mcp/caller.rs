//! Who a request to `/mcp` acts for, as the bearer check (`auth`) found it
//! and the tools read it.
//!
//! A `tools/call` whose token verifies without the database (signature,
//! expiry, audience `{issuer}/mcp`) and whose signed scope allows the tool
//! is not looked up before the transport: the tool's own trip to the
//! database thread resolves it (the token and its connection still live,
//! the per-connection rate limit) before doing the work, so a call takes
//! the database thread once, as a `/v1` request does (issue 30). A token
//! found dead there, or a connection over its limit, is noted in `refused`
//! and `auth` answers the HTTP request with the 401 or 429 it would have
//! given before the transport. Every other request is resolved first.

use std::sync::{Arc, OnceLock};

use actix_web::web;

use crate::api::bearer::{self, Bot, Resource};
use crate::db::{self, Conn};
use crate::domain::connections;
use crate::domain::reach::Capability;
use crate::error::{AppError, AppResult, Refusal};
use crate::state::limit::RateLimited;
use crate::state::AppState;

/// The grant a request to `/mcp` acts under, handed to the tools.
#[derive(Clone)]
pub struct Caller {
    pub state: web::Data<AppState>,
    auth: Auth,
}

#[derive(Clone)]
enum Auth {
    /// Resolved before the transport.
    Live(Arc<Bot>),
    /// Verified offline; resolved in the tool's trip.
    Unchecked {
        token: Arc<str>,
        scope: Arc<str>,
        refused: Arc<OnceLock<Refused>>,
    },
}

/// Why a call resolved in the tool's trip is answered over HTTP instead.
#[derive(Debug, Clone, Copy)]
pub enum Refused {
    /// The token or its connection is no longer live: 401.
    Token,
    /// The connection is over its rate limit: 429.
    Limit(RateLimited),
}

impl Caller {
    pub fn live(state: web::Data<AppState>, bot: Bot) -> Caller {
        Caller {
            state,
            auth: Auth::Live(Arc::new(bot)),
        }
    }

    /// A caller whose token `auth` verified offline with `scope` signed in
    /// it; `refused` is where its trip says why it was refused.
    pub fn unchecked(
        state: web::Data<AppState>,
        token: String,
        scope: String,
        refused: Arc<OnceLock<Refused>>,
    ) -> Caller {
        Caller {
            state,
            auth: Auth::Unchecked {
                token: token.into(),
                scope: scope.into(),
                refused,
            },
        }
    }

    /// The capabilities granted: the token's row carries the scope signed
    /// in it (`oauth::token::mint`), so either reads the same.
    pub fn scope(&self) -> &str {
        match &self.auth {
            Auth::Live(bot) => &bot.scope,
            Auth::Unchecked { scope, .. } => scope,
        }
    }

    pub fn allows(&self, capability: Capability) -> bool {
        capability.in_text(self.scope())
    }

    /// `Missing(capability)` unless the grant holds it.
    pub fn require(&self, capability: Capability) -> AppResult<()> {
        match self.allows(capability) {
            true => Ok(()),
            false => Err(Refusal::Missing(capability).into()),
        }
    }

    /// Runs `f` for the bot in one trip to the database thread, resolving
    /// the token first when `auth` left it to this trip.
    pub async fn run<T, F>(self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut Conn, &Bot) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let Caller { state, auth } = self;
        let st = state.clone();
        db::run(&state.pool, move |c| match auth {
            Auth::Live(bot) => f(c, &bot),
            Auth::Unchecked { token, refused, .. } => match resolve(c, &st, &token)? {
                Ok(bot) => f(c, &bot),
                Err(why) => {
                    let _ = refused.set(why);
                    // Replaced by `auth` with the HTTP answer.
                    Err(AppError::Refused(Refusal::Grant(
                        "the access token was refused".into(),
                    )))
                }
            },
        })
        .await
    }
}

/// The bot an access token for `/mcp` names, if it is live and within its
/// connection's rate limit; its use is noted. What `auth` does before the
/// transport, on the connection the caller's trip already holds.
pub fn resolve(c: &mut Conn, state: &AppState, token: &str) -> AppResult<Result<Bot, Refused>> {
    let Some(bot) = bearer::resolve_for(c, &state.keys, token, Resource::Mcp)? else {
        return Ok(Err(Refused::Token));
    };
    let now = crate::db::models::now();
    connections::note_mcp_use_after(c, &bot.connection.id, bot.mcp_used_at, now)?;
    if let Some(limiter) = &state.limiter {
        if let Err(limited) = limiter.check_on(c, bot.connection.id.as_str())? {
            return Ok(Err(Refused::Limit(limited)));
        }
    }
    Ok(Ok(bot))
}
