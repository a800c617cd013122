//! The demo world: seeded into an empty database so `cargo run --release`
//! shows a working instance at once (two users, an Enterprise and a Free
//! workspace, a page tree with content, first-party integrations, an
//! internal one). Each page's content is Markdown under `demo/`, written
//! through `markdown::to_blocks` and `blocks::append` by the page's creator.

use crate::domain::accounts;

use crate::crypto::SecretBox;
use crate::db::models::{IntegrationKind, Page, PageId, Plan, Role, User, Workspace};
use crate::db::queries::{integrations as iq, users};
use crate::db::{self, Conn};
use crate::domain::content::Author;
use crate::domain::integrations::{self, NewIntegration};
use crate::domain::workspaces::{self as ws, NewPage};
use crate::domain::{blocks, markdown};
use crate::error::{AppError, AppResult, Capability};

pub const DEMO_PASSWORD: &str = "pagegrant-demo";
pub const OWNER_EMAIL: &str = "ada@example.com";
pub const MEMBER_EMAIL: &str = "grace@example.com";
/// The built-in partner site's client id; its redirect URI follows `server.issuer`.
pub const PARTNER_CLIENT_ID: &str = "pagegrant-demo-partner";

pub enum Outcome {
    Seeded,
    AlreadySeeded,
    /// The database holds other data; demo data goes only into an empty one.
    NotEmpty,
}

pub struct Login {
    pub email: &'static str,
    pub password: &'static str,
    pub role: &'static str,
}

pub fn logins() -> [Login; 2] {
    [
        Login {
            email: OWNER_EMAIL,
            password: DEMO_PASSWORD,
            role: "owner of Acme Corp (Enterprise) and Ada's Notebook (Free)",
        },
        Login {
            email: MEMBER_EMAIL,
            password: DEMO_PASSWORD,
            role: "member of Acme Corp",
        },
    ]
}

pub fn partner_redirect_uri(issuer: &str) -> String {
    format!("{issuer}/demo/partner/callback")
}

/// The demo partner's callback as it arrived (RFC 6749 §4.1.2).
pub struct PartnerCallback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
}

/// What the demo partner makes of its callback, given the `state` it saved
/// when it started: the code to exchange, or the sentence it shows instead.
pub fn partner_callback(
    cb: PartnerCallback,
    saved_state: &str,
    issuer: &str,
) -> Result<String, String> {
    if let Some(e) = cb.error {
        // Anyone can link to this callback, and the page is served from
        // pagegrant's own origin: show only an error code, never the
        // `error_description` text (issue 15 #16).
        let code = if !e.is_empty()
            && e.len() <= 64
            && e.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        {
            e
        } else {
            "an unrecognised error".into()
        };
        return Err(format!("The authorization server answered {code}."));
    }
    if saved_state.is_empty()
        || !crate::crypto::constant_time_eq(cb.state.as_deref().unwrap_or_default(), saved_state)
    {
        return Err("The state does not match the one this partner sent; start again.".into());
    }
    if cb.iss.as_deref() != Some(issuer) {
        return Err("The iss parameter does not name this authorization server (RFC 9207); refusing the code.".into());
    }
    cb.code
        .ok_or_else(|| "The callback carried no code.".to_string())
}

/// Seeds the demo world into an empty database; never touches a non-empty one.
pub fn seed(conn: &mut Conn, sbox: &SecretBox, issuer: &str) -> AppResult<Outcome> {
    if users::count(conn)? > 0 {
        return Ok(if users::by_email(conn, OWNER_EMAIL)?.is_some() {
            Outcome::AlreadySeeded
        } else {
            Outcome::NotEmpty
        });
    }
    // One transaction: a crash half-way leaves an empty database, seeded next time.
    db::write_tx(conn, |conn| seed_world(conn, sbox, issuer))?;
    Ok(Outcome::Seeded)
}

/// Re-derives the demo partner's redirect URI from the configured issuer.
pub fn refresh_partner(conn: &mut Conn, issuer: &str) -> AppResult<()> {
    if let Some(partner) = iq::by_client_id(conn, PARTNER_CLIENT_ID)? {
        let uri = partner_redirect_uri(issuer);
        if iq::redirect_uris(conn, &partner.id)? != vec![uri.clone()] {
            db::write_tx(conn, |c| {
                Ok(iq::replace_redirect_uris(c, &partner.id, &[uri])?)
            })?;
        }
    }
    Ok(())
}

fn page(
    conn: &mut Conn,
    w: &Workspace,
    creator: &User,
    title: &str,
    parent: Option<&PageId>,
    private: bool,
    content: &str,
) -> AppResult<Page> {
    let page = ws::add_page(
        conn,
        NewPage {
            workspace: w,
            title,
            parent,
            private,
            creator,
        },
    )?;
    let by = Author::User(creator.id.clone());
    blocks::append(conn, &page.id, &by, &markdown::to_blocks(content))?;
    Ok(page)
}

fn seed_world(conn: &mut Conn, sbox: &SecretBox, issuer: &str) -> AppResult<()> {
    let ada = accounts::create_user(conn, OWNER_EMAIL, "Ada Lovelace", DEMO_PASSWORD)?;
    let grace = accounts::create_user(conn, MEMBER_EMAIL, "Grace Hopper", DEMO_PASSWORD)?;
    let acme = ws::create_workspace(conn, "Acme Corp", &ada, Plan::Enterprise)?;
    ws::add_member(conn, &acme, &grace, Role::Member)?;
    let notebook = ws::create_workspace(conn, "Ada's Notebook", &ada, Plan::Free)?;

    let eng = page(
        conn,
        &acme,
        &ada,
        "Engineering",
        None,
        false,
        include_str!("demo/engineering.md"),
    )?;
    let roadmap = page(
        conn,
        &acme,
        &ada,
        "Roadmap 2026",
        Some(&eng.id),
        false,
        include_str!("demo/roadmap.md"),
    )?;
    page(
        conn,
        &acme,
        &ada,
        "Q1 Planning",
        Some(&roadmap.id),
        false,
        include_str!("demo/q1.md"),
    )?;
    page(
        conn,
        &acme,
        &grace,
        "Q2 Planning",
        Some(&roadmap.id),
        false,
        include_str!("demo/q2.md"),
    )?;
    let arch = page(
        conn,
        &acme,
        &ada,
        "Architecture",
        Some(&eng.id),
        false,
        include_str!("demo/architecture.md"),
    )?;
    page(
        conn,
        &acme,
        &ada,
        "Authorization Server",
        Some(&arch.id),
        false,
        include_str!("demo/authz.md"),
    )?;
    page(
        conn,
        &acme,
        &grace,
        "Database Schema",
        Some(&arch.id),
        false,
        include_str!("demo/schema.md"),
    )?;
    page(
        conn,
        &acme,
        &grace,
        "On-call Runbook",
        Some(&eng.id),
        false,
        include_str!("demo/oncall.md"),
    )?;
    let product = page(
        conn,
        &acme,
        &grace,
        "Product",
        None,
        false,
        include_str!("demo/product.md"),
    )?;
    page(
        conn,
        &acme,
        &grace,
        "Launch Checklist",
        Some(&product.id),
        false,
        include_str!("demo/launch.md"),
    )?;
    page(
        conn,
        &acme,
        &ada,
        "Customer Interviews",
        Some(&product.id),
        false,
        include_str!("demo/interviews.md"),
    )?;
    let handbook = page(
        conn,
        &acme,
        &ada,
        "Company Handbook",
        None,
        false,
        include_str!("demo/handbook.md"),
    )?;
    page(
        conn,
        &acme,
        &ada,
        "Benefits",
        Some(&handbook.id),
        false,
        include_str!("demo/benefits.md"),
    )?;
    page(
        conn,
        &acme,
        &ada,
        "Travel Policy",
        Some(&handbook.id),
        false,
        include_str!("demo/travel.md"),
    )?;
    let drafts = page(
        conn,
        &acme,
        &ada,
        "Ada's Drafts",
        None,
        true,
        include_str!("demo/drafts.md"),
    )?;
    page(
        conn,
        &acme,
        &ada,
        "Unsent Ideas",
        Some(&drafts.id),
        false,
        include_str!("demo/unsent.md"),
    )?;
    page(
        conn,
        &acme,
        &grace,
        "Grace's Scratchpad",
        None,
        true,
        include_str!("demo/scratchpad.md"),
    )?;

    page(
        conn,
        &notebook,
        &ada,
        "Reading List",
        None,
        false,
        include_str!("demo/reading.md"),
    )?;
    let recipes = page(
        conn,
        &notebook,
        &ada,
        "Recipes",
        None,
        false,
        include_str!("demo/recipes.md"),
    )?;
    page(
        conn,
        &notebook,
        &ada,
        "Sourdough Bread",
        Some(&recipes.id),
        false,
        include_str!("demo/sourdough.md"),
    )?;
    page(
        conn,
        &notebook,
        &ada,
        "Travel Journal",
        None,
        false,
        include_str!("demo/journal.md"),
    )?;

    for (name, host) in [
        ("GitHub", "github"),
        ("Jira", "jira"),
        ("Slack", "slack"),
        ("Asana", "asana"),
        ("Trello", "trello"),
    ] {
        integrations::register(
            conn,
            sbox,
            NewIntegration {
                name: name.into(),
                kind: Some(IntegrationKind::Public),
                redirect_uris: vec![format!("https://{host}.example.com/oauth/callback")],
                first_party: true,
                developer_name: Some("pagegrant".into()),
                website_url: Some(format!("https://{host}.example.com")),
                support_email: Some(format!("support@{host}.example.com")),
                capabilities: vec![
                    Capability::ReadContent.to_string(),
                    Capability::ReadUserWithoutEmail.to_string(),
                ],
                ..Default::default()
            },
        )?;
    }
    integrations::register(
        conn,
        sbox,
        NewIntegration {
            name: "Calendar Sync".into(),
            kind: Some(IntegrationKind::Public),
            redirect_uris: vec!["https://calendar-sync.example.com/callback".into()],
            developer_name: Some("Example Labs".into()),
            website_url: Some("https://calendar-sync.example.com".into()),
            support_email: Some("help@calendar-sync.example.com".into()),
            ..Default::default()
        },
    )?;
    integrations::register(
        conn,
        sbox,
        NewIntegration {
            name: "Demo Partner".into(),
            kind: Some(IntegrationKind::Public),
            redirect_uris: vec![partner_redirect_uri(issuer)],
            public_client: true,
            client_id: Some(PARTNER_CLIENT_ID.into()),
            developer_name: Some("pagegrant demo".into()),
            website_url: Some(format!("{}/demo/partner", issuer.trim_end_matches('/'))),
            ..Default::default()
        },
    )?;
    let bot = integrations::register(
        conn,
        sbox,
        NewIntegration {
            name: "Acme Reports Bot".into(),
            kind: Some(IntegrationKind::Internal),
            workspace: Some(acme.clone()),
            created_by: Some(ada.clone()),
            capabilities: vec![Capability::ReadContent.to_string()],
            ..Default::default()
        },
    )?;
    let conn_id = bot
        .connection_id
        .ok_or_else(|| AppError::internal("internal integration without connection"))?;
    crate::domain::connections::connection_add_page(conn, sbox, &conn_id, &eng.id)?;
    Ok(())
}

/// Whether the demo partner is registered here (it is seeded with the demo world).
pub fn partner_installed(conn: &mut Conn) -> AppResult<bool> {
    Ok(iq::by_client_id(conn, PARTNER_CLIENT_ID)?.is_some())
}
