//! pagegrant: an OAuth 2.0 authorization server with page-scoped consent and
//! the workspace administration around it. The module list, from the bottom
//! layer up (a module imports only from its own layer's module and layers
//! below; `scripts/layers` checks it, docs/architecture.md explains it):
//!
//! - `error`, `config`, `crypto`: the domain error, typed configuration, secrets;
//! - `db`: the pool, migrations per backend, `db::run`, and queries by table;
//! - `domain`: what the product does, without HTTP (accounts, workspaces,
//!   install policy, integrations, connections, enterprise, consent, audit);
//! - `state`: `AppState` and the process-wide parts it holds (token keys,
//!   rate limiter, metrics);
//! - `http`: request plumbing (errors, session, extractors, CSRF forms, layout);
//! - `oauth`, `api`, `mcp`, `pages`: the protocol, the Notion-compatible JSON
//!   API, the MCP server and the pages people use, each built on the layers below;
//! - `server`: the middleware and the one route table;
//! - `cli`: the `pagegrant` command's verbs (`serve` runs `server`).

pub mod api;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod mcp;
pub mod oauth;
pub mod pages;
pub mod server;
pub mod state;

pub use server::run;
pub use state::{build_state, prepare, AppState};
