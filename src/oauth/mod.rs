//! OAuth 2.0 endpoints under `/v1/oauth` (authorize, token, introspect,
//! revoke) and RFC 8414 metadata. Built in the authorization and token
//! issues; oxide-auth types stay inside this module.
