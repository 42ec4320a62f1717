//! The tenant-scoped layer: the one way to reach a tenant's rows.
//!
//! A [`TenantScope`] can only be obtained from [`Store::authorize`] or
//! [`Store::authenticate_api_token`], that is, from a membership that exists. [`Scoped`]
//! opens each operation in a transaction that (on PostgreSQL) sets `concord.tenant_id` for
//! row-level security, and builds its queries with [`Scoped::select`], which always filters
//! by the tenant.

use concord_domain::{Role, TenantId};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, Select,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

use crate::{Store, entity, error::Result};

/// Proof that the caller may act in one tenant, with the role they act as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantScope {
    tenant_id: TenantId,
    role: Role,
}

impl TenantScope {
    pub(crate) fn new(tenant_id: TenantId, role: Role) -> Self {
        Self { tenant_id, role }
    }

    /// The tenant.
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant_id
    }

    /// The caller's role in it.
    pub fn role(&self) -> Role {
        self.role
    }
}

/// A table whose rows belong to one tenant.
pub(crate) trait TenantOwned: EntityTrait {
    /// The column holding the owning tenant's id.
    fn tenant_column() -> Self::Column;
}

macro_rules! tenant_owned {
    ($($table:ident),* $(,)?) => {
        $(impl TenantOwned for entity::$table::Entity {
            fn tenant_column() -> Self::Column {
                entity::$table::Column::TenantId
            }
        })*
    };
}

tenant_owned!(
    membership,
    invitation,
    api_token,
    audit_entry,
    audit_head,
    location,
    connection,
    connection_location,
    product,
    sku,
    kit_component,
    stock_level,
    stock_movement,
    availability,
    customer,
    order,
    order_line,
    payment,
    refund,
    return_receipt,
    fulfilment,
    oversell,
    inbound_event,
    listing,
    sync_cursor,
    job,
    oauth_state,
    title_compliance,
    compliance_rule,
    order_compliance,
    sale_evidence,
    refusal,
    age_check_failure,
    retention_setting,
    retention_run,
    offer_refresh,
);

/// The repositories of one tenant. Created by [`Store::scoped`].
#[derive(Debug)]
pub struct Scoped<'a> {
    pub(crate) store: &'a Store,
    pub(crate) scope: &'a TenantScope,
}

impl Store {
    /// Opens the repositories of the tenant `scope` admits to.
    pub fn scoped<'a>(&'a self, scope: &'a TenantScope) -> Scoped<'a> {
        Scoped { store: self, scope }
    }
}

impl Scoped<'_> {
    /// The tenant these repositories serve.
    pub fn tenant_id(&self) -> &TenantId {
        &self.scope.tenant_id
    }

    /// A query on `E` limited to this tenant's rows.
    pub(crate) fn select<E: TenantOwned>(&self) -> Select<E> {
        E::find().filter(E::tenant_column().eq(self.scope.tenant_id.as_str()))
    }

    /// A transaction marked with this tenant for row-level security.
    pub(crate) async fn begin(&self) -> Result<DatabaseTransaction> {
        self.open(TransactionOptions::default()).await
    }

    /// A transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so concurrent writers wait their turn instead of failing when a
    /// read transaction tries to upgrade.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction> {
        self.open(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await
    }

    async fn open(&self, options: TransactionOptions) -> Result<DatabaseTransaction> {
        let txn = self.store.db.begin_with_options(options).await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT set_config('concord.tenant_id', $1, true)",
                [self.scope.tenant_id.as_str().into()],
            ))
            .await?;
        }
        Ok(txn)
    }
}
