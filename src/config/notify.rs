//! Settings of the outbox worker and its transports
//! (`CITIZEN_API_NOTIFY__…`). Every field has a default, so settings files
//! and environments written before notifications existed still load.

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct NotifySettings {
    /// Whether this instance runs the delivery worker. Off, it still queues
    /// messages, and leaves delivering them to the instances that run it
    /// (or, in tests, to rounds the test runs itself).
    pub worker: bool,
    /// How often the worker looks for due messages.
    pub poll_interval_ms: u64,
    /// How many messages one worker claims per round.
    pub batch_size: u32,
    /// How long a claim keeps other workers off a message; longer than any
    /// transport timeout, so a slow delivery is not claimed twice.
    pub lease_secs: u64,
    /// Failed attempts after which a message is given up (`dead`).
    pub max_attempts: u32,
    /// The first retry waits up to this long; each further one twice as long.
    pub backoff_base_ms: u64,
    /// No retry waits longer than this.
    pub backoff_cap_ms: u64,
    pub sms: SmsSettings,
    pub email: EmailSettings,
    /// The link booking messages carry to the reservation: the municipal
    /// frontend's page, with `{id}` where the reservation's id goes (e.g.
    /// `https://mydimos.example/appointments/{id}`). Unset, it is this
    /// API's own `/v1/reservations/{id}`.
    pub reservation_link: Option<String>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            worker: true,
            poll_interval_ms: 1_000,
            batch_size: 20,
            lease_secs: 120,
            max_attempts: 10,
            backoff_base_ms: 5_000,
            backoff_cap_ms: 3_600_000,
            sms: SmsSettings::default(),
            email: EmailSettings::default(),
            reservation_link: None,
        }
    }
}

impl NotifySettings {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransportKind {
    /// Delivers nothing; the message shows in `GET /dev/outbox`.
    Development,
    /// A JSON POST to an SMS gateway.
    Http,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SmsSettings {
    pub transport: SmsTransportKind,
    /// The gateway's endpoint, for the `http` transport.
    pub gateway_url: Option<String>,
    /// Sent as `Authorization: Bearer …`; never written back out.
    #[serde(skip_serializing)]
    pub gateway_token: Option<SecretString>,
    pub timeout_ms: u64,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            transport: SmsTransportKind::Development,
            gateway_url: None,
            gateway_token: None,
            timeout_ms: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransportKind {
    /// Delivers nothing; the message shows in `GET /dev/outbox`.
    Development,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text; only for a relay on the same machine or a test sink.
    None,
    /// Plain connection upgraded with STARTTLS, which is required.
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailSettings {
    pub transport: EmailTransportKind,
    pub smtp: SmtpSettings,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            transport: EmailTransportKind::Development,
            smtp: SmtpSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    /// Never written back out.
    #[serde(skip_serializing)]
    pub password: Option<SecretString>,
    /// The sender, e.g. `Citizen API <no-reply@example.gov.gr>`.
    pub from: String,
    pub timeout_ms: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: "localhost".into(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            from: "citizen-api <no-reply@citizen-api.example>".into(),
            timeout_ms: 30_000,
        }
    }
}
