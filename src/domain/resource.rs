//! RFC 8707 resource indicators: the resources pagegrant issues tokens for,
//! and which one a token is for. A grant records the resources it was made
//! for (space-separated; none asked means the Notion-compatible API, so the
//! Notion SDKs and every existing client get today's audience).

use crate::error::Capability;

/// The Notion-compatible API: the default resource and audience.
pub fn api(issuer: &str) -> String {
    format!("{issuer}/v1")
}

/// The MCP server's resource.
pub fn mcp(issuer: &str) -> String {
    format!("{issuer}/mcp")
}

/// Where a resource's RFC 9728 metadata is: the well-known name between
/// the origin and the resource's path (`{origin}/.well-known/oauth-protected-resource/v1`).
pub fn metadata_url(resource: &str) -> String {
    match url::Url::parse(resource) {
        Ok(u) => {
            let origin = u.origin().ascii_serialization();
            format!(
                "{origin}/.well-known/oauth-protected-resource{}",
                u.path().trim_end_matches('/')
            )
        }
        Err(_) => format!("{resource}/.well-known/oauth-protected-resource"),
    }
}

pub fn is_known(issuer: &str, r: &str) -> bool {
    r == api(issuer) || r == mcp(issuer)
}

/// The resources a grant holds, as stored.
pub fn of_grant(issuer: &str, stored: &str) -> Vec<String> {
    let v: Vec<String> = stored
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if v.is_empty() {
        vec![api(issuer)]
    } else {
        v
    }
}

/// The audience of a token from a grant holding `stored`, for `asked` (the
/// token request's `resource`): `Err` with the reason when it names a
/// resource the grant lacks (`invalid_target`). Without one, the API when
/// the grant holds it, else the grant's first resource.
pub fn audience(issuer: &str, stored: &str, asked: Option<&str>) -> Result<String, &'static str> {
    let granted = of_grant(issuer, stored);
    match asked {
        Some(r) if !is_known(issuer, r) => {
            Err("the resource is not one this server issues tokens for")
        }
        Some(r) if !granted.iter().any(|g| g == r) => {
            Err("the grant was not made for this resource")
        }
        Some(r) => Ok(r.to_string()),
        None => {
            let api = api(issuer);
            Ok(if granted.contains(&api) {
                api
            } else {
                granted.into_iter().next().unwrap_or(api)
            })
        }
    }
}

/// What an MCP client is told to ask for first (the `scope` of `/mcp`'s
/// 401, MCP 2025-11-25 scope selection): reading. Writing comes by step-up
/// when a tool needs it, so an agent does not hold write access by default.
pub const MCP_FIRST: &[Capability] = &[Capability::ReadContent];

/// The capabilities a client should ask for when its token (holding the
/// space-separated `held`) lacks `needed`: what it holds and what it
/// needs, in the canonical order. MCP SDKs differ on what they do with a
/// challenge's `scope` (the TypeScript SDK 1.32 asks for exactly it, the
/// Python SDK 2.3 adds it to what it asked before), so naming both keeps
/// the pages' reach and the capabilities it already has in either.
pub fn step_up_scope(held: &str, needed: &[Capability]) -> String {
    let mut caps: Vec<Capability> = held.split(' ').filter_map(Capability::parse).collect();
    caps.extend_from_slice(needed);
    Capability::join(&caps)
}

/// RFC 6750 §3.1's `insufficient_scope` challenge for `resource` (S102):
/// the scope to ask for and where the resource's metadata is.
pub fn insufficient_scope(resource: &str, held: &str, needed: &[Capability]) -> String {
    let names: Vec<&str> = needed.iter().map(|c| c.as_str()).collect();
    format!(
        r#"Bearer error="insufficient_scope", scope="{}", resource_metadata="{}", error_description="This needs the {} capability, which this token was not granted.""#,
        step_up_scope(held, needed),
        metadata_url(resource),
        names.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_up_keeps_what_is_held_and_adds_what_is_needed() {
        assert_eq!(
            step_up_scope("read_content offline_access", &[Capability::InsertContent]),
            "read_content insert_content"
        );
        let c = insufficient_scope(
            "http://127.0.0.1:1/mcp",
            "read_content",
            &[Capability::UpdateContent],
        );
        assert!(c.starts_with(r#"Bearer error="insufficient_scope", scope="read_content update_content", resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp""#), "{c}");
    }
}
