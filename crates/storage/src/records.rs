//! The values repositories return: typed ids and roles, no database types.

use chrono::{DateTime, Utc};
use concord_domain::{
    ApiTokenId, Email, InvitationId, Role, TenantId, UserId, orders::OversellPolicy,
};

use crate::{
    decode,
    entity::{api_token, invitation, tenant, user},
    error::Result,
};

/// A merchant organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// Its display name.
    pub name: String,
    /// What happens to an order that loses the last unit to another channel.
    pub oversell_policy: OversellPolicy,
    /// How often each connection is reconciled.
    pub schedule: ReconcileSchedule,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// How often a tenant's connections are reconciled with their platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileSchedule {
    /// Minutes between incremental reconciles (missed orders, unconfirmed offers).
    pub incremental_minutes: i32,
    /// Hours between full reconciles (every listed item's stock compared).
    pub full_hours: i32,
}

impl Default for ReconcileSchedule {
    fn default() -> Self {
        Self {
            incremental_minutes: 60,
            full_hours: 24,
        }
    }
}

impl TryFrom<tenant::Model> for Tenant {
    type Error = crate::StorageError;
    fn try_from(m: tenant::Model) -> Result<Self> {
        Ok(Self {
            id: decode::id(&m.id)?,
            name: m.name,
            oversell_policy: decode::parsed(&m.oversell_policy, str::parse)?,
            schedule: ReconcileSchedule {
                incremental_minutes: m.reconcile_every_minutes,
                full_hours: m.full_reconcile_every_hours,
            },
            created_at: m.created_at,
        })
    }
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The normalized email address the user signs in with.
    pub email: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

impl TryFrom<user::Model> for User {
    type Error = crate::StorageError;
    fn try_from(m: user::Model) -> Result<Self> {
        Ok(Self {
            id: decode::id(&m.id)?,
            email: m.email,
            created_at: m.created_at,
        })
    }
}

/// A user together with the password hash that authenticates them.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The account.
    pub user: User,
    /// Its PHC-format password hash.
    pub password_hash: String,
}

/// One of a user's memberships, as listed on `/me`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipSummary {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The tenant's name.
    pub tenant_name: String,
    /// The user's role there.
    pub role: Role,
}

/// A member of a tenant, as listed to its admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's account.
    pub user_id: UserId,
    /// The member's email.
    pub email: String,
    /// The member's role in this tenant.
    pub role: Role,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

/// A signed-in browser session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who is signed in.
    pub user: User,
    /// The token cookie-authenticated writes must echo (CSRF protection).
    pub csrf_token: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
}

/// A pending invitation to join a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Its id.
    pub id: InvitationId,
    /// The tenant it admits to.
    pub tenant_id: TenantId,
    /// The invited address; only this user may accept.
    pub email: String,
    /// The role granted on acceptance.
    pub role: Role,
    /// Who invited.
    pub invited_by: UserId,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl TryFrom<invitation::Model> for Invitation {
    type Error = crate::StorageError;
    fn try_from(m: invitation::Model) -> Result<Self> {
        Ok(Self {
            id: decode::id(&m.id)?,
            tenant_id: decode::id(&m.tenant_id)?,
            email: m.email,
            role: decode::role(&m.role)?,
            invited_by: decode::id(&m.invited_by)?,
            created_at: m.created_at,
            expires_at: m.expires_at,
        })
    }
}

/// What a new invitation needs.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    /// The invited address.
    pub email: Email,
    /// The role to grant.
    pub role: Role,
    /// SHA-256 of the secret acceptance token (the token itself is never stored).
    pub token_hash: String,
    /// The inviting member.
    pub invited_by: UserId,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

/// A personal API token (its secret is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Its id.
    pub id: ApiTokenId,
    /// The only tenant it opens.
    pub tenant_id: TenantId,
    /// Whose token it is.
    pub user_id: UserId,
    /// A label chosen by its owner.
    pub name: String,
    /// The most it may do; never more than its owner's current role.
    pub role: Role,
    /// The token's first characters, to recognize it in lists.
    pub prefix: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it last authenticated a request.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl TryFrom<api_token::Model> for ApiToken {
    type Error = crate::StorageError;
    fn try_from(m: api_token::Model) -> Result<Self> {
        Ok(Self {
            id: decode::id(&m.id)?,
            tenant_id: decode::id(&m.tenant_id)?,
            user_id: decode::id(&m.user_id)?,
            name: m.name,
            role: decode::role(&m.role)?,
            prefix: m.prefix,
            created_at: m.created_at,
            expires_at: m.expires_at,
            last_used_at: m.last_used_at,
        })
    }
}

/// What a new API token needs.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// The owner.
    pub user_id: UserId,
    /// Its label.
    pub name: String,
    /// Its role, already checked to be at most the owner's.
    pub role: Role,
    /// The first characters of the secret.
    pub prefix: String,
    /// SHA-256 of the secret.
    pub token_hash: String,
    /// Optional expiry.
    pub expires_at: Option<DateTime<Utc>>,
}
