//! OAuth 2.0 under `/v1/oauth`: the authorization endpoint's validation
//! (`authorize`) and oxide-auth's primitives over the database (`endpoint`).
//! The consent page that answers the endpoint lives in `consent`; the token,
//! introspection and revocation endpoints come with the token issue.
//! oxide-auth types stay inside this module.

pub mod authorize;
pub mod endpoint;
