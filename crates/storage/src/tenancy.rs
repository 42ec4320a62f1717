//! A tenant's own records: the tenant, its members, invitations and API tokens.
//! Every query here starts from [`Scoped::select`] or the scope's own tenant id.

use concord_domain::{ApiTokenId, InvitationId, OrganizationName, Role, UserId};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Condition, Expr},
};

use crate::{
    ApiToken, Invitation, Member, NewApiToken, NewInvitation, Scoped, Tenant, decode,
    entity::{api_token, invitation, membership, tenant, user},
    error::{Result, StorageError},
    now,
};

impl Scoped<'_> {
    /// The tenant itself.
    pub async fn tenant(&self) -> Result<Tenant> {
        let txn = self.begin().await?;
        let found = find_tenant(&txn, self).await?;
        txn.commit().await?;
        Ok(found)
    }

    /// Renames the tenant.
    pub async fn rename(&self, name: &OrganizationName) -> Result<Tenant> {
        let txn = self.begin_write().await?;
        tenant::Entity::update_many()
            .col_expr(tenant::Column::Name, Expr::value(name.as_str()))
            .filter(tenant::Column::Id.eq(self.tenant_id().as_str()))
            .exec(&txn)
            .await?;
        let renamed = find_tenant(&txn, self).await?;
        txn.commit().await?;
        Ok(renamed)
    }

    /// Every member, by email.
    pub async fn members(&self) -> Result<Vec<Member>> {
        let txn = self.begin().await?;
        let rows = self
            .select::<membership::Entity>()
            .find_also_related(user::Entity)
            .order_by_asc(user::Column::Email)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(to_member).collect()
    }

    /// One member.
    pub async fn member(&self, user_id: &UserId) -> Result<Member> {
        let txn = self.begin().await?;
        let found = find_member(&txn, self, user_id).await?;
        txn.commit().await?;
        Ok(found)
    }

    /// Changes a member's role; the last owner cannot stop being one. Audited as done by
    /// `actor`.
    pub async fn set_member_role(
        &self,
        user_id: &UserId,
        role: Role,
        actor: &str,
    ) -> Result<Member> {
        let txn = self.begin_write().await?;
        let current = find_member(&txn, self, user_id).await?;
        if current.role == Role::Owner && role != Role::Owner {
            ensure_another_owner(&txn, self).await?;
        }
        membership::Entity::update_many()
            .col_expr(membership::Column::Role, Expr::value(role.as_str()))
            .filter(membership::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(membership::Column::UserId.eq(user_id.as_str()))
            .exec(&txn)
            .await?;
        let updated = find_member(&txn, self, user_id).await?;
        if current.role != role {
            crate::audit::append_in(
                self,
                &txn,
                crate::NewAuditEntry {
                    actor: actor.to_owned(),
                    action: concord_domain::audit::AuditAction::MemberRoleChanged,
                    subject: user_id.to_string(),
                    details: serde_json::json!({ "before": current.role, "after": role }),
                },
            )
            .await?;
        }
        txn.commit().await?;
        Ok(updated)
    }

    /// Removes a member and revokes their API tokens here; the last owner cannot leave.
    /// Audited as done by `actor` (the member themselves when leaving).
    pub async fn remove_member(&self, user_id: &UserId, actor: &str) -> Result<()> {
        let txn = self.begin_write().await?;
        let current = find_member(&txn, self, user_id).await?;
        if current.role == Role::Owner {
            ensure_another_owner(&txn, self).await?;
        }
        membership::Entity::delete_many()
            .filter(membership::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(membership::Column::UserId.eq(user_id.as_str()))
            .exec(&txn)
            .await?;
        api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::value(now()))
            .filter(api_token::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(api_token::Column::UserId.eq(user_id.as_str()))
            .filter(api_token::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        crate::audit::append_in(
            self,
            &txn,
            crate::NewAuditEntry {
                actor: actor.to_owned(),
                action: concord_domain::audit::AuditAction::MemberRemoved,
                subject: user_id.to_string(),
                details: serde_json::json!({ "role": current.role }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Invitations not yet accepted, revoked or expired, newest first.
    pub async fn invitations(&self) -> Result<Vec<Invitation>> {
        let txn = self.begin().await?;
        let rows = self
            .select::<invitation::Entity>()
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::RevokedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(now()))
            .order_by_desc(invitation::Column::CreatedAt)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(Invitation::try_from).collect()
    }

    /// Invites an address. An earlier pending invitation to the same address is replaced;
    /// inviting someone who is already a member is a conflict.
    pub async fn create_invitation(&self, new: NewInvitation) -> Result<Invitation> {
        let txn = self.begin_write().await?;
        let already_member = self
            .select::<membership::Entity>()
            .inner_join(user::Entity)
            .filter(user::Column::Email.eq(new.email.as_str()))
            .count(&txn)
            .await?;
        if already_member > 0 {
            return Err(StorageError::Conflict(format!(
                "{} is already a member of this organization",
                new.email
            )));
        }
        invitation::Entity::update_many()
            .col_expr(invitation::Column::RevokedAt, Expr::value(now()))
            .filter(invitation::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(invitation::Column::Email.eq(new.email.as_str()))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        let created = Invitation {
            id: InvitationId::generate(),
            tenant_id: self.tenant_id().clone(),
            email: new.email.as_str().to_owned(),
            role: new.role,
            invited_by: new.invited_by,
            created_at: now(),
            expires_at: new.expires_at,
        };
        invitation::Entity::insert(invitation::ActiveModel {
            id: Set(created.id.to_string()),
            tenant_id: Set(created.tenant_id.to_string()),
            email: Set(created.email.clone()),
            role: Set(created.role.as_str().to_owned()),
            token_hash: Set(new.token_hash),
            invited_by: Set(created.invited_by.to_string()),
            created_at: Set(created.created_at),
            expires_at: Set(created.expires_at),
            accepted_at: Set(None),
            revoked_at: Set(None),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(created)
    }

    /// Revokes a pending invitation.
    pub async fn revoke_invitation(&self, id: &InvitationId) -> Result<()> {
        let txn = self.begin_write().await?;
        let done = invitation::Entity::update_many()
            .col_expr(invitation::Column::RevokedAt, Expr::value(now()))
            .filter(invitation::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(invitation::Column::Id.eq(id.as_str()))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if done.rows_affected == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }

    /// Live API tokens, newest first: everyone's, or only `owner`'s.
    pub async fn api_tokens(&self, owner: Option<&UserId>) -> Result<Vec<ApiToken>> {
        let txn = self.begin().await?;
        let mut query = self
            .select::<api_token::Entity>()
            .filter(api_token::Column::RevokedAt.is_null())
            .filter(
                Condition::any()
                    .add(api_token::Column::ExpiresAt.is_null())
                    .add(api_token::Column::ExpiresAt.gt(now())),
            );
        if let Some(owner) = owner {
            query = query.filter(api_token::Column::UserId.eq(owner.as_str()));
        }
        let rows = query
            .order_by_desc(api_token::Column::CreatedAt)
            .all(&txn)
            .await?;
        txn.commit().await?;
        rows.into_iter().map(ApiToken::try_from).collect()
    }

    /// Stores a new API token.
    pub async fn create_api_token(&self, new: NewApiToken) -> Result<ApiToken> {
        let txn = self.begin_write().await?;
        let created = ApiToken {
            id: ApiTokenId::generate(),
            tenant_id: self.tenant_id().clone(),
            user_id: new.user_id,
            name: new.name,
            role: new.role,
            prefix: new.prefix,
            created_at: now(),
            expires_at: new.expires_at,
            last_used_at: None,
        };
        api_token::Entity::insert(api_token::ActiveModel {
            id: Set(created.id.to_string()),
            tenant_id: Set(created.tenant_id.to_string()),
            user_id: Set(created.user_id.to_string()),
            name: Set(created.name.clone()),
            role: Set(created.role.as_str().to_owned()),
            prefix: Set(created.prefix.clone()),
            token_hash: Set(new.token_hash),
            created_at: Set(created.created_at),
            expires_at: Set(created.expires_at),
            last_used_at: Set(None),
            revoked_at: Set(None),
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(created)
    }

    /// Revokes a live token: anyone's, or only one of `owner`'s.
    pub async fn revoke_api_token(&self, id: &ApiTokenId, owner: Option<&UserId>) -> Result<()> {
        let txn = self.begin_write().await?;
        let mut update = api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::value(now()))
            .filter(api_token::Column::TenantId.eq(self.tenant_id().as_str()))
            .filter(api_token::Column::Id.eq(id.as_str()))
            .filter(api_token::Column::RevokedAt.is_null());
        if let Some(owner) = owner {
            update = update.filter(api_token::Column::UserId.eq(owner.as_str()));
        }
        let done = update.exec(&txn).await?;
        txn.commit().await?;
        if done.rows_affected == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }
}

async fn find_tenant(txn: &DatabaseTransaction, scoped: &Scoped<'_>) -> Result<Tenant> {
    tenant::Entity::find_by_id(scoped.tenant_id().to_string())
        .one(txn)
        .await?
        .ok_or(StorageError::NotFound)?
        .try_into()
}

async fn find_member(
    txn: &DatabaseTransaction,
    scoped: &Scoped<'_>,
    user_id: &UserId,
) -> Result<Member> {
    let row = scoped
        .select::<membership::Entity>()
        .filter(membership::Column::UserId.eq(user_id.as_str()))
        .find_also_related(user::Entity)
        .one(txn)
        .await?
        .ok_or(StorageError::NotFound)?;
    to_member(row)
}

/// Refuses unless another owner remains. On PostgreSQL the owners' rows are locked first, so
/// two owners stepping down at once cannot both pass the check.
async fn ensure_another_owner(txn: &impl ConnectionTrait, scoped: &Scoped<'_>) -> Result<()> {
    let mut owners = scoped
        .select::<membership::Entity>()
        .filter(membership::Column::Role.eq(Role::Owner.as_str()));
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        owners = owners.lock_exclusive();
    }
    if owners.all(txn).await?.len() < 2 {
        return Err(StorageError::Conflict(
            "an organization needs at least one owner; make someone else owner first".into(),
        ));
    }
    Ok(())
}

fn to_member((m, u): (membership::Model, Option<user::Model>)) -> Result<Member> {
    let u = u.ok_or_else(|| {
        StorageError::Corrupt(format!("membership of missing user {}", m.user_id))
    })?;
    Ok(Member {
        user_id: decode::id(&u.id)?,
        email: u.email,
        role: decode::role(&m.role)?,
        joined_at: m.created_at,
    })
}
