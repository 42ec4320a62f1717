//! The storage error type: what went wrong, classified for callers.

use sea_orm::{DbErr, SqlErr};

/// A failed storage operation.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The row does not exist, or is not visible in this tenant.
    #[error("not found")]
    NotFound,
    /// The change breaks a uniqueness or business rule.
    #[error("{0}")]
    Conflict(String),
    /// A stored value cannot be read back (a bug or a manual edit).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error(transparent)]
    Database(DbErr),
}

impl From<DbErr> for StorageError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                StorageError::Conflict("already exists".to_owned())
            }
            _ => StorageError::Database(err),
        }
    }
}

/// Shorthand for storage results.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
