//! Seeds a benchmark database through pagegrant's own service functions:
//! 10 workspaces of 1,000 pages each in trees up to 6 deep, and 1,000
//! connections (internal integrations, 100 per workspace) each sharing one
//! subtree. Prints one `ntn_` token per line on stdout.
//!
//! usage: cargo run --release --example seed_bench -- DATA_DIR

use pagegrant::config::Config;
use pagegrant::db::models::{IntegrationKind, Page, Plan};
use pagegrant::integrations::{self, NewIntegration};
use pagegrant::workspace::service::{self as ws, NewPage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: seed_bench DATA_DIR")?;
    let mut cfg = Config::defaults()?;
    cfg.server.data_dir = dir.clone().into();
    cfg.database.url = format!("{dir}/bench.db");
    cfg.demo.seed = false;
    let state = pagegrant::build_state(cfg)?;
    let mut conn = state.pool.get()?;
    let c = &mut *conn;
    let owner =
        pagegrant::accounts::create_user(c, "bench@example.com", "Bench", "bench-password")?;
    let mut tokens = Vec::new();
    for w in 0..10 {
        let workspace = ws::create_workspace(c, &format!("Bench {w}"), &owner, Plan::Enterprise)?;
        let mut pages: Vec<(Page, usize)> = Vec::new();
        pagegrant::db::write_tx(c, |c| {
            for i in 0..1000usize {
                // Each page hangs under an earlier one no deeper than 5: trees up to 6 deep.
                let parent = if i < 10 {
                    None
                } else {
                    let mut k = (i * 7919) % pages.len();
                    while pages[k].1 >= 5 {
                        k = (k + 1) % pages.len();
                    }
                    Some(k)
                };
                let (parent_page, depth) = match parent {
                    Some(k) => (Some(pages[k].0.id.clone()), pages[k].1 + 1),
                    None => (None, 0),
                };
                let title = format!(
                    "Page {w}-{i} {}",
                    ["roadmap", "notes", "spec", "plan", "retro"][i % 5]
                );
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
                pages.push((p, depth));
            }
            Ok(())
        })?;
        for k in 0..100 {
            let created = integrations::register(
                c,
                &state.secret_box,
                NewIntegration {
                    name: format!("Bot {w}-{k}"),
                    kind: Some(IntegrationKind::Internal),
                    workspace: Some(workspace.clone()),
                    ..Default::default()
                },
            )?;
            let root = &pages[(k * 37) % 10 + 10 * (k % 3)].0;
            if let Some(cid) = &created.connection_id {
                integrations::connection_add_page(c, cid, &root.id)?;
            }
            if let Some(t) = created.internal_token {
                tokens.push(t);
            }
        }
        eprintln!("workspace {w}: 1000 pages, 100 connections");
    }
    for t in tokens {
        println!("{t}");
    }
    Ok(())
}
