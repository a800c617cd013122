//! Fetching Client ID Metadata Documents (DESIGN §7, SECURITY S61, S62).
//! The request's `client_id` URL is resolved here (the static
//! `registration.cimd_hosts` first, then DNS), every address is checked
//! against the refused ranges, and the HTTP client is pinned to exactly the
//! checked addresses (`resolve_to_addrs`), so a second DNS answer (rebinding)
//! can never send the request elsewhere. No redirects, no proxy, 5 seconds
//! in all, at most 64 KiB. The rules on the URL and the document, and the
//! cache, are `domain::cimd`'s; this runs in async code, before any
//! database thread is taken, so no pool connection waits on the network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::config::RegistrationConfig;
use crate::db;
use crate::domain::cimd;
use crate::error::{AppError, AppResult, Refusal};
use crate::state::AppState;

/// The whole fetch, name resolution included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest document read; a bigger one is refused.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// Why an address may not be fetched, or `None` for a public one:
/// loopback, private, link-local (cloud metadata at 169.254.169.254 and
/// fd00:ec2::254 included), CGNAT, unspecified, multicast, broadcast,
/// reserved and documentation ranges, and IPv6 forms carrying such an IPv4
/// address (mapped, compatible, NAT64, 6to4).
pub fn refused(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local or cloud metadata address")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("a shared (CGNAT) address")
    } else if o[0] == 0 || ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip.is_multicast() || ip.is_broadcast() || o[0] >= 240 {
        Some("a multicast or reserved address")
    } else if ip.is_documentation()
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
    {
        Some("a reserved address")
    } else {
        None
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refused_v4(v4);
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    // ::a.b.c.d (IPv4-compatible, deprecated) and 64:ff9b::/96 (NAT64).
    if s[..6] == [0; 6] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return refused_v4(v4).or(Some("an IPv4-embedding address"));
    }
    // 6to4 (2002::/16) embeds an IPv4 address in bits 16..48.
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        if let Some(why) = refused_v4(v4) {
            return Some(why);
        }
    }
    if (s[0] & 0xfe00) == 0xfc00 {
        return Some("a private (unique local) address");
    }
    if (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xffc0) == 0xfec0 {
        return Some("a link-local address");
    }
    if (s[0] & 0xff00) == 0xff00 {
        return Some("a multicast address");
    }
    // Teredo tunnels and documentation addresses.
    if s[0] == 0x2001 && (s[1] == 0 || s[1] == 0xdb8) {
        return Some("a reserved address");
    }
    None
}

/// A fetched document: its body and its `Cache-Control` and
/// `Content-Type` headers.
pub struct Fetched {
    pub body: Vec<u8>,
    pub cache_control: Option<String>,
    pub content_type: Option<String>,
}

/// What `ensure` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Ensured {
    /// The client's row is ready to validate against (or the client_id is
    /// no URL at all).
    Ready,
    /// The document is good, and nothing is stored until a person logs in.
    AwaitingLogin,
}

/// The addresses `u`'s host stands for, each checked; the `Err` is the
/// reason a person reads. Nothing is sent anywhere before this passed.
async fn checked_addresses(
    cfg: &RegistrationConfig,
    u: &url::Url,
) -> Result<Vec<SocketAddr>, String> {
    let port = u.port_or_known_default().unwrap_or(443);
    let host = u.host().ok_or("the client_id URL has no host")?;
    let addrs: Vec<SocketAddr> = match host {
        url::Host::Ipv4(ip) => vec![SocketAddr::new(ip.into(), port)],
        url::Host::Ipv6(ip) => vec![SocketAddr::new(ip.into(), port)],
        url::Host::Domain(name) => match cfg.cimd_hosts.get(name) {
            Some(ip) => {
                let ip: IpAddr = ip
                    .parse()
                    .map_err(|_| "registration.cimd_hosts maps this host to no address")?;
                vec![SocketAddr::new(ip, port)]
            }
            None => match tokio::net::lookup_host((name, port)).await {
                Ok(a) => a.collect(),
                Err(e) => {
                    tracing::info!(host = name, error = %e, "CIMD host does not resolve");
                    let why = format!("the host {name} could not be resolved");
                    unreachable_once(&why);
                    return Err(why);
                }
            },
        },
    };
    if addrs.is_empty() {
        return Err("the client_id URL's host has no address".into());
    }
    // With cimd_dev_loopback, a URL naming loopback may reach loopback (and
    // only loopback); every other URL follows the public rules.
    let dev = cfg.cimd_dev_loopback && cimd::is_loopback_name(u);
    for a in &addrs {
        let ip = a.ip();
        let why = match dev {
            true if ip.is_loopback() => None,
            true => Some("not a loopback address"),
            false => refused(ip),
        };
        if let Some(why) = why {
            tracing::warn!(client_id = %u, address = %ip, "CIMD fetch refused: {why}");
            return Err(format!(
                "its host resolves to {why}, which this server never fetches from"
            ));
        }
    }
    Ok(addrs)
}

/// Fetches the document at `u`, within `FETCH_TIMEOUT` in all.
pub async fn fetch(cfg: &RegistrationConfig, u: &url::Url) -> Result<Fetched, String> {
    match tokio::time::timeout(FETCH_TIMEOUT, fetch_within(cfg, u)).await {
        Ok(r) => r,
        Err(_) => {
            unreachable_once(&late());
            Err(late())
        }
    }
}

/// Whether the process already said that a document could not be reached.
static SAID_UNREACHABLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The first time a document's host cannot be resolved or reached, or the
/// fetch times out, a warning says what a deployment without outbound
/// internet should do (issue 29 item 7): CIMD is on by default, and there
/// every CIMD client (Codex tries CIMD first) would wait on the fetch.
/// Once per process, so a busy server's log is not flooded.
fn unreachable_once(why: &str) {
    if !SAID_UNREACHABLE.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "a client ID metadata document could not be fetched ({why}); if this server has no outbound internet access, set registration.cimd = false so such clients register themselves (RFC 7591) instead of waiting on a fetch that cannot succeed"
        );
    }
}

fn late() -> String {
    format!(
        "the document did not arrive within {} seconds",
        FETCH_TIMEOUT.as_secs()
    )
}

async fn fetch_within(cfg: &RegistrationConfig, u: &url::Url) -> Result<Fetched, String> {
    let addrs = checked_addresses(cfg, u).await?;
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(FETCH_TIMEOUT)
        .user_agent(concat!(
            "pagegrant/",
            env!("CARGO_PKG_VERSION"),
            " (client metadata)"
        ));
    if let Some(url::Host::Domain(name)) = u.host() {
        // Pinned: the connection goes to the addresses just checked, and
        // to no other answer a resolver might give later.
        b = b.resolve_to_addrs(name, &addrs);
    }
    let client = b.build().map_err(|e| {
        tracing::error!(error = %e, "building the CIMD HTTP client failed");
        "the document could not be fetched".to_string()
    })?;
    let mut resp = client
        .get(u.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            tracing::info!(client_id = %u, error = %e, "CIMD fetch failed");
            let why = match e.is_timeout() {
                true => late(),
                false => "its host could not be reached".to_string(),
            };
            unreachable_once(&why);
            why
        })?;
    let status = resp.status();
    if status.is_redirection() {
        return Err(format!(
            "its address answered with a redirect (HTTP {}), and redirects are not followed",
            status.as_u16()
        ));
    }
    if status != reqwest::StatusCode::OK {
        return Err(format!("its address answered HTTP {}", status.as_u16()));
    }
    let too_big = || {
        format!(
            "the document is larger than {} KiB",
            MAX_DOCUMENT_BYTES / 1024
        )
    };
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
    {
        return Err(too_big());
    }
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let cache_control = header(reqwest::header::CACHE_CONTROL);
    let content_type = header(reqwest::header::CONTENT_TYPE);
    // Judged before the body is read: an HTML page is not worth reading.
    if !cimd::json_media_type(content_type.as_deref()) {
        return Ok(Fetched {
            body: Vec::new(),
            cache_control,
            content_type,
        });
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                    return Err(too_big());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                tracing::info!(client_id = %u, error = %e, "CIMD body failed");
                return Err(match e.is_timeout() {
                    true => late(),
                    false => "the document could not be read".to_string(),
                });
            }
        }
    }
    Ok(Fetched {
        body,
        cache_control,
        content_type,
    })
}

/// Makes sure the integration behind a CIMD `client_id` reflects a fresh
/// document: fetched again when the cache expired (within the fetch
/// budgets of `ip`), then stored for every instance — but a client not yet
/// stored is stored only for a logged-in person (`logged_in`); for anyone
/// else the checked document waits in memory (`Ensured::AwaitingLogin`),
/// so anonymous requests cannot fill the database (S71). A document that
/// cannot be used is `Refusal::Document`, the reason a person reads (an
/// error page, never a redirect); `Ensured::Ready` for any `client_id`
/// that is not a URL.
pub async fn ensure(
    state: &AppState,
    client_id: &str,
    ip: &str,
    logged_in: bool,
) -> AppResult<Ensured> {
    if !cimd::looks_like_url(client_id) {
        return Ok(Ensured::Ready);
    }
    let cfg = &state.config.registration;
    if !cfg.cimd {
        return Err(Refusal::Document(
            "this server does not accept client IDs that are URLs (Client ID Metadata Documents are turned off)".into(),
        ).into());
    }
    let u = cimd::check_url(cfg, client_id).map_err(Refusal::Document)?;
    let id = client_id.to_string();
    if db::run(&state.pool, move |c| cimd::fresh(c, &id)).await? {
        return Ok(Ensured::Ready);
    }
    let (checked, expires_at) = match state.cimd_seen.get(client_id) {
        Some(seen) => seen,
        None => {
            let (rc, addr) = (cfg.clone(), ip.to_string());
            db::run(&state.pool, move |c| cimd::spend_fetch(c, &rc, &addr)).await?;
            let fetched = fetch(cfg, &u).await.map_err(Refusal::Document)?;
            let checked = cimd::check_document(
                cfg,
                client_id,
                fetched.content_type.as_deref(),
                &fetched.body,
            )
            .map_err(Refusal::Document)?;
            let expires_at = crate::db::models::now()
                + cimd::cache_seconds(cfg, fetched.cache_control.as_deref());
            state
                .cimd_seen
                .insert(client_id.to_string(), (checked.clone(), expires_at));
            (checked, expires_at)
        }
    };
    let (id, host, addr, rc, sbox) = (
        client_id.to_string(),
        cimd::verified_host(&u),
        ip.to_string(),
        cfg.clone(),
        state.secret_box.clone(),
    );
    let stored = db::run(&state.pool, move |c| {
        let origin = cimd::Origin {
            client_id: &id,
            host: &host,
            ip: &addr,
            may_create: logged_in,
        };
        match cimd::store(c, &rc, &sbox, &origin, checked, expires_at) {
            // Another instance stored the same client at the same moment
            // (the unique client_id): its row is as good as ours.
            Err(e)
                if !matches!(e, AppError::Throttled(_) | AppError::Refused(_))
                    && cimd::fresh(c, &id).unwrap_or(false) =>
            {
                tracing::info!(error = %e, "CIMD client stored concurrently");
                Ok(cimd::Stored::Ready)
            }
            other => other,
        }
    })
    .await?;
    Ok(match stored {
        cimd::Stored::Ready => Ensured::Ready,
        cimd::Stored::NotYet => Ensured::AwaitingLogin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn refused_ranges_s61() {
        for bad in [
            "127.0.0.1",
            "127.9.9.9",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
        ] {
            assert!(refused(ip(bad)).is_some(), "{bad}");
        }
        for good in [
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "160.79.104.10",
            "2606:4700::6810:84e5",
            "::ffff:93.184.216.34",
        ] {
            assert_eq!(refused(ip(good)), None, "{good}");
        }
    }
}
