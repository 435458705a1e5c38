//! Notifications through a transactional outbox. A change that must tell
//! someone calls [`enqueue`] inside its own transaction, so the message
//! exists if and only if the change does; the [`worker`] delivers it
//! afterwards, at least once, through the transport configured for its
//! channel. The message id travels with every delivery so that receivers
//! can drop duplicates. Texts are sealed at rest ([`sealing`]), and a
//! message that carries a short-lived secret expires with it.

pub mod gauges;
pub mod sealing;
pub mod store;
mod template;
pub mod transport;
pub mod worker;

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use serde::{Deserialize, Serialize};

pub use sealing::{KEY_SOURCE, KeyRingError, use_key_ring};
pub use template::{Cancelled, Confirmation, Rendered, Template};
pub use transport::{OutboundMessage, Transport, TransportError, Transports};

use crate::db::DbConn;
use crate::domain::ids::MessageId;
use crate::http::Lang;
use sealing::Field;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    pub fn parse(stored: &str) -> Option<Channel> {
        match stored {
            "sms" => Some(Channel::Sms),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}

/// A file sent with an e-mail (e.g. the `.ics` of an appointment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A message to send: to whom, over which channel, in which language, what.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub channel: Channel,
    /// A mobile number (SMS) or an e-mail address.
    pub to: String,
    pub language: Lang,
    pub template: Template,
    /// E-mail only; an SMS cannot carry files.
    pub attachments: Vec<Attachment>,
}

/// Writes a message to the outbox. Call it inside the transaction of the
/// change that causes the message, so that both commit or neither does.
/// The text is rendered now, so what is stored (sealed) is exactly what is
/// sent.
pub fn enqueue(
    conn: &mut DbConn,
    message: &NewMessage,
    now: DateTime<Utc>,
) -> QueryResult<MessageId> {
    queue(conn, message, now, None)
}

/// [`enqueue`] for a message worth nothing after `expires_at`, such as a
/// one-time code: not delivered by then, it is dropped (`expired`), never
/// sent late.
pub fn enqueue_expiring(
    conn: &mut DbConn,
    message: &NewMessage,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<MessageId> {
    queue(conn, message, now, Some(expires_at))
}

fn queue(
    conn: &mut DbConn,
    message: &NewMessage,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> QueryResult<MessageId> {
    let rendered = message
        .template
        .render(message.channel, message.language)
        .map_err(bug)?;
    let id = MessageId::generate();
    let key = id.to_string();
    let sealed = store::SealedText {
        subject: sealing::seal(Field::Subject, &key, &rendered.subject).map_err(bug)?,
        body: sealing::seal(Field::Body, &key, &rendered.body).map_err(bug)?,
    };
    store::insert(conn, &id, message, &sealed, now, expires_at)?;
    Ok(id)
}

/// A template that fails to render, or no key ring to seal with, is a bug,
/// not a condition of the moment (templates are typed and unit-tested; the
/// key ring is set at start): failing the caller's transaction beats
/// queueing a broken or unsealed text.
fn bug(error: impl std::error::Error + Send + Sync + 'static) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(Box::new(error))
}
