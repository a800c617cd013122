//! `integration add`, `integration review` and `connection add-page`.

use clap::Args;
use serde_json::json;

use super::args::{emit, page_id};
use crate::config::Config;
use crate::db::models::{ConnectionId, IntegrationKind, Workspace};
use crate::db::Conn;
use crate::domain::integrations::{self, Created, NewIntegration, Review};
use crate::domain::workspaces as ws;
use crate::domain::{accounts, connections};
use crate::error::{AppError, AppResult};

#[derive(Args, Debug)]
pub struct IntegrationAdd {
    #[arg(long)]
    name: String,
    /// Redirect URIs (repeat the flag or list several).
    #[arg(long = "redirect-uri", num_args = 1..)]
    redirect_uris: Vec<String>,
    /// An internal integration with a workspace token instead of OAuth.
    #[arg(long, requires = "workspace")]
    internal: bool,
    /// Workspace (id or name) of an internal integration.
    #[arg(long)]
    workspace: Option<String>,
    /// A public OAuth client (no secret; PKCE required).
    #[arg(long)]
    public_client: bool,
    /// Built by pagegrant (eligible for auto-approval).
    #[arg(long)]
    first_party: bool,
    /// Capabilities (space- or comma-separated, or repeated).
    #[arg(long, num_args = 1..)]
    capabilities: Vec<String>,
    #[arg(long)]
    website: Option<String>,
    /// Privacy policy URL, linked from the consent page.
    #[arg(long)]
    privacy_url: Option<String>,
    /// Terms of use URL, linked from the consent page.
    #[arg(long)]
    terms_url: Option<String>,
    #[arg(long)]
    support_email: Option<String>,
    /// Developer name shown on the consent page.
    #[arg(long)]
    developer: Option<String>,
    /// Email or id of the user who manages it under My integrations. An
    /// internal integration is installed by this user; without the flag, by
    /// the workspace's creator (or, if they are no longer an owner, by its
    /// earliest owner by join time, then user id).
    #[arg(long)]
    created_by: Option<String>,
}

/// `integration add`: registers an integration and prints its credentials once.
pub(super) fn add(c: &mut Conn, config: &Config, a: IntegrationAdd, json: bool) -> AppResult<()> {
    let (sbox, _) = crate::state::keys::load(c, config)?;
    let workspace = internal_workspace(c, &a)?;
    let created_by = match &a.created_by {
        Some(u) => Some(accounts::find_user(c, u)?),
        None => None,
    };
    let kind = if a.internal {
        IntegrationKind::Internal
    } else {
        IntegrationKind::Public
    };
    let new = NewIntegration {
        name: a.name,
        kind: Some(kind),
        workspace,
        redirect_uris: a.redirect_uris,
        public_client: a.public_client,
        first_party: a.first_party,
        capabilities: a.capabilities,
        website_url: a.website,
        privacy_url: a.privacy_url,
        terms_url: a.terms_url,
        support_email: a.support_email,
        developer_name: a.developer,
        icon: None,
        created_by,
        client_id: None,
        dynamic: None,
    };
    let created = integrations::register(c, &sbox, new)?;
    print_created(&created, json);
    Ok(())
}

/// The workspace of an `--internal` integration; `--workspace` is refused otherwise.
fn internal_workspace(c: &mut Conn, a: &IntegrationAdd) -> AppResult<Option<Workspace>> {
    match &a.workspace {
        Some(w) if a.internal => Ok(Some(ws::find_workspace(c, w)?)),
        Some(_) => Err(AppError::invalid(
            "--workspace applies only to --internal integrations",
        )),
        None => Ok(None),
    }
}

/// The new integration, with its secret or internal token (shown only now).
fn print_created(created: &Created, json: bool) {
    let i = &created.integration;
    let mut v = json!({
        "id": i.id, "integration_id": i.id, "name": i.name, "kind": i.kind,
        "client_id": i.client_id, "client_type": i.client_type, "capabilities": i.capabilities,
    });
    let mut human = vec![
        format!(
            "Registered {} integration {:?}, id {}",
            i.kind, i.name, i.id
        ),
        format!("Client id:     {}", i.client_id),
    ];
    if let Some(s) = &created.client_secret {
        v["client_secret"] = json!(s);
        human.push(format!("Client secret: {s}   (shown once; store it now)"));
    }
    if let Some(t) = &created.internal_token {
        v["token"] = json!(t);
        v["connection_id"] = json!(created.connection_id);
        human.push(format!("Internal token: {t}"));
    }
    emit(json, v, &human);
}

/// `integration review`: the operator vouches for a public integration.
pub(super) fn review(c: &mut Conn, id: &str, json: bool) -> AppResult<()> {
    let (i, already) = match integrations::review(c, id)? {
        Review::Done(i) => (i, false),
        Review::Already(i, _) => (i, true),
    };
    let line = match already {
        true => format!(
            "{:?} ({}) was already reviewed; nothing changed",
            i.name, i.id
        ),
        false => format!(
            "Reviewed {:?} ({}): it is now listed in every workspace's + Add connection",
            i.name, i.id
        ),
    };
    emit(
        json,
        json!({"id": i.id, "integration_id": i.id, "name": i.name, "reviewed": true, "already_reviewed": already, "reviewed_at": i.reviewed_at}),
        &[line],
    );
    Ok(())
}

/// `connection add-page`: shares a page (and its descendants) with a connection.
pub(super) fn connection_add_page(
    c: &mut Conn,
    config: &Config,
    connection: &str,
    page: &str,
    json: bool,
) -> AppResult<()> {
    let cid = ConnectionId::parse(connection)
        .ok_or_else(|| AppError::invalid(format!("{connection:?} is not a connection id")))?;
    let pid = page_id(page)?;
    let (sbox, _) = crate::state::keys::load(c, config)?;
    let changed = connections::connection_add_page(c, &sbox, &cid, &pid)?;
    let added = changed.pages;
    let line = if changed.token_replaced {
        format!("Shared page {pid} with connection {cid}; its internal token was replaced because someone other than its installer had copied it (the installer copies the new one)")
    } else if added {
        format!("Shared page {pid} with connection {cid}")
    } else {
        format!("Page {pid} was already shared with connection {cid}")
    };
    emit(
        json,
        json!({"id": cid, "connection_id": cid, "page_id": pid, "added": added, "token_replaced": changed.token_replaced}),
        &[line],
    );
    Ok(())
}
