//! Domain and database failures, free of HTTP types. Each response kind
//! (`HtmlError`, `ApiError`, `OAuthError`, and the MCP tools' errors) is
//! built from this in one place; the text of `Db`/`Pool`/`Internal` is
//! logged, never shown. A `Refusal` (the grant does not allow what a bot
//! asked) is one of these errors too, `AppError::Refused`, so a refused
//! operation returns `Err` like any other failure.

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist, or the actor may not know it does.
    #[error("not found")]
    NotFound,
    /// A client mistake; the message is safe to show to the client.
    #[error("{0}")]
    Invalid(String),
    /// The request clashes with existing data (duplicate email, ...); safe to show.
    #[error("{0}")]
    Conflict(String),
    /// The actor may not do this; safe to show.
    #[error("{0}")]
    Forbidden(String),
    /// Too many failures; retry after this many seconds.
    #[error("too many attempts, try again in {0} seconds")]
    Throttled(i64),
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("database pool error: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("internal error: {0}")]
    Internal(String),
    /// What a bot's grant does not allow (`domain::reach`); each surface
    /// words it once.
    #[error("{0}")]
    Refused(Refusal),
}

/// A capability a token may carry (DESIGN §4), by the name it is granted
/// as; the names are also the OAuth scopes. Stored and sent as
/// space-separated text (`integrations.capabilities`, a grant's `scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    ReadContent,
    UpdateContent,
    InsertContent,
    ReadComments,
    InsertComments,
    ReadUserWithEmail,
    ReadUserWithoutEmail,
}

impl Capability {
    /// Every capability, in the canonical order stored lists keep.
    pub const ALL: &'static [Capability] = &[
        Capability::ReadContent,
        Capability::UpdateContent,
        Capability::InsertContent,
        Capability::ReadComments,
        Capability::InsertComments,
        Capability::ReadUserWithEmail,
        Capability::ReadUserWithoutEmail,
    ];
    /// The user-information pair, of which a grant holds at most one.
    pub const USER_INFO: [Capability; 2] = [
        Capability::ReadUserWithEmail,
        Capability::ReadUserWithoutEmail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::ReadContent => "read_content",
            Capability::UpdateContent => "update_content",
            Capability::InsertContent => "insert_content",
            Capability::ReadComments => "read_comments",
            Capability::InsertComments => "insert_comments",
            Capability::ReadUserWithEmail => "read_user_with_email",
            Capability::ReadUserWithoutEmail => "read_user_without_email",
        }
    }

    pub fn parse(s: &str) -> Option<Capability> {
        Capability::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// The accepted names, for error messages.
    pub fn choices() -> String {
        Capability::ALL
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The space-separated text these are stored and sent as, in the
    /// canonical order and without repeats.
    pub fn join(caps: &[Capability]) -> String {
        Capability::ALL
            .iter()
            .filter(|c| caps.contains(c))
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether space-separated `text` (a scope, a stored list) names this.
    pub fn in_text(self, text: &str) -> bool {
        text.split(' ').any(|s| s == self.as_str())
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of object a refusal did not find: Notion's "not found" names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    Page,
    Block,
}

impl Object {
    pub fn as_str(self) -> &'static str {
        match self {
            Object::Page => "page",
            Object::Block => "block",
        }
    }
}

/// Why a request is refused: what a bot's grant does not allow
/// (`domain::reach`), or what the OAuth endpoints refuse a client. A
/// refusal may have to keep what was written before it (a throttle's
/// count, a replay's revocation): `db::write_tx_refusing` commits on it.
/// The surfaces word it themselves; `Display` is a plain fallback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not in the grant's pages (or trashed, where that matters): told apart
    /// from "does not exist" by nobody.
    #[error("no such {}", .0.as_str())]
    NotFound(Object),
    /// The token lacks this capability.
    #[error("this needs the {} capability", .0.as_str())]
    Missing(Capability),
    /// The request exceeds a bound or is malformed; the message is safe to show.
    #[error("{0}")]
    Invalid(String),
    /// An append's "after this block" names no live block of the page.
    #[error("the block to add after is not a block of this page")]
    Anchor,
    /// OAuth (RFC 6749 §5.2): the code or refresh token is not good for
    /// this client (`invalid_grant`); the message is safe to show.
    #[error("{0}")]
    Grant(String),
    /// OAuth: the client did not prove who it is (`invalid_client`); it
    /// used HTTP Basic when `basic`.
    #[error("client authentication failed")]
    Client { basic: bool },
    /// OAuth: a grant type this server does not run.
    #[error("only authorization_code and refresh_token are supported")]
    GrantType,
    /// OAuth (RFC 8707): a resource the grant does not hold.
    #[error("{0}")]
    Target(String),
    /// A registration's redirect URI breaks a rule (RFC 7591 §3.2.2).
    #[error("{0}")]
    RedirectUri(String),
    /// A registration's other metadata breaks a rule (RFC 7591 §3.2.2).
    #[error("{0}")]
    Metadata(String),
    /// A client ID metadata document that cannot be used (turned off, a URL
    /// or a document against the rules, a failed fetch); the reason a
    /// person reads.
    #[error("{0}")]
    Document(String),
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        AppError::Refused(r)
    }
}

impl AppError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        AppError::Invalid(msg.into())
    }
    pub fn internal(msg: impl Into<String>) -> Self {
        AppError::Internal(msg.into())
    }
}

pub type AppResult<T> = Result<T, AppError>;
