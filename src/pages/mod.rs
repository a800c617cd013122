//! The pages people use, one file per page or page group, each with its
//! askama `<Page>View` struct and its `view_<page>_get|post` handlers.
//! A handler extracts (the user and their role, a CSRF-checked form),
//! calls one domain service inside `db::run`, and renders.

pub mod access;
pub mod account;
pub mod consent;
pub mod demo_partner;
pub mod developers;
pub mod home;
pub mod invite;
pub mod login;
pub mod page_menu;
pub mod passkeys;
pub mod picker;
pub mod requests;
pub mod settings_activity;
pub mod settings_audit;
pub mod settings_connections;
pub mod settings_enterprise;
pub mod settings_members;
pub mod two_step;
pub mod workspace;
