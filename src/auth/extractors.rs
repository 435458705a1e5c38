//! Role extractors: a handler states in its signature who may call it, and
//! the request is refused (`403 forbidden`) before the handler runs.
//! Scoped roles carry the ids they are for; the handler checks the one in
//! its path with `require`.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::roles::Role;
use super::session::{CurrentSession, WithRoles};
use crate::http::{ApiError, ErrorCode};

fn forbidden() -> ApiError {
    ApiError::new(ErrorCode::Forbidden)
}

impl WithRoles {
    fn scopes_of(&self, role: Role) -> Vec<String> {
        self.roles
            .iter()
            .filter(|grant| grant.role == role)
            .filter_map(|grant| grant.scope_id.clone())
            .collect()
    }
}

/// Extractors that accept a session holding `role`.
macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $role:expr, scoped) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            pub session: CurrentSession,
            scopes: Vec<String>,
        }

        impl $name {
            /// Refuses unless the role is held for `scope_id`.
            pub fn require(&self, scope_id: &str) -> Result<(), ApiError> {
                if self.scopes.iter().any(|s| s == scope_id) { Ok(()) } else { Err(forbidden()) }
            }
        }

        role_extractor!(@from_request $name, |caller: WithRoles| {
            let scopes = caller.scopes_of($role);
            if scopes.is_empty() { Err(forbidden()) } else { Ok($name { session: caller.session, scopes }) }
        });
    };
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(pub CurrentSession);

        role_extractor!(@from_request $name, |caller: WithRoles| {
            if caller.roles.iter().any(|g| g.role == $role) { Ok($name(caller.session)) } else { Err(forbidden()) }
        });
    };
    (@from_request $name:ident, $check:expr) => {
        impl FromRequest for $name {
            type Error = ApiError;
            type Future = LocalBoxFuture<'static, Result<$name, ApiError>>;

            fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
                let caller = WithRoles::from_request(req, payload);
                Box::pin(async move { ($check)(caller.await?) })
            }
        }
    };
}

role_extractor!(
    /// An operator of the service.
    PlatformAdmin,
    Role::PlatformAdmin
);
role_extractor!(
    /// A municipality's ICT administrator (R-BK-09), for the municipalities in its grants.
    MunicipalityAdmin,
    Role::MunicipalityAdmin,
    scoped
);
role_extractor!(
    /// An employee of one or more departments (R-BK-08), for those departments.
    Staff,
    Role::Staff,
    scoped
);
