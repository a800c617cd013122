//! Registering integrations (CLI, demo, later `/developers`): redirect URI
//! rules (SECURITY S9), capabilities, client credentials, and the internal
//! integration's token and connection. Knows nothing of HTTP.

use crate::crypto::{self, SecretBox};
use crate::db::models::{
    now, BotId, ClientType, Connection, ConnectionId, ConnectionPage, Integration, IntegrationId,
    IntegrationKind, InternalToken, NewAuditEvent, Page, User, UserId, Workspace, CAPABILITIES,
    DEFAULT_CAPABILITIES,
};
use crate::db::queries::{audit, connections, integrations, pages, workspaces};
use crate::db::{self, Conn};
use crate::error::{AppError, AppResult};

pub const INTERNAL_TOKEN_PREFIX: &str = "ntn_";

/// Checks a redirect URI for registration (S9): absolute, no fragment or
/// wildcard, no script-capable scheme, `http` only on loopback, no userinfo.
pub fn validate_redirect_uri(uri: &str) -> AppResult<()> {
    let bad = |why: &str| Err(AppError::invalid(format!("redirect URI {uri:?} {why}")));
    if uri.is_empty() || uri.len() > 2000 {
        return bad("must have 1 to 2000 characters");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("must not contain spaces or control characters");
    }
    if uri.contains('#') {
        return bad("must not have a fragment");
    }
    if uri.contains('*') {
        return bad("must not contain a wildcard");
    }
    let Ok(parsed) = url::Url::parse(uri) else {
        return bad("is not an absolute URI");
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return bad("must not carry credentials");
    }
    match parsed.scheme() {
        "https" => {
            if parsed.host_str().is_none() {
                return bad("needs a host");
            }
        }
        "http" => {
            let loopback = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d == "localhost",
                None => false,
            };
            if !loopback {
                return bad("must use https (http is allowed only for loopback addresses)");
            }
        }
        "javascript" | "data" | "vbscript" | "file" | "blob" | "about" => {
            return bad("uses a scheme that is never allowed");
        }
        // Native apps' private-use schemes (RFC 8252 §7.1) are reverse domain names.
        s if s.contains('.') => {}
        _ => return bad("must use https, loopback http, or a reverse-domain app scheme"),
    }
    Ok(())
}

/// Parses capability names; none given means the default set.
pub fn parse_capabilities(given: &[String]) -> AppResult<String> {
    let names: Vec<&str> = given
        .iter()
        .flat_map(|s| s.split([' ', ',']))
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Ok(DEFAULT_CAPABILITIES.to_string());
    }
    for n in &names {
        if !CAPABILITIES.contains(n) {
            return Err(AppError::invalid(format!(
                "unknown capability {n:?}; choose from {}",
                CAPABILITIES.join(", ")
            )));
        }
    }
    if names.contains(&"read_user_with_email") && names.contains(&"read_user_without_email") {
        return Err(AppError::invalid(
            "choose one of read_user_with_email and read_user_without_email",
        ));
    }
    // Canonical order, no repeats.
    Ok(CAPABILITIES
        .iter()
        .filter(|c| names.contains(c))
        .copied()
        .collect::<Vec<_>>()
        .join(" "))
}

fn validate_website(url: &str) -> AppResult<()> {
    match url::Url::parse(url) {
        Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host_str().is_some() => {
            Ok(())
        }
        _ => Err(AppError::invalid(format!(
            "website {url:?} is not an http(s) URL"
        ))),
    }
}

#[derive(Debug, Default)]
pub struct NewIntegration {
    pub name: String,
    pub kind: Option<IntegrationKind>,
    /// The workspace of an internal integration.
    pub workspace: Option<Workspace>,
    pub redirect_uris: Vec<String>,
    pub public_client: bool,
    pub first_party: bool,
    pub capabilities: Vec<String>,
    pub website_url: Option<String>,
    pub support_email: Option<String>,
    pub developer_name: Option<String>,
    pub icon: Option<String>,
    pub created_by: Option<User>,
    /// A fixed client id (the built-in demo partner); random when absent.
    pub client_id: Option<String>,
}

/// What registration returns; the secrets exist only here, never stored in clear.
pub struct Created {
    pub integration: Integration,
    pub client_secret: Option<String>,
    pub internal_token: Option<String>,
    pub connection_id: Option<ConnectionId>,
}

impl std::fmt::Debug for Created {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Created")
            .field("integration", &self.integration)
            .field("client_secret", &"<hidden>")
            .field("internal_token", &"<hidden>")
            .finish()
    }
}

/// Validates everything first, then writes the integration, its redirect
/// URIs and, for an internal one, its connection and token in one transaction.
pub fn register(conn: &mut Conn, sbox: &SecretBox, new: NewIntegration) -> AppResult<Created> {
    let name = new.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid(
            "an integration name needs 1 to 200 printable characters",
        ));
    }
    let kind = new.kind.unwrap_or(IntegrationKind::Public);
    let capabilities = parse_capabilities(&new.capabilities)?;
    if let Some(w) = &new.website_url {
        validate_website(w)?;
    }
    let icon = match new.icon.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(i) if i.chars().count() > 8 || i.chars().any(char::is_control) => {
            return Err(AppError::invalid(
                "an icon is an emoji or up to 8 characters",
            ))
        }
        other => other.map(String::from),
    };
    let support_email = match &new.support_email {
        Some(e) => Some(crate::accounts::normalize_email(e)?),
        None => None,
    };
    let mut uris: Vec<String> = Vec::new();
    for u in &new.redirect_uris {
        validate_redirect_uri(u)?;
        if !uris.contains(u) {
            uris.push(u.clone());
        }
    }
    let internal_ws =
        match kind {
            IntegrationKind::Public => {
                if new.workspace.is_some() {
                    return Err(AppError::invalid(
                        "only internal integrations belong to a workspace",
                    ));
                }
                if uris.is_empty() {
                    return Err(AppError::invalid(
                        "a public integration needs at least one redirect URI",
                    ));
                }
                None
            }
            IntegrationKind::Internal => {
                if !uris.is_empty() {
                    return Err(AppError::invalid(
                        "internal integrations do not use redirect URIs",
                    ));
                }
                if new.public_client {
                    return Err(AppError::invalid(
                        "internal integrations have no OAuth client",
                    ));
                }
                Some(new.workspace.clone().ok_or_else(|| {
                    AppError::invalid("an internal integration needs a workspace")
                })?)
            }
        };
    // The internal integration's connection is installed by its creator, who
    // must belong to the workspace; without one, the workspace's first owner.
    let installer: Option<UserId> = match &internal_ws {
        Some(ws) => Some(match &new.created_by {
            Some(u) => {
                if workspaces::membership(conn, &ws.id, &u.id)?.is_none() {
                    return Err(AppError::invalid(format!(
                        "{} is not a member of workspace {:?}",
                        u.email, ws.name
                    )));
                }
                u.id.clone()
            }
            None => workspaces::first_owner(conn, &ws.id)?
                .ok_or_else(|| AppError::invalid("the workspace has no owner"))?,
        }),
        None => None,
    };

    let t = now();
    // Internal integrations never speak OAuth, so they get no client secret.
    let (client_type, client_secret) = if kind == IntegrationKind::Internal || new.public_client {
        (ClientType::Public, None)
    } else {
        (ClientType::Confidential, Some(crypto::random_secret()))
    };
    let integration = Integration {
        id: IntegrationId::new(),
        name: name.clone(),
        kind: kind.as_str().into(),
        client_id: new.client_id.clone().unwrap_or_else(crypto::new_uuid),
        client_secret_hash: client_secret.as_deref().map(crypto::sha256_hex),
        client_type: client_type.as_str().into(),
        developer_name: new
            .developer_name
            .clone()
            .or_else(|| new.created_by.as_ref().map(|u| u.name.clone()))
            .unwrap_or_else(|| {
                if new.first_party {
                    "pagegrant".into()
                } else {
                    name.clone()
                }
            }),
        website_url: new.website_url.clone(),
        support_email,
        icon,
        first_party: new.first_party,
        capabilities,
        created_by: new.created_by.as_ref().map(|u| u.id.clone()),
        workspace_id: internal_ws.as_ref().map(|w| w.id.clone()),
        created_at: t,
    };
    let internal = match (&internal_ws, installer) {
        (Some(ws), Some(installer)) => {
            let token = format!("{INTERNAL_TOKEN_PREFIX}{}", crypto::random_secret());
            let conn_row = Connection {
                id: ConnectionId::new(),
                integration_id: integration.id.clone(),
                workspace_id: ws.id.clone(),
                installed_by: installer,
                bot_id: BotId::new(),
                status: "active".into(),
                created_at: t,
                revoked_at: None,
                revoked_by: None,
            };
            let tok_row = InternalToken {
                connection_id: conn_row.id.clone(),
                hash: crypto::sha256_hex(&token),
                encrypted: sbox.encrypt(&token)?,
                created_at: t,
            };
            Some((token, conn_row, tok_row))
        }
        _ => None,
    };

    db::write_tx(conn, |conn| {
        integrations::insert(conn, &integration, &uris)?;
        if let Some((_, c, tok)) = &internal {
            connections::insert(conn, c)?;
            connections::insert_internal_token(conn, tok)?;
            audit::record(
                conn,
                &NewAuditEvent {
                    workspace_id: Some(c.workspace_id.clone()),
                    actor: Some(c.installed_by.to_string()),
                    action: "connection.created".into(),
                    target: c.id.to_string(),
                    detail: format!("internal integration {:?}", integration.name),
                    at: t,
                },
            )?;
        }
        Ok(())
    })?;
    Ok(Created {
        client_secret,
        connection_id: internal.as_ref().map(|(_, c, _)| c.id.clone()),
        internal_token: internal.map(|(t, _, _)| t),
        integration,
    })
}

/// Shares a page (and so its descendants) with a connection; the page must be
/// in the connection's workspace and visible to whoever installed it.
pub fn connection_add_page(
    conn: &mut Conn,
    connection: &ConnectionId,
    page: &crate::db::models::PageId,
) -> AppResult<bool> {
    let c = connections::by_id(conn, connection)?
        .ok_or_else(|| AppError::invalid(format!("no connection {connection}")))?;
    let chain: Vec<Page> = pages::with_ancestors(conn, page)?;
    let Some(p) = chain.first() else {
        return Err(AppError::invalid(format!("no page {page}")));
    };
    if p.workspace_id != c.workspace_id {
        return Err(AppError::invalid(format!(
            "page {page} is not in the connection's workspace"
        )));
    }
    if !crate::workspace::service::chain_visible_to(&chain, &c.installed_by) {
        return Err(AppError::invalid(format!(
            "page {page} is private to someone other than the connection's installer"
        )));
    }
    let t = now();
    db::write_tx(conn, |conn| {
        let added = connections::add_page(
            conn,
            &ConnectionPage {
                connection_id: c.id.clone(),
                page_id: p.id.clone(),
                added_by: c.installed_by.clone(),
                added_at: t,
            },
        )?;
        if added {
            audit::record(
                conn,
                &NewAuditEvent {
                    workspace_id: Some(c.workspace_id.clone()),
                    actor: None,
                    action: "connection.page_added".into(),
                    target: c.id.to_string(),
                    detail: format!("page {}", p.id),
                    at: t,
                },
            )?;
        }
        Ok(added)
    })
}

/// The integration `id`, if `actor` created it. Anyone else is told it does
/// not exist: only its creator manages an integration.
pub fn owned(conn: &mut Conn, id: &IntegrationId, actor: &UserId) -> AppResult<Integration> {
    integrations::by_id(conn, id)?
        .filter(|i| i.created_by.as_ref() == Some(actor))
        .ok_or(AppError::NotFound)
}

fn record_developer_event(
    conn: &mut Conn,
    i: &Integration,
    actor: &UserId,
    action: &str,
    detail: String,
) -> AppResult<()> {
    audit::record(
        conn,
        &NewAuditEvent {
            workspace_id: i.workspace_id.clone(),
            actor: Some(actor.to_string()),
            action: action.into(),
            target: i.id.to_string(),
            detail,
            at: now(),
        },
    )?;
    Ok(())
}

/// A new client secret for a confidential client; the old one stops working
/// when the transaction commits. The new secret exists only in the return value.
pub fn rotate_secret(
    conn: &mut Conn,
    id: &IntegrationId,
    actor: &UserId,
) -> AppResult<(Integration, String)> {
    let i = owned(conn, id, actor)?;
    if ClientType::parse(&i.client_type) != Some(ClientType::Confidential) {
        return Err(AppError::invalid(
            "This integration has no client secret to rotate (it is a public client or an internal integration).",
        ));
    }
    let secret = crypto::random_secret();
    db::write_tx(conn, |conn| {
        integrations::set_secret_hash(conn, &i.id, &crypto::sha256_hex(&secret))?;
        record_developer_event(conn, &i, actor, "secret.rotated", i.name.clone())
    })?;
    Ok((i, secret))
}

/// Replaces a public integration's redirect URIs, each checked as at
/// registration (S9); nothing changes unless all of them pass.
pub fn set_redirect_uris(
    conn: &mut Conn,
    id: &IntegrationId,
    actor: &UserId,
    given: &[String],
) -> AppResult<Vec<String>> {
    let i = owned(conn, id, actor)?;
    if IntegrationKind::parse(&i.kind) != Some(IntegrationKind::Public) {
        return Err(AppError::invalid(
            "internal integrations do not use redirect URIs",
        ));
    }
    let mut uris: Vec<String> = Vec::new();
    for u in given.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
        validate_redirect_uri(u)?;
        if !uris.iter().any(|x| x == u) {
            uris.push(u.to_string());
        }
    }
    if uris.is_empty() {
        return Err(AppError::invalid(
            "a public integration needs at least one redirect URI",
        ));
    }
    db::write_tx(conn, |conn| {
        integrations::replace_redirect_uris(conn, &i.id, &uris)?;
        record_developer_event(conn, &i, actor, "redirect_uris.changed", uris.join(" "))
    })?;
    Ok(uris)
}

/// An internal integration's token for its creator, decrypted and audited in
/// its workspace like an owner's retrieval. The creator must still belong to
/// the workspace, and the connection must still be active.
pub fn creator_token(
    conn: &mut Conn,
    sbox: &SecretBox,
    id: &IntegrationId,
    actor: &UserId,
) -> AppResult<String> {
    let i = owned(conn, id, actor)?;
    let Some(ws) = i.workspace_id.clone() else {
        return Err(AppError::invalid(
            "Only internal integrations have an internal integration token.",
        ));
    };
    if workspaces::membership(conn, &ws, actor)?.is_none() {
        return Err(AppError::Forbidden(
            "You are no longer a member of this integration's workspace.".into(),
        ));
    }
    let Some(c) = connections::for_integration(conn, &i.id)?
        .into_iter()
        .next()
    else {
        return Err(AppError::NotFound);
    };
    if c.status != "active" {
        return Err(AppError::Forbidden(
            "A workspace owner disconnected this integration; its token no longer works.".into(),
        ));
    }
    let Some(sealed) = connections::internal_token_sealed(conn, &c.id)? else {
        return Err(AppError::NotFound);
    };
    let token = sbox.decrypt(&sealed)?;
    audit::record(
        conn,
        &NewAuditEvent {
            workspace_id: Some(ws),
            actor: Some(actor.to_string()),
            action: "token.retrieved".into(),
            target: c.id.to_string(),
            detail: i.name.clone(),
            at: now(),
        },
    )?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules_s9() {
        for ok in [
            "https://partner.example/cb",
            "https://partner.example/cb?x=1",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:9000/cb",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(validate_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://partner.example/cb#frag",
            "https://*.partner.example/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "http://partner.example/cb",
            "https://user:pw@partner.example/cb",
            "/relative",
            "https://partner.example/c b",
            "",
            "myapp:/cb",
        ] {
            assert!(validate_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn capabilities_parse() {
        assert_eq!(
            parse_capabilities(&[]).ok().as_deref(),
            Some(DEFAULT_CAPABILITIES)
        );
        assert_eq!(
            parse_capabilities(&["update_content,read_content".into()])
                .ok()
                .as_deref(),
            Some("read_content update_content")
        );
        assert!(parse_capabilities(&["write_everything".into()]).is_err());
    }
}
