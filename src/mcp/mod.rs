//! The MCP server at `/mcp` (DESIGN §7): Streamable HTTP through the
//! official Rust SDK (`rmcp`) and its actix-web transport, behind the same
//! bearer check, revocation and per-connection rate limit as `/v1`.
//!
//! The transport runs stateless (every POST stands alone, no session id is
//! needed, `GET` answers 405) and answers `application/json`, so each tool
//! call resolves the token again and a disconnect takes effect on the next
//! call. `auth` sits in front of the transport; `tools` holds the tools.

mod auth;
mod tools;

use std::sync::Arc;

use actix_web::web;
use rmcp_actix_web::transport::{LocalSessionManager, StreamableHttpService};

pub use auth::Caller;

/// The hosts the transport accepts in `Host` (rmcp's DNS-rebinding check):
/// the issuer's, with and without its port. Another name, even another
/// loopback name for a loopback issuer, is answered before the transport
/// by `auth::foreign_host`, naming `{issuer}/mcp` (issue 29 item 7): the
/// token's resource and the protected-resource metadata are the issuer's,
/// so a client that came through another name would fail later on the
/// RFC 9728 resource check without saying why.
pub(crate) fn allowed_hosts(issuer: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(u) = url::Url::parse(issuer) {
        if let Some(host) = u.host_str() {
            out.push(host.to_string());
            if let Some(port) = u.port_or_known_default() {
                out.push(format!("{host}:{port}"));
            }
        }
    }
    out
}

/// The largest request body `/mcp` reads: a tool call is a small JSON-RPC
/// object, and Markdown content is capped well below this by the tools.
pub const MAX_BODY: usize = 1024 * 1024;

/// Mounts `/mcp`: the bearer check, then rmcp's transport.
pub fn mount(cfg: &mut web::ServiceConfig, issuer: &str) {
    let hosts = allowed_hosts(issuer);
    let transport = StreamableHttpService::builder()
        .service_factory(Arc::new(|| Ok(tools::Pagegrant::new())))
        .session_manager(Arc::new(LocalSessionManager::default()))
        .stateful_mode(false)
        .json_response(true)
        .max_request_body_bytes(MAX_BODY)
        .allowed_hosts(hosts)
        .on_request_fn(|req, ext| {
            use actix_web::HttpMessage;
            if let Some(caller) = req.extensions().get::<Caller>() {
                ext.insert(caller.clone());
            }
        })
        .build();
    cfg.service(
        web::scope("/mcp")
            .wrap(actix_web::middleware::from_fn(auth::authenticate))
            .service(transport.scope()),
    );
}
