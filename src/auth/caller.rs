//! Who may call a handler, stated in its signature as `Caller<R>`, and
//! resolved on the connection that does the handler's work: one hop to the
//! blocking pool and one checkout per request (docs/architecture.md, "A
//! request's way through").
//!
//! The extractor only reads the credential (`401` when there is none, `403
//! origin_not_allowed` for a cookie from another origin); inside its
//! `Db::run` the handler calls [`Caller::resolve`], which looks the session
//! up and checks what `R` requires: `401` for a session that is over, `403
//! forbidden` for a missing role. Scoped roles carry the ids they are for;
//! the handler checks the one it acts on with `require`.

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::roles::{self, Role, RoleGrant};
use super::session::{CurrentSession, SessionToken};
use crate::db::DbConn;
use crate::domain::ids::{DepartmentId, MunicipalityId, StudioId};
use crate::http::{ApiError, ErrorCode};

/// What a handler requires of its caller, checked on the request's own
/// connection once the session is known.
pub trait Principal: Sized {
    fn authorize(conn: &mut DbConn, session: CurrentSession) -> Result<Self, ApiError>;
}

/// The caller's credential, read but not yet looked up; `R` is who the
/// handler requires.
pub struct Caller<R> {
    token: SessionToken,
    required: PhantomData<fn() -> R>,
}

// Not derived: that would require `R: Clone` for no reason.
impl<R> Clone for Caller<R> {
    fn clone(&self) -> Self {
        Caller {
            token: self.token.clone(),
            required: PhantomData,
        }
    }
}

impl<R: Principal> Caller<R> {
    /// The live session, checked for what `R` requires.
    pub fn resolve(&self, conn: &mut DbConn) -> Result<R, ApiError> {
        let session = self.token.resolve(conn)?;
        R::authorize(conn, session)
    }
}

impl<R> FromRequest for Caller<R> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Caller<R>, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(SessionToken::read(req).map(|token| Caller {
            token,
            required: PhantomData,
        }))
    }
}

impl Principal for CurrentSession {
    fn authorize(_: &mut DbConn, session: CurrentSession) -> Result<Self, ApiError> {
        Ok(session)
    }
}

/// A signed-in caller with every role they hold.
#[derive(Debug, Clone)]
pub struct WithRoles {
    pub session: CurrentSession,
    pub roles: Vec<RoleGrant>,
}

impl Principal for WithRoles {
    fn authorize(conn: &mut DbConn, session: CurrentSession) -> Result<Self, ApiError> {
        let roles = roles::grants_for(conn, session.afm.as_str())?;
        Ok(WithRoles { session, roles })
    }
}

fn forbidden() -> ApiError {
    ApiError::new(ErrorCode::Forbidden)
}

/// An operator of the service.
#[derive(Debug, Clone)]
pub struct PlatformAdmin(pub CurrentSession);

impl Principal for PlatformAdmin {
    fn authorize(conn: &mut DbConn, session: CurrentSession) -> Result<Self, ApiError> {
        let caller = WithRoles::authorize(conn, session)?;
        if caller.roles.iter().any(|g| g.role == Role::PlatformAdmin) {
            Ok(PlatformAdmin(caller.session))
        } else {
            Err(forbidden())
        }
    }
}

/// Principals that hold a role for some scopes only, of type `$scope`.
macro_rules! scoped_principal {
    ($(#[$doc:meta])* $name:ident, $scope:ty, $($role:expr),+) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            pub session: CurrentSession,
            scopes: Vec<$scope>,
        }

        impl $name {
            /// Refuses unless the role is held for `scope`.
            pub fn require(&self, scope: &$scope) -> Result<(), ApiError> {
                if self.scopes.contains(scope) { Ok(()) } else { Err(forbidden()) }
            }
        }

        impl Principal for $name {
            fn authorize(conn: &mut DbConn, session: CurrentSession) -> Result<Self, ApiError> {
                let caller = WithRoles::authorize(conn, session)?;
                // A stored scope that is not an id of the kind could
                // never be required, so it is left out.
                let scopes: Vec<$scope> = caller
                    .roles
                    .into_iter()
                    .filter(|grant| $(grant.role == $role)||+)
                    .filter_map(|grant| grant.scope_id?.parse().ok())
                    .collect();
                if scopes.is_empty() {
                    Err(forbidden())
                } else {
                    Ok($name { session: caller.session, scopes })
                }
            }
        }
    };
}

scoped_principal!(
    /// A municipality's ICT administrator (R-BK-09), for the municipalities in its grants.
    MunicipalityAdmin,
    MunicipalityId,
    Role::MunicipalityAdmin
);
scoped_principal!(
    /// An employee of one or more departments (R-BK-08), for those departments.
    Staff,
    DepartmentId,
    Role::Staff
);
scoped_principal!(
    /// The owner of one or more photo studios (R-PH-01), for those studios.
    StudioOwner,
    StudioId,
    Role::Photographer
);
scoped_principal!(
    /// Someone who may upload for a studio (R-PH-01): its owner or an
    /// employee the owner authorized.
    StudioMember,
    StudioId,
    Role::Photographer,
    Role::StudioEmployee
);

/// A citizen whose session was confirmed with the SMS one-time code
/// (R-PH-02): everything about their photos requires it.
#[derive(Debug, Clone)]
pub struct StrongCitizen(pub CurrentSession);

impl Principal for StrongCitizen {
    fn authorize(_: &mut DbConn, session: CurrentSession) -> Result<Self, ApiError> {
        if session.strong {
            Ok(StrongCitizen(session))
        } else {
            Err(ApiError::new(ErrorCode::StrongAuthRequired))
        }
    }
}
