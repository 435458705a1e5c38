//! Real servers on 127.0.0.1 that stand in for the world outside: a
//! misbehaving identity provider, a contact registry.

pub mod fake_http;
