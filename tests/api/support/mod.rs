//! Real servers on 127.0.0.1, port 0, that stand in for the world outside
//! for one test: an SMTP sink, an SMS gateway, and scripted HTTP peers (a
//! misbehaving identity provider, a contact registry).

pub mod fake_http;
pub mod sms_gateway;
pub mod smtp_sink;
