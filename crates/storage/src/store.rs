//! The connection pool, migrations and health checks.

use std::time::Duration;

use concord_migrations::Migrator;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

use crate::error::Result;

/// The database engine behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: one file, no server.
    Sqlite,
    /// Production.
    Postgres,
}

/// Concord's database: a connection pool plus the repositories over it.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
}

impl Store {
    /// Opens a pool on `url` (`sqlite://…?mode=rwc` or `postgres://…`).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        Self::connect_with(ConnectOptions::new(url.to_owned()), max_connections).await
    }

    /// Opens a pool with options prepared by the caller (e.g. a schema search path).
    pub async fn connect_with(mut options: ConnectOptions, max_connections: u32) -> Result<Self> {
        options
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        let db = Database::connect(options).await?;
        Ok(Self { db })
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        match self.db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// Applies every pending migration; returns how many ran.
    pub async fn migrate(&self) -> Result<usize> {
        let pending = self.pending_migrations().await?;
        Migrator::up(&self.db, None).await?;
        Ok(pending)
    }

    /// How many migrations have not been applied yet.
    pub async fn pending_migrations(&self) -> Result<usize> {
        Ok(Migrator::get_pending_migrations(&self.db).await?.len())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(self) -> Result<()> {
        self.db.close().await?;
        Ok(())
    }
}
