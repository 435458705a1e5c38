//! Identity: the TAXISnet login (with a development stand-in), sessions,
//! the SMS one-time code step-up, roles, and the contact registry.

pub mod contact_registry;
mod context;
mod extractors;
mod otp;
pub mod roles;
mod routes;
mod secrets;
pub mod session;
mod store;
mod taxisnet;
mod userinfo;

pub use context::AuthContext;
pub use extractors::{MunicipalityAdmin, PlatformAdmin, Staff};
pub use routes::{LoginAnswer, Me, OtpSent, routes};
pub use secrets::{HmacKey, random_token};
pub use session::{CurrentSession, SessionToken};
