//! The command line (DESIGN §5): `serve` (the default) and the admin verbs.
//! Verbs call the same service functions as the HTTP handlers; with `--json`
//! each prints exactly one JSON object. Errors go to stderr with exit code 1.
//!
//! This file holds the clap definitions and the dispatch; each verb is one
//! function in the file of its noun: `serve`, `database` (migrate, demo,
//! backup), `users`, `workspaces` (workspaces, pages, audit),
//! `integrations` (integrations, connections) and `keys`.

mod args;
mod database;
mod integrations;
mod keys;
mod serve;
mod users;
mod workspaces;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db;
use crate::error::{AppError, AppResult};

#[derive(Parser, Debug)]
#[command(
    name = "pagegrant",
    version,
    about = "OAuth 2.0 authorization server with page-scoped consent"
)]
pub struct Cli {
    /// Configuration file (default: ./config.toml when present, else built-in defaults).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print exactly one JSON object on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub verb: Option<Verb>,
}

#[derive(Subcommand, Debug)]
pub enum Verb {
    /// Serve HTTP (the default).
    Serve,
    /// Run pending database migrations.
    Migrate,
    /// Seed the demo world into an empty database.
    Demo,
    /// User accounts: add a user, set a password (also unlocks a throttled login),
    /// reset two-step verification.
    #[command(subcommand)]
    User(UserVerb),
    /// Workspaces and their members: create, add, remove, change roles.
    #[command(subcommand)]
    Workspace(WorkspaceVerb),
    /// Pages: create a page in a workspace, show one as Markdown.
    #[command(subcommand)]
    Page(PageVerb),
    /// Integrations: register a public OAuth client or an internal integration.
    #[command(subcommand)]
    Integration(IntegrationVerb),
    /// Connections: share pages with an installed integration.
    #[command(subcommand)]
    Connection(ConnectionVerb),
    /// Export a workspace's audit events, newest first.
    Audit {
        /// Workspace id or name.
        #[arg(long)]
        workspace: String,
        /// Write CSV (the web's Export CSV, cells a spreadsheet will not run).
        #[arg(long)]
        csv: bool,
    },
    /// Token signing keys: rotate, list.
    #[command(subcommand)]
    Keys(KeysVerb),
    /// Copy the SQLite database to a new file, consistent even while serving
    /// (for PostgreSQL, use pg_dump).
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long)]
        to: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysVerb {
    /// Add a new signing key; it signs from now on, older tokens stay valid until they expire.
    Rotate,
    /// List the signing keys in the JWKS, oldest first.
    List,
}

#[derive(Subcommand, Debug)]
pub enum UserVerb {
    /// Create a user; without --password-stdin a password is generated and printed.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (ends their sessions); generated unless --password-stdin.
    SetPassword {
        /// Email or id of the user.
        #[arg(long, alias = "user")]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Turn off a user's two-step verification (a lost phone and lost
    /// recovery codes) and turn their password sign-in back on (lost
    /// passkeys); they sign in with their password alone again.
    #[command(name = "reset-2fa")]
    Reset2fa {
        /// Email or id of the user.
        email: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum WorkspaceVerb {
    /// Create a workspace owned by a user.
    Add {
        #[arg(long)]
        name: String,
        /// Email or id of the first owner.
        #[arg(long)]
        owner: String,
        /// free, plus, business or enterprise.
        #[arg(long, default_value = "free")]
        plan: String,
    },
    /// Add a user to a workspace.
    AddMember {
        /// Workspace id or name.
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        email: String,
        /// owner or member.
        #[arg(long)]
        role: String,
    },
    /// Remove a user from a workspace; the connections they added there end at once.
    RemoveMember {
        /// Workspace id or name.
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        email: String,
    },
    /// Change a member's role; the last owner cannot be made a member.
    SetRole {
        /// Workspace id or name.
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        email: String,
        /// owner or member.
        #[arg(long)]
        role: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum PageVerb {
    /// Create a page.
    Add {
        /// Workspace id or name.
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        title: String,
        /// Parent page id.
        #[arg(long)]
        parent: Option<String>,
        /// Private to --owner.
        #[arg(long, requires = "owner")]
        private: bool,
        /// Email or id of the creator (default: the workspace's first owner).
        #[arg(long)]
        owner: Option<String>,
        /// A Markdown file to fill the page with, written by the creator.
        #[arg(long, value_name = "FILE.md")]
        content: Option<PathBuf>,
    },
    /// Show a page: its title and content.
    Show {
        /// Page id.
        id: String,
        /// Print the page as Markdown: `# Title`, then its content.
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum IntegrationVerb {
    /// Register an integration; prints its client id and secret (or internal token) once.
    Add(Box<integrations::IntegrationAdd>),
    /// Vouch for a public integration (by id or client id): it joins every
    /// workspace's + Add connection and loses "Unverified developer".
    Review {
        /// Integration id or client id.
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConnectionVerb {
    /// Share a page (and its descendants) with a connection.
    AddPage {
        #[arg(long)]
        connection: String,
        #[arg(long)]
        page: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    init_tracing(&config, matches!(cli.verb, None | Some(Verb::Serve)));
    let result = match cli.verb {
        None | Some(Verb::Serve) => serve::serve(config),
        Some(verb) => run_verb(&config, verb, cli.json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn init_tracing(config: &Config, serving: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| {
            // Admin verbs talk on stdout; only warnings belong on stderr.
            let f = if serving {
                config.log.filter.as_str()
            } else {
                "warn"
            };
            EnvFilter::try_new(f).ok()
        })
        .unwrap_or_else(|| EnvFilter::new("info"));
    // Colour only for a person watching: logs go to stderr, so a log file
    // or a pipe there gets plain text (and NO_COLOR is honoured).
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Opens the database (unmigrated for `migrate`) and runs one admin verb.
fn run_verb(config: &Config, verb: Verb, json: bool) -> AppResult<()> {
    let pool = match verb {
        Verb::Migrate => db::open_unmigrated(&config.database)?,
        _ => db::open(&config.database)?,
    };
    let mut conn = pool.get()?;
    let c = &mut *conn;
    match verb {
        Verb::Serve => Err(AppError::internal("serve is handled elsewhere")),
        Verb::Migrate => database::migrate(c, config, json),
        Verb::Demo => database::demo(c, config, json),
        Verb::Backup { to } => database::backup(c, &to, json),
        Verb::User(UserVerb::Add {
            email,
            name,
            password_stdin,
        }) => users::add(c, &email, &name, password_stdin, json),
        Verb::User(UserVerb::SetPassword {
            email,
            password_stdin,
        }) => users::set_password(c, &email, password_stdin, json),
        Verb::User(UserVerb::Reset2fa { email }) => users::reset_two_step(c, &email, json),
        Verb::Workspace(WorkspaceVerb::Add { name, owner, plan }) => {
            workspaces::add(c, &name, &owner, &plan, json)
        }
        Verb::Workspace(WorkspaceVerb::AddMember {
            workspace,
            email,
            role,
        }) => workspaces::add_member(c, &workspace, &email, &role, json),
        Verb::Workspace(WorkspaceVerb::RemoveMember { workspace, email }) => {
            workspaces::remove_member(c, &workspace, &email, json)
        }
        Verb::Workspace(WorkspaceVerb::SetRole {
            workspace,
            email,
            role,
        }) => workspaces::set_role(c, &workspace, &email, &role, json),
        Verb::Page(PageVerb::Add {
            workspace,
            title,
            parent,
            private,
            owner,
            content,
        }) => {
            let new = workspaces::PageAdd {
                workspace: &workspace,
                title: &title,
                parent: parent.as_deref(),
                private,
                owner: owner.as_deref(),
                content: content.as_deref(),
            };
            workspaces::page_add(c, new, json)
        }
        Verb::Page(PageVerb::Show { id, markdown }) => {
            workspaces::page_show(c, &id, markdown, json)
        }
        Verb::Audit { workspace, csv } => workspaces::audit(c, &workspace, csv, json),
        Verb::Integration(IntegrationVerb::Add(a)) => integrations::add(c, config, *a, json),
        Verb::Integration(IntegrationVerb::Review { id }) => integrations::review(c, &id, json),
        Verb::Connection(ConnectionVerb::AddPage { connection, page }) => {
            integrations::connection_add_page(c, config, &connection, &page, json)
        }
        Verb::Keys(KeysVerb::Rotate) => keys::rotate(c, config, json),
        Verb::Keys(KeysVerb::List) => keys::list(c, config, json),
    }
}
