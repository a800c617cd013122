//! Rows and newtype ids. Ids are UUID text in the database; the newtypes keep
//! a page id from being passed where a workspace id belongs.

use crate::error::Capability;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::*;

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize,
                 diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new() -> Self { $name(crate::crypto::new_uuid()) }
            pub fn as_str(&self) -> &str { &self.0 }
            /// Accepts a UUID with or without dashes, any case; returns the canonical form.
            pub fn parse(s: &str) -> Option<Self> {
                uuid::Uuid::try_parse(s.trim()).ok().map(|u| $name(u.hyphenated().to_string()))
            }
        }

        impl Default for $name {
            fn default() -> Self { Self::new() }
        }

        /// Ids in paths and forms arrive in any UUID spelling; anything
        /// else does not deserialize (a 404 for a path, by its config).
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&raw).ok_or_else(|| serde::de::Error::custom(concat!("not a valid ", stringify!($name))))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(&self.0) }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                String::from_sql(bytes).map($name)
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.0.as_str(), out)
            }
        }
    )*};
}

id_type!(
    UserId,
    WorkspaceId,
    PageId,
    IntegrationId,
    ConnectionId,
    BotId,
    BlockId,
    InvitationId,
    PasskeyId,
    AccessRequestId
);

macro_rules! str_enum {
    ($name:ident { $($variant:ident => $s:literal),* $(,)? }) => {
        /// Stored as its text in both backends.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize,
                 diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)* _ => None }
            }
            /// The accepted spellings, for error messages.
            pub fn choices() -> String {
                [$($s),*].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let s = String::from_sql(bytes)?;
                $name::parse(&s).ok_or_else(|| format!("unknown {} {s:?} in the database", stringify!($name)).into())
            }
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.as_str(), out)
            }
        }
    };
}

str_enum!(Role { Owner => "owner", Member => "member" });
str_enum!(Plan { Free => "free", Plus => "plus", Business => "business", Enterprise => "enterprise" });
str_enum!(Visibility { Workspace => "workspace", Private => "private" });
str_enum!(IntegrationKind { Public => "public", Internal => "internal" });
str_enum!(ClientType { Confidential => "confidential", Public => "public" });
str_enum!(ApprovalStatus { Pending => "pending", Approved => "approved", Declined => "declined" });
// A page access request's answer (issue 29 item 1); `expired` is written
// when a pending request is read after its `expires_at`.
str_enum!(AccessRequestState { Pending => "pending", Shared => "shared", Declined => "declined", Expired => "expired" });
// The surface an access request was made through.
str_enum!(RequestVia { Mcp => "mcp", Api => "api" });
str_enum!(InstallPolicy { Open => "open", ApprovedOnly => "approved_only" });
// RFC 7591 §2 metadata a dynamic client registers with.
str_enum!(AuthMethod {
    None => "none",
    ClientSecretBasic => "client_secret_basic",
    ClientSecretPost => "client_secret_post",
});
str_enum!(ApplicationType { Web => "web", Native => "native" });

impl ApplicationType {
    pub fn of(native: bool) -> Self {
        match native {
            true => ApplicationType::Native,
            false => ApplicationType::Web,
        }
    }
}
str_enum!(ConnectionStatus { Active => "active", Revoked => "revoked" });
// Where an invitation stands; expiry is its `expires_at` passing.
str_enum!(InvitationState {
    Pending => "pending",
    Accepted => "accepted",
    Revoked => "revoked",
    Replaced => "replaced",
});
// What a passkey ceremony in progress is for (`passkey_challenges.purpose`).
str_enum!(PasskeyPurpose {
    Register => "register",
    Login => "login",
    // One of a known person's own passkeys: the login's second step, and
    // Confirm it's you.
    SecondStep => "second_step",
    Reauth => "reauth",
});
// How a person's second step is taken (`two_step.method`).
str_enum!(TwoStepMethod { Totp => "totp", Passkey => "passkey" });
// A content block's type (DESIGN §8); `domain::content` re-exports it.
str_enum!(BlockType {
    Paragraph => "paragraph",
    Heading1 => "heading_1",
    Heading2 => "heading_2",
    Heading3 => "heading_3",
    BulletedListItem => "bulleted_list_item",
    NumberedListItem => "numbered_list_item",
    ToDo => "to_do",
    Quote => "quote",
    Code => "code",
    Divider => "divider",
});

impl BlockType {
    /// Blocks whose type carries text (all but `divider`).
    pub fn has_text(self) -> bool {
        self != BlockType::Divider
    }
}

// Whose id a block's `created_by` / `last_edited_by` holds.
str_enum!(AuthorKind { User => "user", Bot => "bot" });
// A connection's activity (`connection_activity`): a read (counted per
// page, route or tool and hour) or a write (one row each); the surface it
// came through; and the MCP tool or `/v1` route, a closed set.
str_enum!(ActivityKind { Read => "read", Write => "write" });
str_enum!(ActivitySurface { Api => "api", Mcp => "mcp" });
str_enum!(ActivityOp {
    McpFetch => "mcp.fetch",
    McpCreatePage => "mcp.create_page",
    McpUpdatePage => "mcp.update_page",
    ApiGetPage => "api.get_page",
    ApiPostPage => "api.post_page",
    ApiPatchPage => "api.patch_page",
    ApiGetBlock => "api.get_block",
    ApiGetBlockChildren => "api.get_block_children",
    ApiPatchBlockChildren => "api.patch_block_children",
    ApiPatchBlock => "api.patch_block",
    ApiDeleteBlock => "api.delete_block",
});
impl ActivityOp {
    /// The surface it belongs to.
    pub fn surface(self) -> ActivitySurface {
        match self.as_str().starts_with("mcp.") {
            true => ActivitySurface::Mcp,
            false => ActivitySurface::Api,
        }
    }

    /// Whether it reads (else it writes).
    pub fn kind(self) -> ActivityKind {
        match self {
            ActivityOp::McpFetch
            | ActivityOp::ApiGetPage
            | ActivityOp::ApiGetBlock
            | ActivityOp::ApiGetBlockChildren => ActivityKind::Read,
            _ => ActivityKind::Write,
        }
    }

    /// As a person reads it: the MCP tool's name or the route.
    pub fn label(self) -> &'static str {
        match self {
            ActivityOp::McpFetch => "MCP fetch",
            ActivityOp::McpCreatePage => "MCP create_page",
            ActivityOp::McpUpdatePage => "MCP update_page",
            ActivityOp::ApiGetPage => "GET /v1/pages/{id}",
            ActivityOp::ApiPostPage => "POST /v1/pages",
            ActivityOp::ApiPatchPage => "PATCH /v1/pages/{id}",
            ActivityOp::ApiGetBlock => "GET /v1/blocks/{id}",
            ActivityOp::ApiGetBlockChildren => "GET /v1/blocks/{id}/children",
            ActivityOp::ApiPatchBlockChildren => "PATCH /v1/blocks/{id}/children",
            ActivityOp::ApiPatchBlock => "PATCH /v1/blocks/{id}",
            ActivityOp::ApiDeleteBlock => "DELETE /v1/blocks/{id}",
        }
    }
}

/// What a client may ask for all at once: every capability but
/// `read_user_without_email`, which cannot be held with
/// `read_user_with_email`. Protected-resource metadata lists these as
/// `scopes_supported`, and MCP clients ask for every listed scope at once
/// (the MCP SDK's `auth()` registers and authorizes with all of them), so
/// the list must be one a client can be granted whole.
pub const ASKABLE_CAPABILITIES: &[Capability] = &[
    Capability::ReadContent,
    Capability::UpdateContent,
    Capability::InsertContent,
    Capability::ReadComments,
    Capability::InsertComments,
    Capability::ReadUserWithEmail,
];
/// What an integration gets when none are named.
pub const DEFAULT_CAPABILITIES: &str =
    "read_content update_content insert_content read_user_with_email";

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub avatar_url: Option<String>,
    pub created_at: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password_hash", &"<hidden>")
            .finish()
    }
}

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id_hash: String,
    pub user_id: UserId,
    pub csrf_secret: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// `created_at` in milliseconds, to order one person's sessions.
    pub created_ms: i64,
    /// The browser's `User-Agent` as last seen (at most 512 bytes).
    pub user_agent: Option<String>,
    /// The client address as last seen.
    pub address: Option<String>,
    /// When the session was last used, at most a minute behind.
    pub last_seen_at: i64,
    /// When its person last proved who they are (the login, or the
    /// **Confirm it's you** page): re-authentication reads it.
    pub proved_at: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .field("csrf_secret", &"<hidden>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[derive(Debug, Queryable, Selectable, Insertable, Clone, Serialize)]
#[diesel(table_name = workspaces)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub icon: Option<String>,
    pub plan: Plan,
    pub install_policy: InstallPolicy,
    pub auto_approve_first_party: bool,
    pub created_at: i64,
    /// Who created it: the CLI acts as this owner when no user is named.
    pub created_by: Option<UserId>,
}

#[derive(Debug, Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: i64,
}

/// A connection's request for more pages (issue 29 item 1,
/// `domain::access_requests`). `reason` and `search` are the asking
/// agent's own words; `pages` the ids shared by the answer, space-separated.
#[derive(Debug, Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = access_requests)]
pub struct AccessRequest {
    pub id: AccessRequestId,
    pub connection_id: ConnectionId,
    pub via: RequestVia,
    pub reason: String,
    pub search: String,
    pub state: AccessRequestState,
    pub pages: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub answered_by: Option<UserId>,
    pub answered_at: Option<i64>,
}

/// An invitation to a workspace for someone without an account (issue 27
/// item 5). The link's token is kept only as its SHA-256.
#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: InvitationId,
    pub workspace_id: WorkspaceId,
    pub email: String,
    pub role: Role,
    pub token_hash: String,
    pub invited_by: Option<UserId>,
    pub created_at: i64,
    pub expires_at: i64,
    pub state: InvitationState,
    pub ended_at: Option<i64>,
    pub accepted_by: Option<UserId>,
}

impl std::fmt::Debug for Invitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invitation")
            .field("id", &self.id)
            .field("workspace_id", &self.workspace_id)
            .field("state", &self.state)
            .field("token_hash", &"<hidden>")
            .finish()
    }
}

#[derive(Debug, Queryable, QueryableByName, Selectable, Insertable, Clone, Serialize)]
#[diesel(table_name = pages)]
pub struct Page {
    pub id: PageId,
    pub workspace_id: WorkspaceId,
    pub parent_id: Option<PageId>,
    pub title: String,
    pub visibility: Visibility,
    pub created_by: UserId,
    pub created_at: i64,
    pub last_edited_at: i64,
    pub in_trash: bool,
}

/// One block of a page's content (DESIGN §8). `created_by` and
/// `last_edited_by` hold a user id or a bot id, as their `*_kind` says.
#[derive(Debug, Queryable, QueryableByName, Selectable, Insertable, Clone)]
#[diesel(table_name = blocks)]
pub struct Block {
    pub id: BlockId,
    pub page_id: PageId,
    pub position: i64,
    pub kind: BlockType,
    /// JSON of `Vec<domain::content::Span>`.
    pub rich_text: String,
    pub plain_text: String,
    pub checked: bool,
    pub language: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub created_by_kind: AuthorKind,
    pub last_edited_at: i64,
    pub last_edited_by: String,
    pub last_edited_by_kind: AuthorKind,
    pub in_trash: bool,
}

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = integrations)]
pub struct Integration {
    pub id: IntegrationId,
    pub name: String,
    pub kind: IntegrationKind,
    pub client_id: String,
    pub client_secret_hash: Option<String>,
    pub client_type: ClientType,
    pub developer_name: String,
    pub website_url: Option<String>,
    pub support_email: Option<String>,
    pub icon: Option<String>,
    pub first_party: bool,
    pub capabilities: String,
    pub created_by: Option<UserId>,
    pub workspace_id: Option<WorkspaceId>,
    pub created_at: i64,
    pub privacy_url: Option<String>,
    pub terms_url: Option<String>,
    /// Registered itself (RFC 7591): never first-party, never vouched for.
    pub dynamic: bool,
    /// SHA-256 of the RFC 7592 registration access token (dynamic clients).
    pub registration_token_hash: Option<String>,
    /// RFC 7591 metadata a dynamic client sent and pagegrant keeps.
    pub application_type: Option<ApplicationType>,
    pub token_endpoint_auth_method: Option<AuthMethod>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    /// A Client ID Metadata Document client (its `client_id` is the
    /// document's URL): when the cached document must be fetched again.
    pub cimd_expires_at: Option<i64>,
    /// When the operator vouched for it (`pagegrant integration review`):
    /// listed in every workspace's **+ Add connection**, not marked
    /// "Unverified developer" (issue 27 item 1).
    pub reviewed_at: Option<i64>,
}

impl std::fmt::Debug for Integration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integration")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("client_id", &self.client_id)
            .field("client_secret_hash", &"<hidden>")
            .field("dynamic", &self.dynamic)
            .field("registration_token_hash", &"<hidden>")
            .finish()
    }
}

#[derive(Debug, Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = integration_redirect_uris)]
pub struct RedirectUri {
    pub integration_id: IntegrationId,
    pub uri: String,
}

#[derive(Debug, Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = connections)]
pub struct Connection {
    pub id: ConnectionId,
    pub integration_id: IntegrationId,
    pub workspace_id: WorkspaceId,
    pub installed_by: UserId,
    pub bot_id: BotId,
    pub status: ConnectionStatus,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<UserId>,
}

#[derive(Debug, Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = connection_pages)]
pub struct ConnectionPage {
    pub connection_id: ConnectionId,
    pub page_id: PageId,
    pub added_by: UserId,
    pub added_at: i64,
}

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = internal_tokens)]
pub struct InternalToken {
    pub connection_id: ConnectionId,
    pub hash: String,
    pub encrypted: String,
    pub created_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent {
    pub workspace_id: Option<WorkspaceId>,
    pub actor: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub at: i64,
}

#[derive(Debug, Queryable, Selectable, Clone, Serialize)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i32,
    pub workspace_id: Option<WorkspaceId>,
    pub actor: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = connection_activity)]
pub struct NewActivity {
    pub connection_id: ConnectionId,
    pub page_id: PageId,
    pub kind: ActivityKind,
    pub surface: ActivitySurface,
    pub op: ActivityOp,
    pub at: i64,
    pub last_at: i64,
    pub count: i64,
    pub detail: String,
    pub read_key: Option<String>,
}

/// One row of a connection's activity: for a read, the hour (`at`, its
/// start), the last read in it and how many; for a write, when and what.
#[derive(Debug, Queryable, Selectable, Clone)]
#[diesel(table_name = connection_activity)]
pub struct Activity {
    pub id: i32,
    pub connection_id: ConnectionId,
    pub page_id: PageId,
    pub kind: ActivityKind,
    pub surface: ActivitySurface,
    pub op: ActivityOp,
    pub at: i64,
    pub last_at: i64,
    pub count: i64,
    pub detail: String,
}

/// Unix seconds now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    let ns = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ns).unwrap_or(i64::MAX)
}

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = authorization_requests)]
pub struct AuthorizationRequest {
    pub id: String,
    pub session_id_hash: String,
    pub integration_id: IntegrationId,
    pub redirect_uri: String,
    pub redirect_uri_sent: bool,
    pub state: Option<String>,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub workspace_id: Option<WorkspaceId>,
    pub csrf_binding: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
    /// `created_at` in milliseconds, to tell a session's newest requests apart.
    pub created_ms: i64,
    /// RFC 8707 resources asked for, space-separated ('' = none asked).
    pub resource: String,
}

impl std::fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("id", &self.id)
            .field("integration_id", &self.integration_id)
            .field("workspace_id", &self.workspace_id)
            .field("csrf_binding", &"<hidden>")
            .finish()
    }
}

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = authorization_codes)]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub integration_id: IntegrationId,
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    pub connection_id: ConnectionId,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub scope: String,
    pub family_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
    /// The grant's RFC 8707 resources ('' = the API alone).
    pub resource: String,
}

impl std::fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationCode")
            .field("code_hash", &"<hidden>")
            .field("integration_id", &self.integration_id)
            .field("connection_id", &self.connection_id)
            .finish()
    }
}

/// A refresh token: one link of its family's chain, keyed by the family
/// so a rotation's used token and its successor share a page.
#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub family_id: String,
    pub hash: String,
    pub scope: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// The grant's RFC 8707 resources, kept across rotations so a refresh
    /// may narrow the audience, never widen the grant.
    pub resource: String,
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshToken")
            .field("hash", &"<hidden>")
            .field("family_id", &self.family_id)
            .finish()
    }
}

/// The tokens of one authorization: its code's redemption starts it, each
/// rotation continues it, and it is revoked as a whole (reuse, a replayed
/// code, the connection's end).
#[derive(Debug, Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = token_families)]
pub struct TokenFamily {
    pub id: String,
    pub connection_id: ConnectionId,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = access_tokens)]
pub struct AccessToken {
    pub jti: String,
    pub connection_id: ConnectionId,
    pub family_id: String,
    pub scope: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// A member's request that the owners approve an integration (issue 27
/// item 3): one row per workspace, integration and member, holding the
/// latest answer.
#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = approval_requests)]
pub struct ApprovalRequest {
    pub workspace_id: WorkspaceId,
    pub integration_id: IntegrationId,
    pub requested_by: UserId,
    pub note: String,
    pub status: ApprovalStatus,
    pub requested_at: i64,
    pub answered_by: Option<UserId>,
    pub answered_at: Option<i64>,
}

/// A person's passkey (issue 28 item 1): webauthn-rs's `Passkey` as JSON,
/// its credential id apart for the look-up at sign-in.
#[derive(Debug, Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = passkeys)]
pub struct PasskeyRow {
    pub id: PasskeyId,
    pub user_id: UserId,
    pub name: String,
    pub cred_id: String,
    pub credential: String,
    pub counter: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A passkey ceremony in progress: webauthn-rs's state, server-side.
#[derive(Debug, Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = passkey_challenges)]
pub struct PasskeyChallenge {
    pub id: String,
    pub purpose: PasskeyPurpose,
    pub bound_to: String,
    pub user_id: Option<UserId>,
    pub name: String,
    pub state: String,
    pub expires_at: i64,
}

/// A person's two-step verification (TOTP): the secret sealed with the
/// server's secret box; `enabled_at` is `None` while enrolment waits for
/// its first code.
#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = two_step)]
pub struct TwoStep {
    pub user_id: UserId,
    pub secret_sealed: String,
    pub created_at: i64,
    pub enabled_at: Option<i64>,
    /// The last RFC 6238 time step accepted (a code is accepted once).
    pub last_step: i64,
    /// An authenticator app's codes, or one of the person's passkeys
    /// (`secret_sealed` empty).
    pub method: TwoStepMethod,
}

/// A password accepted, the second step not yet taken.
#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = pending_logins)]
pub struct PendingLogin {
    pub id_hash: String,
    pub user_id: UserId,
    pub replaces: Option<String>,
    pub ip_key: String,
    pub ip_window: i64,
    pub expires_at: i64,
}
