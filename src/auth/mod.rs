//! Identity: the TAXISnet login (with a development stand-in), sessions,
//! the SMS one-time code step-up, roles, and the contact registry.

pub mod contact_registry;
mod context;
pub mod dev_provider;
mod dev_routes;
mod extractors;
mod otp;
pub mod roles;
mod routes;
mod secrets;
pub mod session;
mod store;
mod taxisnet;
mod userinfo;

pub use context::{AuthContext, DEVELOPMENT_PROVIDER_PATH};
pub use dev_routes::dev_routes;
pub use extractors::{MunicipalityAdmin, PlatformAdmin, Staff};
pub use routes::{LoginAnswer, Me, OtpSent, routes};
pub use session::{CurrentSession, SessionToken};
