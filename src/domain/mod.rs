//! What pagegrant does, without HTTP: no actix, no askama, no view models.
//! Services take ids, rows and `&Config`, return rows and `AppError`, and
//! run inside `db::run`; the CLI, the pages, the API and the tests call them.
//! The services depend downward in this order (none imports one listed
//! before it; `scripts/layers` finds any circle): demo → consent →
//! enterprise → members → invitations → connections → integrations → install_policy →
//! workspaces → sessions → audit → accounts.

pub mod access_requests;
pub mod accounts;
pub mod activity;
pub mod approval_requests;
pub mod audit;
pub mod blocks;
pub mod cimd;
pub mod connections;
pub mod consent;
pub mod content;
pub mod demo;
pub mod enterprise;
pub mod install_policy;
pub mod integrations;
pub mod invitations;
pub mod markdown;
pub mod members;
pub mod passkeys;
pub mod reach;
pub mod registration;
pub mod resource;
pub mod sessions;
pub mod tree_cache;
pub mod two_step;
pub mod workspaces;
