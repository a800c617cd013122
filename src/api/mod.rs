//! The Notion-compatible JSON API under `/v1`: the bearer verifier, users,
//! search, pages and blocks, the per-connection rate limit. Every `/v1/*`
//! failure is JSON in Notion's error shape (`http::errors::ApiError`).

pub mod access_requests;
pub mod bearer;
pub mod blocks;
pub mod pages;
pub mod users;
