//! Disposable, migrated databases for integration tests.
//!
//! With `DATABASE_URL` set to PostgreSQL, each test gets its own schema in that database
//! (named `concord_t_<unix time>_<random>`), dropped by [`TestDatabase::cleanup`]; schemas
//! left by crashed runs are dropped once they are two hours old. Otherwise each test gets
//! its own SQLite file in the temporary directory.

use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};

use crate::{Store, error::Result};

/// Age after which a leftover test schema is considered abandoned.
const STALE_AFTER_SECS: u64 = 2 * 60 * 60;

/// A migrated database that belongs to one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// The store on it.
    pub store: Store,
    /// The URL it was opened with (the schema is set separately for PostgreSQL).
    pub url: String,
    place: Place,
}

#[derive(Debug)]
enum Place {
    Schema {
        admin: DatabaseConnection,
        name: String,
    },
    File(std::path::PathBuf),
}

impl TestDatabase {
    /// Creates and migrates a database on the backend `DATABASE_URL` names (SQLite if unset).
    pub async fn create() -> Result<Self> {
        let url = std::env::var("DATABASE_URL").ok();
        Self::create_on(url.as_deref(), 4).await
    }

    /// Creates and migrates a database beside `url` (a fresh schema of that PostgreSQL
    /// database, or a temporary SQLite file when `url` is not PostgreSQL), with a pool of
    /// `pool` connections.
    pub async fn create_on(url: Option<&str>, pool: u32) -> Result<Self> {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let unique = uuid::Uuid::now_v7().simple().to_string();
        let db = match url.filter(|u| u.starts_with("postgres")).map(str::to_owned) {
            Some(url) => {
                let admin = Database::connect(url.clone()).await?;
                drop_stale_schemas(&admin, stamp).await?;
                let name = format!("concord_t_{stamp}_{}", &unique[20..]);
                admin
                    .execute_unprepared(&format!("CREATE SCHEMA {name}"))
                    .await?;
                let mut options = ConnectOptions::new(url.clone());
                options.set_schema_search_path(name.clone());
                let store = Store::connect_with(options, pool).await?;
                Self {
                    store,
                    url,
                    place: Place::Schema { admin, name },
                }
            }
            None => {
                let path = std::env::temp_dir().join(format!("concord-test-{unique}.db"));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                let store = Store::connect(&url, pool).await?;
                Self {
                    store,
                    url,
                    place: Place::File(path),
                }
            }
        };
        db.store.migrate().await?;
        Ok(db)
    }

    /// The PostgreSQL schema this test owns, if on PostgreSQL.
    pub fn schema(&self) -> Option<&str> {
        match &self.place {
            Place::Schema { name, .. } => Some(name),
            Place::File(_) => None,
        }
    }

    /// Runs `sql` on the test's database with no tenant scope: for tests that inspect or
    /// tamper with rows directly.
    pub async fn execute(&self, sql: &str) -> Result<u64> {
        let backend = self.store.db.get_database_backend();
        let done = self
            .store
            .db
            .execute_raw(Statement::from_string(backend, sql))
            .await?;
        Ok(done.rows_affected())
    }

    /// Counts the rows `sql` (a `SELECT count(*) …`) reports.
    pub async fn count(&self, sql: &str) -> Result<i64> {
        let backend = self.store.db.get_database_backend();
        let row = self
            .store
            .db
            .query_one_raw(Statement::from_string(backend, sql))
            .await?;
        Ok(row
            .map(|r| r.try_get_by_index::<i64>(0))
            .transpose()?
            .unwrap_or(0))
    }

    /// On PostgreSQL: counts `table`'s rows as an ordinary (non-superuser) role would see them
    /// inside a transaction scoped to `tenant_id`, with no tenant filter in the query, so only
    /// row-level security limits them. `None` on SQLite, which has no row-level security.
    pub async fn count_under_rls(&self, table: &str, tenant_id: &str) -> Result<Option<i64>> {
        let Place::Schema { name, .. } = &self.place else {
            return Ok(None);
        };
        let role = "concord_rls_probe";
        let db = &self.store.db;
        db.execute_unprepared(&format!(
            "DO $$ BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
             GRANT USAGE ON SCHEMA {name} TO {role};
             GRANT SELECT ON ALL TABLES IN SCHEMA {name} TO {role};"
        ))
        .await?;
        let txn = db.begin().await?;
        txn.execute_unprepared(&format!("SET LOCAL ROLE {role}"))
            .await?;
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT set_config('concord.tenant_id', $1, true)",
            [tenant_id.into()],
        ))
        .await?;
        let row = txn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT count(*) FROM {name}.{table}"),
            ))
            .await?;
        txn.rollback().await?;
        Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?)
    }

    /// Drops the schema or deletes the file.
    pub async fn cleanup(self) -> Result<()> {
        self.store.close().await?;
        match self.place {
            Place::Schema { admin, name } => {
                admin
                    .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .await?;
                admin.close().await?;
            }
            Place::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
        }
        Ok(())
    }
}

async fn drop_stale_schemas(admin: &DatabaseConnection, now_secs: u64) -> Result<()> {
    let rows = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'concord\\_t\\_%'",
        ))
        .await?;
    for row in rows {
        let name: String = row.try_get_by_index(0)?;
        let stamp = name
            .split('_')
            .nth(2)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        if now_secs.saturating_sub(stamp) > STALE_AFTER_SECS && stamp != u64::MAX {
            admin
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await?;
        }
    }
    Ok(())
}
