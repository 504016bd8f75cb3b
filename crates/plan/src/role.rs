//! Roles and the actor who causes an event.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::id::{IdError, UserId};

/// The role a user acts in. What each role may do is decided in [`crate::decide`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Key worker (kontaktperson / kontaktman / stödperson): drafts, revises, reviews
    /// monthly and gets the plan signed.
    KeyWorker,
    /// Staff member (medarbetare): follows the plan, records deviations, may sign (004).
    Staff,
    /// Unit manager (enhetschef / verksamhetschef): self-monitoring (egenkontroll).
    UnitManager,
    /// Case officer (biståndshandläggare): sends the order, approves or asks for a
    /// supplement.
    CaseOfficer,
    /// Administrative officer (förvaltningsassistent): checks approval before paying the
    /// new-client fee (001). Reads; records nothing in a plan.
    AdministrativeOfficer,
    /// Inspector (IVO): read-only.
    Inspector,
    /// System administrator: registers orders, plans and the client's signatures on
    /// import, closes and corrects, but never takes the authority's decisions, reviews or
    /// follows up, nor signs as a staff member.
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::KeyWorker,
        Role::Staff,
        Role::UnitManager,
        Role::CaseOfficer,
        Role::AdministrativeOfficer,
        Role::Inspector,
        Role::Admin,
    ];

    /// The stable name stored in records (`key_worker`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::KeyWorker => "key_worker",
            Role::Staff => "staff",
            Role::UnitManager => "unit_manager",
            Role::CaseOfficer => "case_officer",
            Role::AdministrativeOfficer => "administrative_officer",
            Role::Inspector => "inspector",
            Role::Admin => "admin",
        }
    }

    /// A name for people, used in rejection messages.
    pub fn describe(self) -> &'static str {
        match self {
            Role::KeyWorker => "key worker",
            Role::Staff => "staff member",
            Role::UnitManager => "unit manager",
            Role::CaseOfficer => "case officer",
            Role::AdministrativeOfficer => "administrative officer",
            Role::Inspector => "inspector",
            Role::Admin => "administrator",
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
#[error(
    "unknown role {0:?}; expected one of key_worker, staff, unit_manager, case_officer, administrative_officer, inspector, admin"
)]
pub struct UnknownRole(pub String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Who causes an event: a user acting in a role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    pub user: UserId,
    pub role: Role,
}

impl Actor {
    pub fn new(user: UserId, role: Role) -> Actor {
        Actor { user, role }
    }
}

/// Why a ledger record's actor is not an actor of this domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActorError {
    #[error(transparent)]
    User(#[from] IdError),
    #[error(transparent)]
    Role(#[from] UnknownRole),
}

impl From<&Actor> for planledger_ledger::Actor {
    fn from(a: &Actor) -> planledger_ledger::Actor {
        planledger_ledger::Actor {
            user_id: a.user.as_str().to_owned(),
            role: a.role.as_str().to_owned(),
        }
    }
}

impl TryFrom<&planledger_ledger::Actor> for Actor {
    type Error = ActorError;
    fn try_from(a: &planledger_ledger::Actor) -> Result<Actor, ActorError> {
        Ok(Actor {
            user: UserId::new(a.user_id.clone())?,
            role: a.role.parse()?,
        })
    }
}
