//! Who is signed in, which tenant they are looking at, and what their role lets them do.

use leptos::prelude::*;

use crate::{api, model::Me};

const TENANT_KEY: &str = "concord.tenant";

/// The dashboard's session, shared through context.
#[derive(Clone, Copy)]
pub struct Session {
    /// The signed-in account, once known.
    pub me: RwSignal<Option<Me>>,
    /// The tenant being viewed.
    pub tenant: RwSignal<Option<String>>,
}

impl Session {
    /// A session with no one signed in.
    pub fn new() -> Self {
        Self {
            me: RwSignal::new(None),
            tenant: RwSignal::new(None),
        }
    }

    /// The session from context.
    pub fn get() -> Self {
        expect_context::<Session>()
    }

    /// Takes in a `GET /me` answer: remembers the CSRF token and picks a tenant (the last
    /// one viewed, if still a member).
    pub fn signed_in(&self, me: Me) {
        api::set_csrf(me.csrf_token.clone());
        let remembered = storage().and_then(|s| s.get_item(TENANT_KEY).ok().flatten());
        let tenant = remembered
            .filter(|t| me.memberships.iter().any(|m| &m.tenant_id == t))
            .or_else(|| me.memberships.first().map(|m| m.tenant_id.clone()));
        self.me.set(Some(me));
        self.tenant.set(tenant);
    }

    /// Forgets the account.
    pub fn signed_out(&self) {
        api::set_csrf(None);
        self.me.set(None);
        self.tenant.set(None);
    }

    /// Switches to another tenant.
    pub fn switch(&self, tenant_id: &str) {
        if let Some(s) = storage() {
            let _ = s.set_item(TENANT_KEY, tenant_id);
        }
        self.tenant.set(Some(tenant_id.to_owned()));
    }

    /// The caller's role in the tenant being viewed.
    pub fn role(&self) -> Option<String> {
        let tenant = self.tenant.get()?;
        self.me.with(|me| {
            me.as_ref()?
                .memberships
                .iter()
                .find(|m| m.tenant_id == tenant)
                .map(|m| m.role.clone())
        })
    }

    /// May change stock, orders and connections (owner, admin, staff).
    pub fn can_operate(&self) -> bool {
        matches!(self.role().as_deref(), Some("owner" | "admin" | "staff"))
    }

    /// May change settings, connections' access and members (owner, admin).
    pub fn can_manage(&self) -> bool {
        matches!(self.role().as_deref(), Some("owner" | "admin"))
    }

    /// May download compliance reports (owner, compliance officer).
    pub fn can_read_reports(&self) -> bool {
        matches!(
            self.role().as_deref(),
            Some("owner" | "admin" | "compliance_officer")
        )
    }

    /// `/api/v1/tenants/{tenant}{rest}` for the tenant being viewed.
    pub fn path(&self, rest: &str) -> String {
        format!(
            "/api/v1/tenants/{}{rest}",
            self.tenant.get().unwrap_or_default()
        )
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}
