//! [`TenantAccess`]: the caller's right to act in the tenant named by the `{tenant_id}` path
//! segment. The tenant comes from the caller's membership (or token), never from input alone:
//! a tenant the caller does not belong to answers 404, exactly like one that does not exist.

use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use concord_domain::{Permission, TenantId};
use concord_storage::{Scoped, TenantScope};

use crate::{auth::Caller, error::ApiError, state::AppState};

/// An authenticated caller and the scope they act in.
#[derive(Debug, Clone)]
pub struct TenantAccess {
    /// Who is calling.
    pub caller: Caller,
    /// The tenant and the caller's role in it.
    pub scope: TenantScope,
}

impl TenantAccess {
    /// Refuses with 403 unless the caller's role allows `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.scope.role().allows(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "your role ({}) does not allow this",
                self.scope.role()
            )))
        }
    }

    /// The tenant's repositories.
    pub fn repos<'a>(&'a self, state: &'a AppState) -> Scoped<'a> {
        state.store.scoped(&self.scope)
    }

    async fn resolve(req: HttpRequest) -> Result<Self, ApiError> {
        let caller = Caller::extract(&req).await?;
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::internal("application state missing"))?;
        let tenant_id = req
            .match_info()
            .get("tenant_id")
            .and_then(|raw| TenantId::parse(raw).ok())
            .ok_or_else(ApiError::not_found)?;
        let scope = match &caller {
            Caller::Token { scope, .. } if scope.tenant_id() == &tenant_id => scope.clone(),
            Caller::Token { .. } => return Err(ApiError::not_found()),
            Caller::Session { user, .. } => state.store.authorize(&user.id, &tenant_id).await?,
        };
        tracing::Span::current().record("tenant_id", tenant_id.as_str());
        Ok(Self { caller, scope })
    }
}

impl FromRequest for TenantAccess {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(Self::resolve(req.clone()))
    }
}
