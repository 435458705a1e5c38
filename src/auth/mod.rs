//! Identity: the TAXISnet login (with a development stand-in), sessions,
//! the SMS one-time code step-up, roles, and the contact registry.

mod caller;
pub mod contact_registry;
mod context;
mod otp;
pub mod roles;
mod routes;
mod secrets;
pub mod session;
mod store;
mod taxisnet;
mod userinfo;

pub use caller::{
    Caller, MunicipalityAdmin, PlatformAdmin, Principal, Staff, StrongCitizen, StudioMember,
    StudioOwner, WithRoles,
};
pub use context::AuthContext;
pub use routes::{LoginAnswer, Me, OtpSent, routes};
pub use secrets::{HmacKey, random_token, sha256_hex};
pub use session::CurrentSession;
pub use store::{SessionRow, insert_session};
