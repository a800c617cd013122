//! Sync query functions per area, run inside `db::run` (or the CLI's own
//! connection). A missing row is `Ok(None)`, a failure is `Err`.

pub mod access_requests;
pub mod activity;
pub mod approval_requests;
pub mod audit;
pub mod blocked_clients;
pub mod blocks;
pub mod connections;
pub mod integrations;
pub mod invitations;
pub mod keys;
pub mod oauth;
pub mod pages;
pub mod passkeys;
pub mod rate;
pub mod scope;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod two_step;
pub mod used_notes;
pub mod users;
pub mod workspaces;
