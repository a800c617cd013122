//! The command line (DESIGN §5): `serve` (the default) and the admin verbs.
//! Verbs call the same service functions as the HTTP handlers; with `--json`
//! each prints exactly one JSON object. Errors go to stderr with exit code 1.

use std::io::{BufRead, IsTerminal};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};

use crate::config::Config;
use crate::db;
use crate::db::models::{ConnectionId, IntegrationKind, PageId, Plan, Role};
use crate::db::queries::audit;
use crate::domain::integrations::{self, NewIntegration};
use crate::domain::workspaces::{self as ws, NewPage};
use crate::domain::{accounts, demo};
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
    #[command(subcommand)]
    User(UserVerb),
    #[command(subcommand)]
    Workspace(WorkspaceVerb),
    #[command(subcommand)]
    Page(PageVerb),
    #[command(subcommand)]
    Integration(IntegrationVerb),
    #[command(subcommand)]
    Connection(ConnectionVerb),
    /// Export a workspace's audit events, newest first.
    Audit {
        /// Workspace id or name.
        #[arg(long)]
        workspace: String,
    },
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
    },
}

#[derive(Subcommand, Debug)]
pub enum IntegrationVerb {
    /// Register an integration; prints its client id and secret (or internal token) once.
    Add(IntegrationAdd),
}

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
    #[arg(long)]
    support_email: Option<String>,
    /// Developer name shown on the consent page.
    #[arg(long)]
    developer: Option<String>,
    /// Email or id of the user who manages it under My integrations.
    #[arg(long)]
    created_by: Option<String>,
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
    crate::crypto::return_big_allocations_to_the_os();
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
        None | Some(Verb::Serve) => serve(config),
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
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn serve(config: Config) -> AppResult<()> {
    let bind = config
        .bind_addr()
        .map_err(|e| AppError::invalid(e.to_string()))?;
    // Bind first, so a taken port is reported before anything is written.
    let listener = TcpListener::bind(bind)
        .map_err(|e| AppError::invalid(format!("cannot listen on {bind}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| AppError::internal(format!("listener: {e}")))?;
    let state = crate::build_state(config)?;
    let issuer = state.config.server.issuer.clone();
    let seeded = crate::prepare(&state)?;
    println!(
        "pagegrant {} serving {issuer} (listening on {local})",
        env!("CARGO_PKG_VERSION")
    );
    match seeded {
        Some(demo::Outcome::Seeded) | Some(demo::Outcome::AlreadySeeded) => {
            if matches!(seeded, Some(demo::Outcome::Seeded)) {
                println!("Seeded the demo world into {}.", state.config.database.url);
            }
            println!("Log in at {issuer}/login with a demo account:");
            for l in demo::logins() {
                println!("  {:<20} password {:<16} {}", l.email, l.password, l.role);
            }
        }
        _ => {}
    }
    actix_web::rt::System::new()
        .block_on(async move { crate::run(state, listener)?.await })
        .map_err(|e| AppError::internal(format!("server: {e}")))
}

fn read_password_stdin() -> AppResult<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password: ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| AppError::invalid(format!("reading the password from stdin: {e}")))?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        return Err(AppError::invalid("no password on standard input"));
    }
    Ok(pw)
}

/// Prints one JSON object, or the human lines.
fn emit(json: bool, value: Value, human: &[String]) {
    if json {
        println!("{value}");
    } else {
        for l in human {
            println!("{l}");
        }
    }
}

fn run_verb(config: &Config, verb: Verb, json: bool) -> AppResult<()> {
    let pool = match verb {
        Verb::Migrate => db::open_unmigrated(&config.database)?,
        _ => db::open(&config.database)?,
    };
    let mut conn = pool.get()?;
    let c = &mut *conn;
    match verb {
        Verb::Serve => Err(AppError::internal("serve is handled elsewhere")),
        Verb::Migrate => {
            let n = db::migrate(c)?;
            emit(
                json,
                json!({"migrations_applied": n, "database": db::redacted(&config.database.url)}),
                &[format!(
                    "Database {} is up to date ({n} migration(s) applied now).",
                    db::redacted(&config.database.url)
                )],
            );
            Ok(())
        }
        Verb::Demo => {
            let (sbox, _) = crate::oauth::keys::load(c, config)?;
            match demo::seed(c, &sbox, &config.server.issuer)? {
                demo::Outcome::NotEmpty => Err(AppError::invalid(
                    "the database already holds data; demo data is seeded only into an empty database",
                )),
                outcome => {
                    let seeded = matches!(outcome, demo::Outcome::Seeded);
                    let logins: Vec<Value> = demo::logins()
                        .iter()
                        .map(|l| json!({"email": l.email, "password": l.password, "role": l.role}))
                        .collect();
                    let mut human = vec![if seeded {
                        "Seeded the demo world.".to_string()
                    } else {
                        "The demo world is already there.".to_string()
                    }];
                    human.extend(demo::logins().iter().map(|l| format!("  {} / {}  ({})", l.email, l.password, l.role)));
                    emit(json, json!({"seeded": seeded, "logins": logins}), &human);
                    Ok(())
                }
            }
        }
        Verb::User(UserVerb::Add {
            email,
            name,
            password_stdin,
        }) => {
            let (password, generated) = if password_stdin {
                (read_password_stdin()?, false)
            } else {
                (accounts::generate_password(), true)
            };
            let user = accounts::create_user(c, &email, &name, &password)?;
            let mut v =
                json!({"id": user.id, "user_id": user.id, "email": user.email, "name": user.name});
            let mut human = vec![format!(
                "Created user {} ({}), id {}",
                user.email, user.name, user.id
            )];
            if generated {
                v["password"] = json!(password);
                human.push(format!("Password: {password}"));
            }
            emit(json, v, &human);
            Ok(())
        }
        Verb::User(UserVerb::SetPassword {
            email,
            password_stdin,
        }) => {
            let user = accounts::find_user(c, &email)?;
            let (password, generated) = if password_stdin {
                (read_password_stdin()?, false)
            } else {
                (accounts::generate_password(), true)
            };
            accounts::set_password(c, &user, &password)?;
            let mut v = json!({"id": user.id, "user_id": user.id, "email": user.email});
            let mut human = vec![format!(
                "Password of {} changed; their sessions have ended.",
                user.email
            )];
            if generated {
                v["password"] = json!(password);
                human.push(format!("Password: {password}"));
            }
            emit(json, v, &human);
            Ok(())
        }
        Verb::Workspace(WorkspaceVerb::Add { name, owner, plan }) => {
            let plan = Plan::parse(&plan).ok_or_else(|| {
                AppError::invalid(format!("unknown plan {plan:?}; choose {}", Plan::choices()))
            })?;
            let owner = accounts::find_user(c, &owner)?;
            let w = ws::create_workspace(c, &name, &owner, plan)?;
            emit(
                json,
                json!({"id": w.id, "workspace_id": w.id, "name": w.name, "plan": w.plan, "owner_id": owner.id}),
                &[format!(
                    "Created workspace {:?} ({} plan), id {}, owned by {}",
                    w.name, w.plan, w.id, owner.email
                )],
            );
            Ok(())
        }
        Verb::Workspace(WorkspaceVerb::AddMember {
            workspace,
            email,
            role,
        }) => {
            let role = Role::parse(&role).ok_or_else(|| {
                AppError::invalid(format!("unknown role {role:?}; choose {}", Role::choices()))
            })?;
            let w = ws::find_workspace(c, &workspace)?;
            let user = accounts::find_user(c, &email)?;
            ws::add_member(c, &w, &user, role)?;
            emit(
                json,
                json!({"id": w.id, "workspace_id": w.id, "user_id": user.id, "role": role.as_str()}),
                &[format!("Added {} to {:?} as {}", user.email, w.name, role)],
            );
            Ok(())
        }
        Verb::Page(PageVerb::Add {
            workspace,
            title,
            parent,
            private,
            owner,
        }) => {
            let w = ws::find_workspace(c, &workspace)?;
            let parent = match parent {
                Some(p) => Some(
                    PageId::parse(&p)
                        .ok_or_else(|| AppError::invalid(format!("{p:?} is not a page id")))?,
                ),
                None => None,
            };
            let creator = match owner {
                Some(o) => accounts::find_user(c, &o)?,
                None => {
                    let id = crate::db::queries::workspaces::first_owner(c, &w.id)?
                        .ok_or_else(|| AppError::invalid("the workspace has no owner"))?;
                    accounts::find_user(c, id.as_str())?
                }
            };
            let page = ws::add_page(
                c,
                NewPage {
                    workspace: &w,
                    title: &title,
                    parent: parent.as_ref(),
                    private,
                    creator: &creator,
                },
            )?;
            emit(
                json,
                json!({"id": page.id, "page_id": page.id, "workspace_id": w.id, "parent_id": page.parent_id, "title": page.title, "visibility": page.visibility}),
                &[format!("Created page {:?}, id {}", page.title, page.id)],
            );
            Ok(())
        }
        Verb::Integration(IntegrationVerb::Add(a)) => {
            let (sbox, _) = crate::oauth::keys::load(c, config)?;
            let workspace = match &a.workspace {
                Some(w) if a.internal => Some(ws::find_workspace(c, w)?),
                Some(_) => {
                    return Err(AppError::invalid(
                        "--workspace applies only to --internal integrations",
                    ))
                }
                None => None,
            };
            let created_by = match &a.created_by {
                Some(u) => Some(accounts::find_user(c, u)?),
                None => None,
            };
            let created = integrations::register(
                c,
                &sbox,
                NewIntegration {
                    name: a.name,
                    kind: Some(if a.internal {
                        IntegrationKind::Internal
                    } else {
                        IntegrationKind::Public
                    }),
                    workspace,
                    redirect_uris: a.redirect_uris,
                    public_client: a.public_client,
                    first_party: a.first_party,
                    capabilities: a.capabilities,
                    website_url: a.website,
                    support_email: a.support_email,
                    developer_name: a.developer,
                    icon: None,
                    created_by,
                    client_id: None,
                },
            )?;
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
            Ok(())
        }
        Verb::Connection(ConnectionVerb::AddPage { connection, page }) => {
            let cid = ConnectionId::parse(&connection).ok_or_else(|| {
                AppError::invalid(format!("{connection:?} is not a connection id"))
            })?;
            let pid = PageId::parse(&page)
                .ok_or_else(|| AppError::invalid(format!("{page:?} is not a page id")))?;
            let added = crate::domain::connections::connection_add_page(c, &cid, &pid)?;
            emit(
                json,
                json!({"id": cid, "connection_id": cid, "page_id": pid, "added": added}),
                &[if added {
                    format!("Shared page {pid} with connection {cid}")
                } else {
                    format!("Page {pid} was already shared with connection {cid}")
                }],
            );
            Ok(())
        }
        Verb::Keys(KeysVerb::Rotate) => {
            let kid = crate::oauth::keys::rotate(c, config)?;
            emit(
                json,
                json!({"id": kid, "kid": kid}),
                &[format!(
                    "Added signing key {kid}; it signs new tokens from now on (running instances switch within 30 s), and earlier keys keep verifying."
                )],
            );
            Ok(())
        }
        Verb::Keys(KeysVerb::List) => {
            crate::oauth::keys::load(c, config)?;
            let keys = crate::oauth::keys::list(c)?;
            let signing = keys.last().map(|(k, _)| k.clone()).unwrap_or_default();
            emit(
                json,
                json!({"id": signing, "kid": signing, "keys": keys.iter().map(|(k, at)| json!({"kid": k, "created_at": at})).collect::<Vec<_>>()}),
                &keys
                    .iter()
                    .map(|(k, at)| {
                        format!(
                            "{k}  created {at}{}",
                            if *k == signing { "  (signs)" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>(),
            );
            Ok(())
        }
        Verb::Backup { to } => {
            let bytes = db::backup(c, &to)?;
            emit(
                json,
                json!({"id": to.display().to_string(), "path": to.display().to_string(), "bytes": bytes}),
                &[format!(
                    "Wrote a copy of the database to {} ({bytes} bytes).",
                    to.display()
                )],
            );
            Ok(())
        }
        Verb::Audit { workspace } => {
            let w = ws::find_workspace(c, &workspace)?;
            let events = audit::for_workspace(c, &w.id)?;
            let human: Vec<String> = events
                .iter()
                .map(|e| {
                    format!(
                        "{}  {:<24} actor={} target={} {}",
                        e.at,
                        e.action,
                        e.actor.as_deref().unwrap_or("-"),
                        e.target,
                        e.detail
                    )
                })
                .collect();
            emit(
                json,
                json!({"id": w.id, "workspace_id": w.id, "events": events}),
                &human,
            );
            Ok(())
        }
    }
}
