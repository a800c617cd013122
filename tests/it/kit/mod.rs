//! The test kit: what more than one test file needs, in one place, so no
//! test file imports from another. `use crate::kit::*` brings the everyday
//! part (server, world, consent, tokens, HTML); `kit::process`,
//! `kit::docserver` and `kit::mcp` are imported by name where needed.

#![allow(dead_code)]

#[cfg(feature = "e2e")]
pub mod browser;
pub mod consent;
pub mod docserver;
pub mod html;
pub mod mcp;
pub mod process;
pub mod server;
pub mod smtp;
pub mod token;
pub mod world;

pub use consent::*;
pub use html::*;
pub use server::*;
pub use token::*;
pub use world::*;

/// Every fixture user's password.
pub const PASSWORD: &str = "correct horse battery";
/// The redirect URI of the fixture's confidential partner (and the CLI world's).
pub const CB: &str = "https://partner.example/cb";
/// The redirect URI of the agents identified by a metadata document.
pub const AGENT_CB: &str = "https://agent.example/cb";
/// RFC 7636 appendix B's verifier and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
