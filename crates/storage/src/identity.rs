//! Global identity operations: accounts, sessions, sign-up, and turning a membership or an
//! API token into a [`TenantScope`]. These work across tenants on purpose (a user's
//! memberships span tenants), so they run with no tenant set for row-level security.

use chrono::{DateTime, Duration, Utc};
use concord_domain::{Email, OrganizationName, Role, TenantId, UserId, orders::OversellPolicy};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
    sea_query::{Condition, Expr},
};

use crate::{
    ApiToken, Credentials, Invitation, MembershipSummary, ReconcileSchedule, Session, Store,
    Tenant, TenantScope, User, decode,
    entity::{api_token, invitation, membership, session, tenant, user},
    error::{Result, StorageError},
    now,
};

/// How stale `last_used_at` may get before a request refreshes it (saves a write per call).
const TOKEN_USE_GRANULARITY: Duration = Duration::seconds(60);

impl Store {
    /// Creates an account, its organization and the owner membership, atomically.
    pub async fn signup(
        &self,
        email: &Email,
        password_hash: String,
        organization: &OrganizationName,
    ) -> Result<(User, Tenant)> {
        let txn = self.db.begin().await?;
        let user = insert_user(&txn, email, password_hash).await?;
        let tenant = insert_tenant_with_owner(&txn, &user.id, organization).await?;
        txn.commit().await?;
        Ok((user, tenant))
    }

    /// Creates an account with no membership yet (accepting an invitation adds one).
    pub async fn create_user(&self, email: &Email, password_hash: String) -> Result<User> {
        insert_user(&self.db, email, password_hash).await
    }

    /// Creates another organization owned by `owner` (how agencies add merchants).
    pub async fn create_tenant(&self, owner: &UserId, name: &OrganizationName) -> Result<Tenant> {
        let txn = self.db.begin().await?;
        let tenant = insert_tenant_with_owner(&txn, owner, name).await?;
        txn.commit().await?;
        Ok(tenant)
    }

    /// The account signing in with `email`, with its password hash.
    pub async fn credentials(&self, email: &Email) -> Result<Option<Credentials>> {
        let found = user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await?;
        found
            .map(|m| {
                let password_hash = m.password_hash.clone();
                Ok(Credentials {
                    user: User::try_from(m)?,
                    password_hash,
                })
            })
            .transpose()
    }

    /// The account with this id.
    pub async fn user(&self, id: &UserId) -> Result<User> {
        user::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .ok_or(StorageError::NotFound)?
            .try_into()
    }

    /// Records a new session keyed by the hash of its secret.
    pub async fn create_session(
        &self,
        user_id: &UserId,
        id_hash: String,
        csrf_token: String,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        session::Entity::insert(session::ActiveModel {
            id_hash: Set(id_hash),
            user_id: Set(user_id.to_string()),
            csrf_token: Set(csrf_token),
            created_at: Set(now()),
            expires_at: Set(expires_at),
        })
        .exec(&self.db)
        .await?;
        Ok(())
    }

    /// The live session whose secret hashes to `id_hash`.
    pub async fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Session> {
        let (s, u) = session::Entity::find_by_id(id_hash.to_owned())
            .filter(session::Column::ExpiresAt.gt(now))
            .find_also_related(user::Entity)
            .one(&self.db)
            .await?
            .ok_or(StorageError::NotFound)?;
        let user = u.ok_or(StorageError::NotFound)?;
        Ok(Session {
            user: User::try_from(user)?,
            csrf_token: s.csrf_token,
            expires_at: s.expires_at,
        })
    }

    /// Ends a session.
    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        session::Entity::delete_by_id(id_hash.to_owned())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Removes sessions that ended before `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let done = session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?;
        Ok(done.rows_affected)
    }

    /// Every tenant `user_id` belongs to, by tenant name.
    pub async fn memberships_of(&self, user_id: &UserId) -> Result<Vec<MembershipSummary>> {
        let rows = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id.as_str()))
            .find_also_related(tenant::Entity)
            .order_by_asc(tenant::Column::Name)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .filter_map(|(m, t)| t.map(|t| (m, t)))
            .map(|(m, t)| {
                Ok(MembershipSummary {
                    tenant_id: decode::id(&t.id)?,
                    tenant_name: t.name,
                    role: decode::role(&m.role)?,
                })
            })
            .collect()
    }

    /// The scope `user_id` acts in within `tenant_id`, if they are a member.
    pub async fn authorize(&self, user_id: &UserId, tenant_id: &TenantId) -> Result<TenantScope> {
        let m = membership::Entity::find_by_id((tenant_id.to_string(), user_id.to_string()))
            .one(&self.db)
            .await?
            .ok_or(StorageError::NotFound)?;
        Ok(TenantScope::new(tenant_id.clone(), decode::role(&m.role)?))
    }

    /// Full access to a tenant for operator tooling (the `concord` command line, which holds
    /// the database credentials anyway); fails if the tenant does not exist.
    pub async fn operator_scope(&self, tenant_id: &TenantId) -> Result<TenantScope> {
        tenant::Entity::find_by_id(tenant_id.to_string())
            .one(&self.db)
            .await?
            .ok_or(StorageError::NotFound)?;
        Ok(TenantScope::new(tenant_id.clone(), Role::Owner))
    }

    /// The live API token whose secret hashes to `token_hash`, and the scope it opens: its
    /// tenant, with the weaker of its own role and its owner's current role. A token whose
    /// owner has left the tenant opens nothing.
    pub async fn authenticate_api_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(ApiToken, TenantScope)> {
        let model = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash))
            .filter(api_token::Column::RevokedAt.is_null())
            .filter(
                Condition::any()
                    .add(api_token::Column::ExpiresAt.is_null())
                    .add(api_token::Column::ExpiresAt.gt(now)),
            )
            .one(&self.db)
            .await?
            .ok_or(StorageError::NotFound)?;
        let token = ApiToken::try_from(model)?;
        let owner_scope = self.authorize(&token.user_id, &token.tenant_id).await?;
        if token
            .last_used_at
            .is_none_or(|t| now - t > TOKEN_USE_GRANULARITY)
        {
            api_token::Entity::update_many()
                .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
                .filter(api_token::Column::Id.eq(token.id.as_str()))
                .exec(&self.db)
                .await?;
        }
        let role = token.role.weaker(owner_scope.role());
        let scope = TenantScope::new(token.tenant_id.clone(), role);
        Ok((token, scope))
    }

    /// The pending (not accepted, revoked or expired) invitation behind a token hash.
    pub async fn pending_invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Invitation> {
        invitation::Entity::find()
            .filter(invitation::Column::TokenHash.eq(token_hash))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::RevokedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?
            .ok_or(StorageError::NotFound)?
            .try_into()
    }

    /// Accepts an invitation for `user_id`: marks it used and adds the membership, at once.
    pub async fn accept_invitation(
        &self,
        invitation: &Invitation,
        user_id: &UserId,
    ) -> Result<TenantScope> {
        let txn = self.db.begin().await?;
        let accepted_at = now();
        let marked = invitation::Entity::update_many()
            .col_expr(invitation::Column::AcceptedAt, Expr::value(accepted_at))
            .filter(invitation::Column::Id.eq(invitation.id.as_str()))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        if marked.rows_affected != 1 {
            return Err(StorageError::NotFound);
        }
        insert_membership(&txn, &invitation.tenant_id, user_id, invitation.role)
            .await
            .map_err(|e| match e {
                StorageError::Conflict(_) => {
                    StorageError::Conflict("you are already a member of this organization".into())
                }
                other => other,
            })?;
        txn.commit().await?;
        Ok(TenantScope::new(
            invitation.tenant_id.clone(),
            invitation.role,
        ))
    }
}

async fn insert_user(
    db: &impl ConnectionTrait,
    email: &Email,
    password_hash: String,
) -> Result<User> {
    let user = User {
        id: UserId::generate(),
        email: email.as_str().to_owned(),
        created_at: now(),
    };
    user::Entity::insert(user::ActiveModel {
        id: Set(user.id.to_string()),
        email: Set(user.email.clone()),
        password_hash: Set(password_hash),
        created_at: Set(user.created_at),
    })
    .exec_without_returning(db)
    .await
    .map_err(|e| match StorageError::from(e) {
        StorageError::Conflict(_) => {
            StorageError::Conflict("an account with this email already exists".into())
        }
        other => other,
    })?;
    Ok(user)
}

async fn insert_tenant_with_owner(
    db: &impl ConnectionTrait,
    owner: &UserId,
    name: &OrganizationName,
) -> Result<Tenant> {
    let tenant = Tenant {
        id: TenantId::generate(),
        name: name.as_str().to_owned(),
        oversell_policy: OversellPolicy::Hold,
        schedule: ReconcileSchedule::default(),
        created_at: now(),
    };
    tenant::Entity::insert(tenant::ActiveModel {
        id: Set(tenant.id.to_string()),
        name: Set(tenant.name.clone()),
        oversell_policy: Set(tenant.oversell_policy.as_str().to_owned()),
        reconcile_every_minutes: Set(tenant.schedule.incremental_minutes),
        full_reconcile_every_hours: Set(tenant.schedule.full_hours),
        created_at: Set(tenant.created_at),
    })
    .exec_without_returning(db)
    .await?;
    insert_membership(db, &tenant.id, owner, Role::Owner).await?;
    Ok(tenant)
}

/// Adds `user_id` to `tenant_id` with `role`; a second membership is a conflict.
pub(crate) async fn insert_membership(
    db: &impl ConnectionTrait,
    tenant_id: &TenantId,
    user_id: &UserId,
    role: Role,
) -> Result<()> {
    membership::Entity::insert(membership::ActiveModel {
        tenant_id: Set(tenant_id.to_string()),
        user_id: Set(user_id.to_string()),
        role: Set(role.as_str().to_owned()),
        created_at: Set(now()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}
