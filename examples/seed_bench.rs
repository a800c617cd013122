//! Seeds a benchmark database through pagegrant's own service functions, for
//! `scripts/bench` (never run by CI).
//!
//! - `--workspaces` W (default 100) workspaces of `--pages` P (default 100)
//!   pages each, all owned by bench-owner@example.com. Each workspace holds one
//!   shared tree of exactly 10 pages, 6 deep, and P - 10 filler pages in
//!   other trees up to 6 deep; so when P grows the shared set stays fixed.
//! - `--integrations` I (default 10) public confidential integrations, and one
//!   connection per (integration, workspace): I x W connections (1,000), each
//!   granted its workspace's shared tree through the real authorize
//!   validation, consent page and Allow (`domain::consent`, `oauth::authorize::answer`), its code
//!   redeemed by the token grant (`oauth::token`) with PKCE. So every
//!   connection holds a live RFC 9068 access token and a refresh token.
//! - Every page holds a few content blocks (a heading, a paragraph, two
//!   bullets and a to-do) from a small Markdown template, so block reads and
//!   search see pages with content.
//! - bench-consent@example.com, a member of workspace 0 only, for the
//!   consent and login operations (a consent page with one workspace and P
//!   pages).
//!
//! Writes into DATA_DIR: `bench.db` and the keys, `grants.tsv` (client index,
//! `/v1` access token, refresh token, `/mcp` access token and the shared
//! root page per connection), and prints one JSON object:
//! the clients with their secrets, the users, the consent workspace and
//! page. The issuer must be the one the server will run with (`aud`, `iss`).
//!
//! usage: seed_bench DATA_DIR ISSUER REDIRECT_URI [--workspaces W] [--pages P] [--integrations I]

use std::io::Write;

use pagegrant::config::Config;
use pagegrant::db::models::{Page, Plan, Role};
use pagegrant::db::queries::{integrations as iq, sessions};
use pagegrant::domain::consent::{self, Decision};
use pagegrant::domain::content::Author;
use pagegrant::domain::integrations::{self, NewIntegration};
use pagegrant::domain::workspaces::{self as ws, NewPage};
use pagegrant::domain::{blocks, markdown};
use pagegrant::oauth::authorize;
use pagegrant::oauth::client::Params;
use pagegrant::oauth::token;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

pub const PASSWORD: &str = "bench-password";
/// People who consent in the bench: one per wrk connection (32 by default).
const CONSENTERS: usize = 64;
/// One PKCE verifier for every seeded grant (43 unreserved characters).
const VERIFIER: &str = "bench-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

fn arg(args: &[String], name: &str, default: usize) -> Res<usize> {
    match args.iter().position(|a| a == name) {
        Some(i) => Ok(args.get(i + 1).ok_or("missing value")?.parse()?),
        None => Ok(default),
    }
}

fn s256(v: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.as_bytes()))
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: seed_bench DATA_DIR ISSUER REDIRECT_URI [--workspaces W] [--pages P] [--integrations I]";
    let (dir, issuer, redirect) = match &args[..] {
        [_, d, i, r, ..] => (d.clone(), i.clone(), r.clone()),
        _ => return Err(usage.into()),
    };
    let n_ws = arg(&args, "--workspaces", 100)?;
    let n_pages = arg(&args, "--pages", 100)?.max(10);
    let n_int = arg(&args, "--integrations", 10)?;

    let mut cfg = Config::defaults()?;
    cfg.server.data_dir = dir.clone().into();
    cfg.server.issuer = issuer;
    cfg.database.url = format!("{dir}/bench.db");
    cfg.demo.seed = false;
    let state = pagegrant::build_state(cfg)?;
    let cfg = &state.config;
    let mut pooled = state.pool.get()?;
    let c = &mut *pooled;

    let owner = pagegrant::domain::accounts::create_user(
        c,
        "bench-owner@example.com",
        "Bench Owner",
        PASSWORD,
    )?;
    let consenter = pagegrant::domain::accounts::create_user(
        c,
        "bench-consent@example.com",
        "Bench Consent",
        PASSWORD,
    )?;
    // One person per consent connection: a person keeps at most 20 sessions
    // and 50 pending consents (S77), so 32 flows of one person would end
    // each other's sessions and trim each other's requests.
    let mut consenters = vec![consenter.clone()];
    for i in 1..CONSENTERS {
        consenters.push(pagegrant::domain::accounts::create_user(
            c,
            &format!("bench-consent-{i}@example.com"),
            &format!("Bench Consent {i}"),
            PASSWORD,
        )?);
    }

    // The shared tree: (parent index, or none for the root), 6 deep.
    const SHARED: [Option<usize>; 10] = [
        None,
        Some(0),
        Some(0),
        Some(0),
        Some(1),
        Some(1),
        Some(4),
        Some(6),
        Some(7),
        Some(2),
    ];
    let mut workspaces = Vec::new();
    for w in 0..n_ws {
        let workspace = ws::create_workspace(c, &format!("Bench {w}"), &owner, Plan::Enterprise)?;
        let shared_root = pagegrant::db::write_tx(c, |c| {
            let mut pages: Vec<(Page, usize)> = Vec::new();
            for i in 0..n_pages {
                let parent = if i < SHARED.len() {
                    SHARED[i]
                } else if i < SHARED.len() + 9 {
                    None // nine filler roots
                } else {
                    // Under an earlier filler page no deeper than 5: trees up to 6 deep.
                    let span = pages.len() - SHARED.len();
                    let mut k = SHARED.len() + (i * 7919) % span;
                    while pages[k].1 >= 5 {
                        k = SHARED.len() + (k + 1 - SHARED.len()) % span;
                    }
                    Some(k)
                };
                let (parent_page, depth) = match parent {
                    Some(k) => (Some(pages[k].0.id.clone()), pages[k].1 + 1),
                    None => (None, 0),
                };
                let kind = ["roadmap", "notes", "spec", "plan", "retro"][i % 5];
                let title = format!("Page {w}-{i} {kind}");
                let p = ws::add_page(
                    c,
                    NewPage {
                        workspace: &workspace,
                        title: &title,
                        parent: parent_page.as_ref(),
                        private: false,
                        creator: &owner,
                    },
                )?;
                let content = markdown::to_blocks(&format!(
                    "## About this {kind}\n\nWorkspace {w}, page {i}: the {kind} for \
                     quarter {q}, kept short so seeding stays cheap.\n\n\
                     - owner: bench\n- status: draft\n\n- [ ] review the {kind}\n",
                    q = i % 4 + 1
                ));
                blocks::append(c, &p.id, &Author::User(owner.id.clone()), &content)?;
                pages.push((p, depth));
            }
            Ok(pages[0].0.id.clone())
        })?;
        if w == 0 {
            for p in &consenters {
                ws::add_member(c, &workspace, p, Role::Member)?;
            }
        }
        workspaces.push((workspace, shared_root));
        if (w + 1) % 10 == 0 {
            eprintln!("seed: {} workspaces x {n_pages} pages", w + 1);
        }
    }

    let mut clients = Vec::new();
    for k in 0..n_int {
        let created = integrations::register(
            c,
            &state.secret_box,
            NewIntegration {
                name: format!("Bench partner {k}"),
                redirect_uris: vec![redirect.clone()],
                website_url: Some("https://bench.example".into()),
                ..Default::default()
            },
        )?;
        let secret = created.client_secret.ok_or("no client secret")?;
        clients.push((created.integration.client_id.clone(), secret));
    }

    // One session for the owner, as a login would make it.
    let (_, session) = pagegrant::domain::accounts::new_session(&owner, 3600);
    sessions::insert(c, &session)?;
    let challenge = s256(VERIFIER);
    let mut grants = std::io::BufWriter::new(std::fs::File::create(format!("{dir}/grants.tsv"))?);
    for (k, (client_id, _)) in clients.iter().enumerate() {
        let client = iq::by_client_id(c, client_id)?.ok_or("client vanished")?;
        for (workspace, root) in &workspaces {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", client_id)
                .append_pair("response_type", "code")
                .append_pair("owner", "user")
                .append_pair("redirect_uri", &redirect)
                .append_pair("state", "seed")
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256")
                .append_pair("workspace_id", workspace.id.as_str())
                // Both resources: the API's token from the code, the MCP
                // server's from one refresh (RFC 8707).
                .append_pair("resource", &format!("{}/v1", cfg.server.issuer))
                .append_pair("resource", &format!("{}/mcp", cfg.server.issuer))
                .finish();
            let valid = authorize::validate(c, cfg, &query)
                .map_err(|e| format!("authorize refused the seed request: {e:?}"))?;
            let page = consent::prepare(c, cfg, &Default::default(), &owner, &session, &valid)?;
            let location = authorize::answer(
                c,
                cfg,
                &owner,
                &session,
                Decision {
                    request_id: page.request_id,
                    token: page.csrf,
                    allow: true,
                    pages: vec![root.to_string()],
                },
            )?;
            let code = url::Url::parse(&location)?
                .query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
                .ok_or("consent gave no code")?;
            let body = token::grant(
                c,
                cfg,
                &state.keys,
                &client,
                &Params::from_pairs(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", &redirect),
                    ("code_verifier", VERIFIER),
                ]),
            )
            .map_err(|e| format!("exchange refused: {e:?}"))?;
            let field =
                |v: &serde_json::Value, n: &str| v[n].as_str().map(String::from).ok_or("no token");
            let mcp = token::grant(
                c,
                cfg,
                &state.keys,
                &client,
                &Params::from_pairs(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &field(&body, "refresh_token")?),
                    ("resource", &format!("{}/mcp", cfg.server.issuer)),
                ]),
            )
            .map_err(|e| format!("refresh for /mcp refused: {e:?}"))?;
            writeln!(
                grants,
                "{k}\t{}\t{}\t{}\t{root}",
                field(&body, "access_token")?,
                field(&mcp, "refresh_token")?,
                field(&mcp, "access_token")?,
            )?;
        }
        eprintln!("seed: integration {k}: {} connections", workspaces.len());
    }
    grants.flush()?;
    sessions::delete(c, &session.id_hash)?;

    let out = serde_json::json!({
        "password": PASSWORD,
        "owner_email": owner.email,
        "consent_email": consenter.email,
        "consent_emails": consenters.iter().map(|p| p.email.clone()).collect::<Vec<_>>(),
        "consent_workspace": workspaces[0].0.id.to_string(),
        "consent_page": workspaces[0].1.to_string(),
        "clients": clients.iter().map(|(id, s)| serde_json::json!({"client_id": id, "client_secret": s})).collect::<Vec<_>>(),
        "pages": n_ws * n_pages,
        "connections": n_ws * n_int,
    });
    println!("{out}");
    Ok(())
}
