//! OAuth bookkeeping: authorizations in progress (one-use `state`, sealed PKCE verifier),
//! and refreshing a connection's tokens under a lock, so two workers never spend the same
//! rotating refresh token.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use concord_domain::{ConnectionId, Role};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::Expr,
};

use crate::{
    Scoped, Store, TenantScope, decode,
    entity::{connection, oauth_state},
    error::{Result, StorageError},
    now,
};

/// How long an authorization may take before its `state` is refused.
const STATE_TTL_MINUTES: i64 = 15;

/// An authorization the merchant is completing on the platform.
#[derive(Debug, Clone)]
pub struct PendingAuthorization {
    /// The tenant.
    pub scope: TenantScope,
    /// The connection being connected.
    pub connection_id: ConnectionId,
    /// The account's API address.
    pub base_url: String,
    /// The platform's OAuth host.
    pub auth_url: String,
    /// The PKCE verifier, sealed.
    pub sealed_verifier: Option<String>,
    /// When it started.
    pub created_at: DateTime<Utc>,
}

impl Scoped<'_> {
    /// Remembers an authorization started for a connection.
    pub async fn begin_authorization(
        &self,
        connection_id: &ConnectionId,
        state: &str,
        base_url: String,
        auth_url: String,
        sealed_verifier: Option<String>,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        oauth_state::Entity::insert(oauth_state::ActiveModel {
            state: Set(state.to_owned()),
            tenant_id: Set(self.tenant_id().to_string()),
            connection_id: Set(connection_id.to_string()),
            base_url: Set(base_url),
            auth_url: Set(auth_url),
            pkce_verifier: Set(sealed_verifier),
            created_at: Set(now()),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Runs `refresh` on the connection's sealed credentials while holding the connection,
    /// and stores what it returns; returns the credentials in force afterwards. A second
    /// caller waits, then sees the refreshed credentials and need not refresh again.
    pub async fn update_credentials<F, Fut, E>(
        &self,
        connection_id: &ConnectionId,
        refresh: F,
    ) -> Result<std::result::Result<Option<String>, E>>
    where
        F: FnOnce(Option<String>) -> Fut,
        Fut: Future<Output = std::result::Result<Option<String>, E>>,
    {
        let txn = self.begin_write().await?;
        let mut query = self
            .select::<connection::Entity>()
            .filter(connection::Column::Id.eq(connection_id.as_str()));
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            query = query.lock_exclusive();
        }
        let current = query
            .one(&txn)
            .await?
            .ok_or(StorageError::NotFound)?
            .credentials;
        let outcome = match refresh(current.clone()).await {
            Ok(Some(sealed)) => {
                connection::Entity::update_many()
                    .col_expr(connection::Column::Credentials, Expr::value(sealed.clone()))
                    .filter(connection::Column::TenantId.eq(self.tenant_id().as_str()))
                    .filter(connection::Column::Id.eq(connection_id.as_str()))
                    .exec(&txn)
                    .await?;
                Ok(Some(sealed))
            }
            Ok(None) => Ok(current),
            Err(e) => Err(e),
        };
        txn.commit().await?;
        Ok(outcome)
    }
}

impl Store {
    /// Takes the authorization `state` names (it can be used once), if it exists and has
    /// not expired.
    pub async fn take_authorization(&self, state: &str) -> Result<Option<PendingAuthorization>> {
        let Some(found) = oauth_state::Entity::find_by_id(state.to_owned())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let taken = oauth_state::Entity::delete_by_id(state.to_owned())
            .exec(&self.db)
            .await?;
        if taken.rows_affected == 0
            || now() - found.created_at > Duration::minutes(STATE_TTL_MINUTES)
        {
            return Ok(None);
        }
        Ok(Some(PendingAuthorization {
            scope: TenantScope::new(decode::id(&found.tenant_id)?, Role::Admin),
            connection_id: decode::id(&found.connection_id)?,
            base_url: found.base_url,
            auth_url: found.auth_url,
            sealed_verifier: found.pkce_verifier,
            created_at: found.created_at,
        }))
    }
}

/// A connection's secrets as stored (sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecrets {
    /// The connection.
    pub connection_id: ConnectionId,
    /// Its sealed API credentials.
    pub credentials: Option<String>,
    /// Its sealed webhook signing secret.
    pub webhook_secret: Option<String>,
}

impl Store {
    /// Every connection's sealed secrets (for re-sealing under a new key).
    pub async fn sealed_secrets(&self) -> Result<Vec<SealedSecrets>> {
        let found = connection::Entity::find().all(&self.db).await?;
        found
            .into_iter()
            .filter(|c| c.credentials.is_some() || c.webhook_secret.is_some())
            .map(|c| {
                Ok(SealedSecrets {
                    connection_id: decode::id(&c.id)?,
                    credentials: c.credentials,
                    webhook_secret: c.webhook_secret,
                })
            })
            .collect()
    }

    /// Replaces a connection's sealed secrets.
    pub async fn replace_sealed_secrets(&self, secrets: &SealedSecrets) -> Result<()> {
        connection::Entity::update_many()
            .col_expr(
                connection::Column::Credentials,
                Expr::value(secrets.credentials.clone()),
            )
            .col_expr(
                connection::Column::WebhookSecret,
                Expr::value(secrets.webhook_secret.clone()),
            )
            .filter(connection::Column::Id.eq(secrets.connection_id.as_str()))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
