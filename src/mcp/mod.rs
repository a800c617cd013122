//! The MCP server at `/mcp` (DESIGN §7): Streamable HTTP through the
//! official Rust SDK (`rmcp`) and its actix-web transport, behind the same
//! bearer check, revocation and per-connection rate limit as `/v1`.
//!
//! The transport runs stateless (every POST stands alone, no session id is
//! needed, `GET` answers 405) and answers `application/json`, so each tool
//! call resolves the token again and a disconnect takes effect on the next
//! call. `auth` sits in front of the transport; `tools` holds the tools.

mod auth;
mod caller;
mod tools;

use std::sync::Arc;

use actix_web::web;
use rmcp_actix_web::transport::{LocalSessionManager, StreamableHttpService};

pub use caller::Caller;

/// Mounts `/mcp`: the bearer check, then rmcp's transport.
pub fn mount(cfg: &mut web::ServiceConfig, issuer: &str) {
    let hosts = auth::allowed_hosts(issuer);
    // The transport is stateless, so it asks for a handler per request:
    // hand it a copy of one built here (building the tool router generates
    // and checks every tool's schema and name again, a twentieth of a call).
    let handler = tools::Pagegrant::new();
    let transport = StreamableHttpService::builder()
        .service_factory(Arc::new(move || Ok(handler.clone())))
        .session_manager(Arc::new(LocalSessionManager::default()))
        .stateful_mode(false)
        .json_response(true)
        .max_request_body_bytes(auth::MAX_BODY)
        .allowed_hosts(hosts.clone())
        .on_request_fn(|req, ext| {
            use actix_web::HttpMessage;
            if let Some(caller) = req.extensions().get::<Caller>() {
                ext.insert(caller.clone());
            }
        })
        .build();
    cfg.service(
        web::scope("/mcp")
            .app_data(web::Data::new(auth::Hosts(hosts)))
            .wrap(actix_web::middleware::from_fn(auth::authenticate))
            .service(transport.scope()),
    );
}
