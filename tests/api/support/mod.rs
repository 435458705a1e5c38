//! Real stand-ins for the outside world: an SMTP sink and an SMS gateway,
//! each listening on 127.0.0.1 port 0 for one test.

pub mod sms_gateway;
pub mod smtp_sink;
