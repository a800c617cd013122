//! Registering integrations (CLI, demo, My integrations): redirect URI
//! rules (SECURITY S9), capabilities, client credentials, and the internal
//! integration's token and connection.

use crate::config::os_handler_scheme;
use crate::crypto::{self, SecretBox};
use crate::db::models::{
    now, ApplicationType, AuthMethod, BotId, ClientType, Connection, ConnectionId,
    ConnectionStatus, Integration, IntegrationId, IntegrationKind, InternalToken, Role, User,
    UserId, Workspace, DEFAULT_CAPABILITIES,
};
use crate::db::queries::{connections, integrations, workspaces};
use crate::db::{self, Conn};
use crate::domain::audit::{self, Actor, AuditAction};
use crate::domain::install_policy::{self, Blocked};
use crate::error::{AppError, AppResult, Capability};

pub const INTERNAL_TOKEN_PREFIX: &str = "ntn_";

/// Checks a redirect URI for a web client (S9, S75): `https`, or `http`
/// on loopback; nothing else. `/developers` and every confidential
/// integration follow these rules.
pub fn validate_redirect_uri(uri: &str) -> AppResult<()> {
    check_redirect_uri(uri, RedirectRules::Web)
        .map_err(|why| AppError::invalid(format!("redirect URI '{uri}' {why}")))
}

/// Which redirect URIs a client may register (SECURITY S9, S58, S75).
#[derive(Debug, Clone, Copy)]
pub enum RedirectRules<'a> {
    /// A web client: `https`, or `http` on loopback.
    Web,
    /// A native app (RFC 8252): also private-use schemes, those with a dot
    /// (reverse domain names, §7.1) and the single-word ones listed here
    /// (`registration.native_schemes`). OS handler schemes never.
    Native(&'a [String]),
}

/// The rules behind `validate_redirect_uri`, saying why a URI is refused.
pub fn check_redirect_uri(uri: &str, rules: RedirectRules<'_>) -> Result<(), &'static str> {
    if uri.is_empty() || uri.len() > 2000 {
        return Err("must have 1 to 2000 characters");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters");
    }
    if uri.contains('#') {
        return Err("must not have a fragment");
    }
    if uri.contains('*') {
        return Err("must not contain a wildcard");
    }
    let Ok(parsed) = url::Url::parse(uri) else {
        return Err("is not an absolute URI");
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials");
    }
    let scheme = parsed.scheme();
    match (scheme, rules) {
        ("https", _) => {
            if parsed.host_str().is_none() {
                return Err("needs a host");
            }
        }
        ("http", _) => {
            if !is_loopback_host(&parsed) {
                return Err("must use https (http is allowed only for loopback addresses)");
            }
        }
        (s, RedirectRules::Native(_)) if os_handler_scheme(s) => {
            return Err("uses a scheme the operating system hands to another program, which is never allowed");
        }
        // Private-use schemes (RFC 8252 §7.1) are reverse domain names...
        (s, RedirectRules::Native(_)) if s.contains('.') => {}
        // ...or single words an operator listed (the MCP clients' own).
        (s, RedirectRules::Native(listed)) if listed.iter().any(|l| l == s) => {}
        (_, RedirectRules::Native(_)) => {
            return Err("must use https, loopback http, a reverse-domain app scheme (com.example.app:/cb) or an app scheme listed in registration.native_schemes")
        }
        (_, RedirectRules::Web) => {
            return Err("uses a scheme a web client may not use: https, or http on a loopback address, only")
        }
    }
    Ok(())
}

/// `127.0.0.1` (any of 127/8), `[::1]` or `localhost`.
pub fn is_loopback_host(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
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
    let mut caps = Vec::with_capacity(names.len());
    for n in &names {
        match Capability::parse(n) {
            Some(c) => caps.push(c),
            None => {
                return Err(AppError::invalid(format!(
                    "unknown capability '{n}'; choose from {}",
                    Capability::choices()
                )))
            }
        }
    }
    if Capability::USER_INFO.iter().all(|c| caps.contains(c)) {
        return Err(AppError::invalid(
            "choose one of read_user_with_email and read_user_without_email",
        ));
    }
    // Canonical order, no repeats.
    Ok(Capability::join(&caps))
}

fn validate_website(what: &str, url: &str) -> AppResult<()> {
    match url::Url::parse(url) {
        Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host_str().is_some() => {
            Ok(())
        }
        _ => Err(AppError::invalid(format!(
            "{what} '{url}' is not an http(s) URL"
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
    /// Links the consent page shows when set.
    pub privacy_url: Option<String>,
    pub terms_url: Option<String>,
    pub support_email: Option<String>,
    pub developer_name: Option<String>,
    pub icon: Option<String>,
    pub created_by: Option<User>,
    /// A fixed client id (the built-in demo partner); random when absent.
    pub client_id: Option<String>,
    /// Set for a client that registers itself (`domain::registration`).
    pub dynamic: Option<DynamicFields>,
}

/// What a self-registered client keeps beyond an ordinary integration.
pub struct DynamicFields {
    /// None for a CIMD client: its document, not a token, says what it is.
    pub registration_token_hash: Option<String>,
    pub native: bool,
    pub token_endpoint_auth_method: AuthMethod,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    /// Set for a CIMD client: when its cached document expires.
    pub cimd_expires_at: Option<i64>,
    /// The single-word app schemes a native client may use
    /// (`registration.native_schemes`).
    pub native_schemes: Vec<String>,
}

impl std::fmt::Debug for DynamicFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicFields")
            .field("registration_token_hash", &"<hidden>")
            .field("native", &self.native)
            .finish()
    }
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

/// Where an integration belongs: a public one nowhere (it needs redirect
/// URIs), an internal one in its workspace, installed by its creator (who
/// must be a member) or else the workspace's creator (`acting_owner`).
fn placement(
    conn: &mut Conn,
    new: &NewIntegration,
    kind: IntegrationKind,
    uris: &[String],
) -> AppResult<(Option<Workspace>, Option<UserId>)> {
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
    // must belong to the workspace; without one, the workspace's creator (or,
    // if they are no longer an owner, its earliest owner by join time and id).
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
            None => workspaces::acting_owner(conn, ws)?
                .ok_or_else(|| AppError::invalid("the workspace has no owner"))?,
        }),
        None => None,
    };

    Ok((internal_ws, installer))
}

/// Characters a name may not hold: controls, the bidi formatting
/// characters (ALM, LRM, RLM, LRE…RLO, LRI…PDI) that make a name read
/// otherwise than it is stored, e.g. U+202E turning "ppA" into "App"
/// (issue 15 #8), and every Default_Ignorable_Code_Point (Unicode
/// DerivedCoreProperties: zero-width spaces and joiners, the soft hyphen,
/// variation selectors, fillers, tags), which render as nothing and so let
/// "GitHub\u{200B}" look like "GitHub" (S74).
fn spoofing_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// What a name looks like, for comparing names a person could mistake for
/// one another: NFKC (full-width and compatibility forms to their plain
/// letters), lower case, then the Unicode TR39 confusable skeleton (a
/// Cyrillic "і" and a Latin "i" become one), lower case again, spaces
/// dropped.
pub fn name_skeleton(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = name.trim().nfkc().collect::<String>().to_lowercase();
    unicode_security::skeleton(&folded)
        .collect::<String>()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Whether `name` looks like the name of a first-party integration (the
/// same skeleton): only pagegrant may call an integration "GitHub" when its
/// own "GitHub" is built in (issue 15 #8, S74).
pub fn copies_first_party(conn: &mut Conn, name: &str) -> AppResult<bool> {
    let wanted = name_skeleton(name);
    Ok(integrations::first_party_names(conn)?
        .iter()
        .any(|n| name_skeleton(n) == wanted))
}

/// The shape every integration name has, whatever sets it: 1 to 200
/// printable characters, none of them invisible or a text-direction
/// control. `Err` is a sentence a person reads.
pub fn name_shape(name: &str) -> Result<(), &'static str> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err("an integration name needs 1 to 200 characters");
    }
    if name.chars().any(spoofing_char) {
        return Err(
            "an integration name may not hold control, invisible or text-direction characters",
        );
    }
    Ok(())
}

/// The one name rule for every path that sets an integration's name
/// (registration and its RFC 7592 update, CIMD documents, `/developers`,
/// the CLI): its shape, and only a first-party integration may take a name
/// that looks like a first-party one (issue 15 #8, S60, S74).
pub fn check_name(conn: &mut Conn, name: &str, first_party: bool) -> AppResult<()> {
    name_shape(name).map_err(AppError::invalid)?;
    if !first_party && copies_first_party(conn, name)? {
        return Err(AppError::invalid(format!(
            "'{}' is, or looks like, the name of an integration built by pagegrant; choose another",
            name.trim()
        )));
    }
    Ok(())
}

/// Validates everything first, then writes the integration, its redirect
/// URIs and, for an internal one, its connection and token in one transaction.
pub fn register(conn: &mut Conn, sbox: &SecretBox, new: NewIntegration) -> AppResult<Created> {
    let name = new.name.trim().to_string();
    check_name(conn, &name, new.first_party)?;
    if let Some(d) = &new.developer_name {
        if d.chars().any(spoofing_char) {
            return Err(AppError::invalid(
                "a developer name may not hold control or text-direction characters",
            ));
        }
    }
    // A client that registered itself is never first-party (S60).
    if new.dynamic.is_some() && new.first_party {
        return Err(AppError::invalid(
            "a client that registers itself is never first-party",
        ));
    }
    let kind = new.kind.unwrap_or(IntegrationKind::Public);
    let capabilities = parse_capabilities(&new.capabilities)?;
    for (what, url) in [
        ("website", &new.website_url),
        ("privacy policy", &new.privacy_url),
        ("terms", &new.terms_url),
    ] {
        if let Some(u) = url {
            validate_website(what, u)?;
        }
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
        Some(e) => Some(crate::domain::accounts::normalize_email(e)?),
        None => None,
    };
    let mut uris: Vec<String> = Vec::new();
    // A self-registered native app follows the native rules with the
    // operator's list of app schemes; an app the operator registered as a
    // public client (CLI) may use reverse-domain schemes; everything else,
    // `/developers` included, the web rules (S75).
    let rules = match &new.dynamic {
        Some(d) if d.native => RedirectRules::Native(&d.native_schemes),
        Some(_) => RedirectRules::Web,
        None if new.public_client && new.created_by.is_none() => RedirectRules::Native(&[]),
        None => RedirectRules::Web,
    };
    for u in &new.redirect_uris {
        check_redirect_uri(u, rules)
            .map_err(|why| AppError::invalid(format!("redirect URI '{u}' {why}")))?;
        if !uris.contains(u) {
            uris.push(u.clone());
        }
    }
    let (internal_ws, installer) = placement(conn, &new, kind, &uris)?;

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
        kind,
        client_id: new.client_id.clone().unwrap_or_else(crypto::new_uuid),
        client_secret_hash: client_secret.as_deref().map(crypto::sha256_hex),
        client_type,
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
        privacy_url: new.privacy_url.clone(),
        terms_url: new.terms_url.clone(),
        support_email,
        icon,
        first_party: new.first_party,
        capabilities,
        created_by: new.created_by.as_ref().map(|u| u.id.clone()),
        workspace_id: internal_ws.as_ref().map(|w| w.id.clone()),
        created_at: t,
        dynamic: new.dynamic.is_some(),
        registration_token_hash: new
            .dynamic
            .as_ref()
            .and_then(|d| d.registration_token_hash.clone()),
        application_type: new.dynamic.as_ref().map(|d| ApplicationType::of(d.native)),
        token_endpoint_auth_method: new.dynamic.as_ref().map(|d| d.token_endpoint_auth_method),
        client_uri: new.dynamic.as_ref().and_then(|d| d.client_uri.clone()),
        logo_uri: new.dynamic.as_ref().and_then(|d| d.logo_uri.clone()),
        cimd_expires_at: new.dynamic.as_ref().and_then(|d| d.cimd_expires_at),
        reviewed_at: None,
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
                status: ConnectionStatus::Active,
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
                Some(&c.workspace_id),
                Actor::User(&c.installed_by),
                AuditAction::ConnectionCreated,
                &c.id,
                format!("internal integration {:?}", integration.name),
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
    action: AuditAction,
    detail: String,
) -> AppResult<()> {
    audit::record(
        conn,
        i.workspace_id.as_ref(),
        Actor::User(actor),
        action,
        &i.id,
        detail,
    )
}

/// A new client secret for a confidential client; the old one stops working
/// when the transaction commits. The new secret exists only in the return value.
pub fn rotate_secret(
    conn: &mut Conn,
    id: &IntegrationId,
    actor: &UserId,
) -> AppResult<(Integration, String)> {
    let i = owned(conn, id, actor)?;
    if i.client_type != ClientType::Confidential {
        return Err(AppError::invalid(
            "This integration has no client secret to rotate (it is a public client or an internal integration).",
        ));
    }
    let secret = crypto::random_secret();
    db::write_tx(conn, |conn| {
        integrations::set_secret_hash(conn, &i.id, &crypto::sha256_hex(&secret))?;
        record_developer_event(conn, &i, actor, AuditAction::SecretRotated, i.name.clone())
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
    if i.kind != IntegrationKind::Public {
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
        record_developer_event(
            conn,
            &i,
            actor,
            AuditAction::RedirectUrisChanged,
            uris.join(" "),
        )
    })?;
    Ok(uris)
}

/// Whether someone every workspace can trust vouches for `i` (issue 27
/// item 1): it is built by pagegrant, or the operator registered it (at the
/// command line or in the demo seed: no creator and not self-registered,
/// the same test by which `oauth::authorize` redirects its errors
/// automatically), or the operator marked it reviewed with `pagegrant
/// integration review`.
pub fn vouched(i: &Integration) -> bool {
    i.first_party || i.reviewed_at.is_some() || (i.created_by.is_none() && !i.dynamic)
}

/// A public integration nobody vouches for: shown as "Unverified
/// developer" wherever it appears. An internal integration belongs to its
/// own workspace and is never marked.
pub fn unverified(i: &Integration) -> bool {
    i.kind == IntegrationKind::Public && !vouched(i)
}

/// A public integration as **+ Add connection** offers it: where its
/// consent flow starts, and whether the install policy stops this person.
pub struct Offer {
    pub integration: Integration,
    pub redirect_uri: String,
    pub blocked: Option<Blocked>,
    /// Nobody vouches for it; it is listed because this workspace already
    /// installed or approved it.
    pub unverified: bool,
}

/// The public integrations with a redirect URI that **+ Add connection**
/// lists in `ws`: those someone vouches for (`vouched`), and those already
/// installed (an active connection) or approved in this workspace. Any
/// other one is reached only through its own authorization link, so
/// publishing an integration does not put it in front of every workspace.
pub fn catalogue(conn: &mut Conn, ws: &Workspace, role: Role) -> AppResult<Vec<Offer>> {
    let installed: Vec<IntegrationId> = connections::active_in_workspace(conn, &ws.id, None)?
        .into_iter()
        .map(|(_, i)| i.id)
        .collect();
    let mut out = Vec::new();
    for i in integrations::public(conn)? {
        if !vouched(&i)
            && !installed.contains(&i.id)
            && !connections::is_approved(conn, &ws.id, &i.id)?
        {
            continue;
        }
        let Some(uri) = integrations::redirect_uris(conn, &i.id)?.into_iter().next() else {
            continue;
        };
        out.push(Offer {
            blocked: install_policy::blocked(conn, ws, role, &i)?,
            redirect_uri: uri,
            unverified: unverified(&i),
            integration: i,
        });
    }
    Ok(out)
}

/// Where a person starts connecting `i` to `ws`: the consent flow with the
/// workspace pre-selected, for a confidential client; a public client needs
/// a PKCE challenge only its own site can make, so its website, if any.
pub fn start_link(conn: &mut Conn, i: &Integration, ws: &Workspace) -> AppResult<Option<String>> {
    if i.client_type == ClientType::Public {
        return Ok(i.website_url.clone());
    }
    let Some(uri) = integrations::redirect_uris(conn, &i.id)?.into_iter().next() else {
        return Ok(None);
    };
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &i.client_id)
        .append_pair("response_type", "code")
        .append_pair("owner", "user")
        .append_pair("redirect_uri", &uri)
        .append_pair("workspace_id", ws.id.as_str())
        .finish();
    Ok(Some(format!("/v1/oauth/authorize?{q}")))
}

/// What `review` found.
pub enum Review {
    /// Marked reviewed now.
    Done(Integration),
    /// It was already reviewed at that time; nothing changed.
    Already(Integration, i64),
}

/// `pagegrant integration review ID`: the operator vouches for a public
/// integration (by integration id or client id), which then appears in
/// every workspace's **+ Add connection** and loses "Unverified
/// developer". Audited once; reviewing it again changes nothing.
pub fn review(conn: &mut Conn, wanted: &str) -> AppResult<Review> {
    let wanted = wanted.trim();
    let found = match IntegrationId::parse(wanted) {
        Some(id) => integrations::by_id(conn, &id)?,
        None => None,
    };
    let found = match found {
        Some(i) => Some(i),
        None => integrations::by_client_id(conn, wanted)?,
    };
    let Some(i) = found else {
        return Err(AppError::invalid(format!(
            "no integration has the id or client id {wanted:?}"
        )));
    };
    if i.kind != IntegrationKind::Public {
        return Err(AppError::invalid(format!(
            "{:?} is an internal integration: it belongs to its own workspace and is never listed elsewhere, so there is nothing to review",
            i.name
        )));
    }
    if let Some(at) = i.reviewed_at {
        return Ok(Review::Already(i, at));
    }
    let t = now();
    db::write_tx(conn, |conn| {
        integrations::set_reviewed(conn, &i.id, t)?;
        audit::record(
            conn,
            None,
            Actor::System,
            AuditAction::IntegrationReviewed,
            &i.id,
            i.name.clone(),
        )
    })?;
    Ok(Review::Done(Integration {
        reviewed_at: Some(t),
        ..i
    }))
}

/// The integrations `user` created, for My integrations.
pub fn created_by(conn: &mut Conn, user: &UserId) -> AppResult<Vec<Integration>> {
    Ok(integrations::created_by(conn, user)?)
}

pub fn redirect_uris(conn: &mut Conn, id: &IntegrationId) -> AppResult<Vec<String>> {
    Ok(integrations::redirect_uris(conn, id)?)
}

/// An integration as typed into My integrations' create form.
pub struct Draft {
    pub name: String,
    pub internal: bool,
    /// The workspace of an internal integration, as chosen.
    pub workspace_id: String,
    pub redirect_uris: Vec<String>,
    pub public_client: bool,
    pub capabilities: Vec<String>,
    pub website_url: Option<String>,
    pub privacy_url: Option<String>,
    pub terms_url: Option<String>,
    pub support_email: Option<String>,
    pub icon: Option<String>,
}

/// A refusal in words a person reads: capitalised, ending in a full stop.
pub fn sentence(msg: &str) -> String {
    let mut out: String = msg.trim().to_string();
    if let Some(first) = out.chars().next() {
        out.replace_range(..first.len_utf8(), &first.to_uppercase().to_string());
    }
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// My integrations' create form checked in one pass. `posted` is the
/// `capability` fields as sent: one naming no capability is a bad request
/// (the form offers only known ones); then every field `register` would
/// refuse (`check_draft`); then, when the form sent capability fields but
/// chose none, "at least one capability" (without them at all the default
/// set applies, as on the CLI). Empty: the draft may be created.
pub fn check_form(d: &Draft, posted: &[String]) -> AppResult<Vec<(&'static str, String)>> {
    if posted
        .iter()
        .any(|c| !c.is_empty() && Capability::parse(c).is_none())
    {
        return Err(AppError::invalid("Unknown capability."));
    }
    let mut refused = check_draft(d);
    if !posted.is_empty() && d.capabilities.is_empty() {
        refused.push(("capability", "Choose at least one capability.".into()));
    }
    Ok(refused)
}

/// The fields of a draft `register` would refuse, each with why, so the
/// form can say it next to the field: `name`, `workspace_id`,
/// `redirect_uris`, `website`, `support_email`, `icon`, `capability`.
pub fn check_draft(d: &Draft) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let name = d.name.trim();
    if name.is_empty() {
        out.push(("name", "Enter a name.".to_string()));
    } else if let Err(why) = name_shape(name) {
        out.push(("name", sentence(why)));
    }
    if d.internal {
        if crate::db::models::WorkspaceId::parse(&d.workspace_id).is_none() {
            out.push((
                "workspace_id",
                "Choose the workspace of the internal integration.".to_string(),
            ));
        }
    } else if d.redirect_uris.is_empty() {
        out.push((
            "redirect_uris",
            "A public integration needs at least one redirect URI.".to_string(),
        ));
    } else if let Some(Err(e)) = d
        .redirect_uris
        .iter()
        .map(|u| validate_redirect_uri(u))
        .find(Result::is_err)
    {
        out.push(("redirect_uris", sentence(&e.to_string())));
    }
    for (field, what, url) in [
        ("website", "website", &d.website_url),
        ("privacy_url", "privacy policy", &d.privacy_url),
        ("terms_url", "terms", &d.terms_url),
    ] {
        if let Some(Err(e)) = url.as_ref().map(|u| validate_website(what, u)) {
            out.push((field, sentence(&e.to_string())));
        }
    }
    if let Some(e) = &d.support_email {
        if crate::domain::accounts::normalize_email(e).is_err() {
            out.push((
                "support_email",
                format!("{:?} is not an email address.", e.trim()),
            ));
        }
    }
    if let Some(i) = &d.icon {
        if i.trim().chars().count() > 8 || i.chars().any(char::is_control) {
            out.push((
                "icon",
                "An icon is an emoji or up to 8 characters.".to_string(),
            ));
        }
    }
    if let Err(e) = parse_capabilities(&d.capabilities) {
        out.push(("capability", sentence(&e.to_string())));
    }
    out
}

/// Creates an integration for its creator. An internal one is installed in
/// its workspace at once, so the creator must belong to it and its install
/// policy must let them (owners only under "Only from approved list").
pub fn create_for(
    conn: &mut Conn,
    sbox: &SecretBox,
    creator: &UserId,
    d: Draft,
) -> AppResult<Created> {
    let workspace = if d.internal {
        let id = crate::db::models::WorkspaceId::parse(&d.workspace_id).ok_or_else(|| {
            AppError::invalid("Choose the workspace of the internal integration.")
        })?;
        let mine = || AppError::invalid("Choose one of your workspaces.");
        let w = workspaces::by_id(conn, &id)?.ok_or_else(mine)?;
        let role = workspaces::membership(conn, &w.id, creator)?
            .ok_or_else(mine)?
            .role;
        if let Err(Blocked(why)) = install_policy::can_create_internal(&w, role) {
            return Err(AppError::Forbidden(why));
        }
        Some(w)
    } else {
        None
    };
    let creator = crate::db::queries::users::by_id(conn, creator)?.ok_or(AppError::NotFound)?;
    register(
        conn,
        sbox,
        NewIntegration {
            name: d.name,
            kind: Some(if d.internal {
                IntegrationKind::Internal
            } else {
                IntegrationKind::Public
            }),
            workspace,
            redirect_uris: if d.internal {
                Vec::new()
            } else {
                d.redirect_uris
            },
            public_client: d.public_client && !d.internal,
            first_party: false,
            capabilities: d.capabilities,
            website_url: d.website_url,
            privacy_url: d.privacy_url,
            terms_url: d.terms_url,
            support_email: d.support_email,
            developer_name: None,
            icon: d.icon,
            created_by: Some(creator),
            client_id: None,
            dynamic: None,
        },
    )
}

/// An integration's name, if it exists.
pub fn name(conn: &mut Conn, id: &IntegrationId) -> AppResult<Option<String>> {
    Ok(integrations::by_id(conn, id)?.map(|i| i.name))
}

/// An integration's name as workspace `ws` may read it: only for one this
/// workspace already sees — a public integration (anyone may hold its
/// authorization link), one connected there (any status), one on its approved
/// list, or its own internal one. Otherwise `None`, so an id in the address
/// bar cannot make Settings print another workspace's internal integration
/// (issue 15 #15).
pub fn name_in(
    conn: &mut Conn,
    ws: &crate::db::models::WorkspaceId,
    id: &IntegrationId,
) -> AppResult<Option<String>> {
    let Some(i) = integrations::by_id(conn, id)? else {
        return Ok(None);
    };
    let seen = i.kind == IntegrationKind::Public
        || i.workspace_id.as_ref() == Some(ws)
        || connections::is_approved(conn, ws, id)?
        || connections::for_integration(conn, id)?
            .iter()
            .any(|c| &c.workspace_id == ws);
    Ok(seen.then_some(i.name))
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
            "com.example.app:/oauth2redirect",
            "java.script:alert(1)",
        ] {
            assert!(validate_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn native_redirect_schemes_s75() {
        let listed = vec!["cursor".to_string(), "ms-settings".to_string()];
        let native = RedirectRules::Native(&listed);
        for ok in [
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "com.example.app:/cb",
            "http://127.0.0.1:33418/cb",
            "https://app.example/cb",
        ] {
            assert!(check_redirect_uri(ok, native).is_ok(), "{ok}");
        }
        for bad in [
            "ms-settings:privacy",
            "search-ms:query=x",
            "intent://x#Intent;end",
            "tel:123",
            "javascript:alert(1)",
            "myapp:/cb",
            "ftp://x/cb",
        ] {
            assert!(check_redirect_uri(bad, native).is_err(), "{bad}");
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
