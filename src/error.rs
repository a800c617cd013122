//! Domain and database failures, free of HTTP types. Each response kind
//! (`HtmlError`, `ApiError`, and later `OAuthError`) is built from this in one
//! place; the text of `Db`/`Pool`/`Internal` is logged, never shown.

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
