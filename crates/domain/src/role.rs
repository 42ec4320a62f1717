//! Membership roles and what each may do inside a tenant.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A user's role in one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Full control, including billing-level decisions and granting ownership.
    Owner,
    /// Manages members, settings and connections.
    Admin,
    /// Day-to-day operations: stock, orders, fulfilment.
    Staff,
    /// Reads everything, downloads compliance reports, keeps the jurisdiction rules and
    /// releases compliance holds; changes nothing operational (stock, orders, settings).
    ComplianceOfficer,
    /// Reads everything; writes nothing.
    Viewer,
}

/// Something a caller may want to do inside a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read the tenant's data.
    Read,
    /// Change operational data (stock, orders, connections).
    Operate,
    /// Rename the tenant, change settings.
    ManageTenant,
    /// Invite, remove and re-role members.
    ManageMembers,
    /// Download compliance reports.
    ReadReports,
    /// Grant or take away ownership.
    ManageOwners,
    /// Change jurisdiction rules, channels' jurisdictions, retention periods, and release
    /// compliance holds (COMPLIANCE.md: owner, admin, compliance officer).
    ManageCompliance,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 7] = [
        Permission::Read,
        Permission::Operate,
        Permission::ManageTenant,
        Permission::ManageMembers,
        Permission::ReadReports,
        Permission::ManageOwners,
        Permission::ManageCompliance,
    ];
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::Staff,
        Role::ComplianceOfficer,
        Role::Viewer,
    ];

    /// The role's wire name (`compliance_officer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::ComplianceOfficer => "compliance_officer",
            Role::Viewer => "viewer",
        }
    }

    /// Whether this role grants `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            Read => true,
            ReadReports | ManageCompliance => {
                matches!(self, Role::Owner | Role::Admin | Role::ComplianceOfficer)
            }
            Operate => matches!(self, Role::Owner | Role::Admin | Role::Staff),
            ManageTenant | ManageMembers => matches!(self, Role::Owner | Role::Admin),
            ManageOwners => self == Role::Owner,
        }
    }

    /// Whether a member with this role may give `target` to someone (by invitation or
    /// re-roling). Only owners make owners; admins manage everyone below them.
    pub fn may_grant(self, target: Role) -> bool {
        self.allows(Permission::ManageMembers)
            && (target != Role::Owner || self.allows(Permission::ManageOwners))
    }

    /// Whether everything this role may do, `other` may do too. Used to cap an API token's
    /// role at its creator's. (Roles are not a ladder: a compliance officer reads reports,
    /// which staff cannot.)
    pub fn at_most(self, other: Role) -> bool {
        Permission::ALL
            .into_iter()
            .all(|p| !self.allows(p) || other.allows(p))
    }

    /// The most a caller holding both roles' limits may do: the weaker of the two, or a
    /// viewer when neither contains the other.
    pub fn weaker(self, other: Role) -> Role {
        if self.at_most(other) {
            self
        } else if other.at_most(self) {
            other
        } else {
            Role::Viewer
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`; expected one of owner, admin, staff, compliance_officer, viewer")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn compliance_officer_reads_reports_and_keeps_rules_but_never_operates() {
        let co = Role::ComplianceOfficer;
        assert!(co.allows(Permission::Read));
        assert!(co.allows(Permission::ReadReports));
        assert!(co.allows(Permission::ManageCompliance));
        for p in [
            Permission::Operate,
            Permission::ManageTenant,
            Permission::ManageMembers,
        ] {
            assert!(!co.allows(p), "{p:?}");
        }
    }

    #[test]
    fn viewer_only_reads() {
        assert!(Role::Viewer.allows(Permission::Read));
        assert!(!Role::Viewer.allows(Permission::ManageCompliance));
        assert!(!Role::Staff.allows(Permission::ManageCompliance));
        assert!(!Role::Viewer.allows(Permission::ReadReports));
        assert!(!Role::Viewer.allows(Permission::Operate));
    }

    #[test]
    fn only_owners_grant_ownership() {
        assert!(Role::Owner.may_grant(Role::Owner));
        assert!(!Role::Admin.may_grant(Role::Owner));
        assert!(Role::Admin.may_grant(Role::Admin));
        assert!(!Role::Staff.may_grant(Role::Viewer));
    }

    #[test]
    fn staff_and_compliance_officers_cap_each_other_at_viewer() {
        assert!(
            !Role::ComplianceOfficer.at_most(Role::Staff),
            "staff cannot read reports"
        );
        assert!(
            !Role::Staff.at_most(Role::ComplianceOfficer),
            "officers cannot operate"
        );
        assert_eq!(Role::Staff.weaker(Role::ComplianceOfficer), Role::Viewer);
        assert_eq!(
            Role::Admin.weaker(Role::ComplianceOfficer),
            Role::ComplianceOfficer
        );
        assert!(
            !Role::Owner.at_most(Role::Admin),
            "an admin cannot hold an owner's token"
        );
        assert_eq!(Role::Owner.weaker(Role::Admin), Role::Admin);
    }

    #[test]
    fn weaker_picks_the_less_powerful_role() {
        assert_eq!(Role::Owner.weaker(Role::Viewer), Role::Viewer);
        assert_eq!(Role::Staff.weaker(Role::Admin), Role::Staff);
        assert!(Role::Viewer.at_most(Role::Owner));
        assert!(!Role::Owner.at_most(Role::Staff));
    }
}
