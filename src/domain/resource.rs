//! RFC 8707 resource indicators: the resources pagegrant issues tokens for,
//! and which one a token is for. A grant records the resources it was made
//! for (space-separated; none asked means the Notion-compatible API, so the
//! Notion SDKs and every existing client get today's audience).

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
