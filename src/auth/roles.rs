//! Roles (docs/api.md → Roles), stored as grants: a role for an AFM, scoped to a
//! municipality, department or studio where the role is local.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Actor};
use crate::db::DbConn;
use crate::db::schema::role_grants;
use crate::domain::Afm;
use crate::domain::ids::{DepartmentId, MunicipalityId, StudioId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "staff")]
pub enum Role {
    /// Operators of the service.
    PlatformAdmin,
    /// A municipality's ICT administrators (R-BK-09); scoped to the municipality.
    MunicipalityAdmin,
    /// An employee of one department (R-BK-08); scoped to the department.
    Staff,
    /// Owner of a registered photo studio; scoped to the studio.
    Photographer,
    /// Someone a studio owner authorized (R-PH-01); scoped to the studio.
    StudioEmployee,
}

impl Role {
    const ALL: [Role; 5] = [
        Role::PlatformAdmin,
        Role::MunicipalityAdmin,
        Role::Staff,
        Role::Photographer,
        Role::StudioEmployee,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::MunicipalityAdmin => "municipality_admin",
            Role::Staff => "staff",
            Role::Photographer => "photographer",
            Role::StudioEmployee => "studio_employee",
        }
    }

    fn parse(stored: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == stored)
    }
}

/// A role together with what it is held for, as it is granted, taken back
/// and listed: the scope's type follows from the role, so a department
/// cannot be given where a municipality is meant. Studios have no table
/// yet, so their roles cannot be granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopedRole {
    PlatformAdmin,
    MunicipalityAdmin(MunicipalityId),
    Staff(DepartmentId),
    Photographer(StudioId),
    StudioEmployee(StudioId),
}

impl ScopedRole {
    pub fn role(&self) -> Role {
        match self {
            ScopedRole::PlatformAdmin => Role::PlatformAdmin,
            ScopedRole::MunicipalityAdmin(_) => Role::MunicipalityAdmin,
            ScopedRole::Staff(_) => Role::Staff,
            ScopedRole::Photographer(_) => Role::Photographer,
            ScopedRole::StudioEmployee(_) => Role::StudioEmployee,
        }
    }

    /// The scope as stored and audited: empty for a role without one.
    pub fn scope_id(&self) -> &str {
        match self {
            ScopedRole::PlatformAdmin => "",
            ScopedRole::MunicipalityAdmin(municipality) => municipality.as_str(),
            ScopedRole::Staff(department) => department.as_str(),
            ScopedRole::Photographer(studio) | ScopedRole::StudioEmployee(studio) => {
                studio.as_str()
            }
        }
    }
}

/// One role an AFM holds; `scope_id` names what it is for, if local.
// The scope stays text here: it may be a municipality, a department or a
// studio, and this is how `/v1/me` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoleGrant {
    pub role: Role,
    /// The municipality, department or studio; absent for platform admins.
    #[schema(example = "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a02")]
    pub scope_id: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = role_grants)]
struct NewGrant<'a> {
    id: String,
    afm: &'a str,
    role: &'static str,
    scope_id: &'a str,
    granted_by: &'a str,
    created_at: NaiveDateTime,
}

pub fn grants_for(conn: &mut DbConn, afm: &str) -> QueryResult<Vec<RoleGrant>> {
    let rows: Vec<(String, String)> = role_grants::table
        .filter(role_grants::afm.eq(afm))
        .order((role_grants::role, role_grants::scope_id))
        .select((role_grants::role, role_grants::scope_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(role, scope)| {
            Role::parse(&role).map(|role| RoleGrant {
                role,
                scope_id: (!scope.is_empty()).then_some(scope),
            })
        })
        .collect())
}

/// Someone who holds a role within a scope, and who granted it when.
#[derive(Debug, Queryable)]
pub struct Holder {
    pub afm: String,
    pub granted_by: String,
    pub granted_at: NaiveDateTime,
}

/// Who holds `held`, by AFM, from after `after`; one more than `limit`,
/// for the next page's cursor.
pub fn holders(
    conn: &mut DbConn,
    held: &ScopedRole,
    after: Option<&str>,
    limit: u32,
) -> QueryResult<Vec<Holder>> {
    let mut query = role_grants::table
        .filter(role_grants::role.eq(held.role().as_str()))
        .filter(role_grants::scope_id.eq(held.scope_id()))
        .order(role_grants::afm)
        .limit(i64::from(limit) + 1)
        .select((
            role_grants::afm,
            role_grants::granted_by,
            role_grants::created_at,
        ))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(role_grants::afm.gt(after.to_owned()));
    }
    query.load(conn)
}

/// Grants a role; granting one already held changes nothing. Answers
/// whether the grant is new.
pub fn grant(
    conn: &mut DbConn,
    afm: &Afm,
    held: &ScopedRole,
    granted_by: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let row = NewGrant {
        id: uuid::Uuid::now_v7().to_string(),
        afm: afm.as_str(),
        role: held.role().as_str(),
        scope_id: held.scope_id(),
        granted_by,
        created_at: now,
    };
    let inserted = match conn {
        DbConn::Postgres(c) => diesel::insert_into(role_grants::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(role_grants::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(inserted == 1)
}

/// A grant of a role, or its taking back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Grant,
    Revoke,
}

/// Grants or takes back `held` for `afm`, and records it in the audit
/// trail (R-BK-10), on the caller's transaction: `by` did it, as
/// `<role>.grant` or `<role>.revoke` on the person, in the role's scope
/// (empty for platform administrators). A change that changes nothing (a
/// role granted again, one taken back that was not held) leaves no row.
/// Answers whether it changed anything.
pub fn change(
    conn: &mut DbConn,
    change: Change,
    (afm, held): (&Afm, &ScopedRole),
    by: (&str, &'static str),
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let (changed, verb) = match change {
        Change::Grant => (grant(conn, afm, held, by.0, now)?, "grant"),
        Change::Revoke => (revoke(conn, afm, held)?, "revoke"),
    };
    if changed {
        let actor = Actor {
            afm: by.0,
            role: by.1,
            scope_id: held.scope_id(),
        };
        let action = format!("{}.{verb}", held.role().as_str());
        audit::record(conn, &actor, &action, ("person", afm.as_str()), now)?;
    }
    Ok(changed)
}

/// Takes a role back; answers whether it was held.
pub fn revoke(conn: &mut DbConn, afm: &Afm, held: &ScopedRole) -> QueryResult<bool> {
    let deleted = diesel::delete(
        role_grants::table
            .filter(role_grants::afm.eq(afm.as_str()))
            .filter(role_grants::role.eq(held.role().as_str()))
            .filter(role_grants::scope_id.eq(held.scope_id())),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
