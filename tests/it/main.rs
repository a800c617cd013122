#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! Every integration test, in one binary. Each test starts the real server on
//! 127.0.0.1:0 with a fresh temporary database and speaks HTTP to it (or runs
//! the real `pagegrant` binary, for the CLI). What more than one file needs
//! is in `kit`; a test file imports from there, never from another test file.

mod kit;

mod api;
mod authorize;
mod blocks;
mod cimd;
mod cli;
mod cli_review;
mod config;
mod developers;
mod dynamic_consent;
mod fuzz;
mod hardening;
mod instances;
mod interop;
mod jwt_verifier;
mod mcp;
mod openapi;
mod partner;
mod platform;
mod reach_matrix;
mod registration;
mod security_oauth;
mod security_pages;
mod security_web;
mod session;
mod settings;
mod settings_members;
mod token;
mod trust;
mod trust_clients;
mod ux;
mod ux_activity;
mod ux_catalog;
mod ux_consent;
mod ux_group;
mod ux_invites;
mod ux_limits;
mod ux_lists;
mod ux_passkeys;
mod ux_picker;
mod ux_requests;
mod ux_signin2;
mod ux_stepup;
mod ux_sudo;
mod ux_trip;
mod ux_twostep;
mod workspace;

#[cfg(feature = "e2e")]
mod browser;
#[cfg(feature = "e2e")]
mod sdk;
#[cfg(feature = "e2e")]
mod sdk_dynamic;
#[cfg(feature = "e2e")]
mod sdk_mcp;
#[cfg(feature = "e2e")]
mod ui_activity;
#[cfg(feature = "e2e")]
mod ui_catalog;
#[cfg(feature = "e2e")]
mod ui_invites;
#[cfg(feature = "e2e")]
mod ui_lists;
#[cfg(feature = "e2e")]
mod ui_passkeys;
#[cfg(feature = "e2e")]
mod ui_picker;
#[cfg(feature = "e2e")]
mod ui_requests;
#[cfg(feature = "e2e")]
mod ui_signin2;
#[cfg(feature = "e2e")]
mod ui_stepup;
#[cfg(feature = "e2e")]
mod ui_sudo;
#[cfg(feature = "e2e")]
mod ui_twostep;
