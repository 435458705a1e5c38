//! The ways a message leaves the service: the development transport
//! (nowhere), SMTP for e-mail, and an HTTP gateway for SMS. One is chosen
//! per channel by configuration.

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment as MailAttachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::Attachment;
use super::Channel;
use crate::config::{EmailTransportKind, NotifySettings, SmsTransportKind, SmtpSettings, SmtpTls};

/// A claimed message, as a transport sees it.
#[derive(Debug, Clone)]
pub struct OutboundMessage {
    /// The outbox id; receivers drop a second delivery with the same id.
    pub id: String,
    pub channel: Channel,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub attachments: Vec<Attachment>,
}

/// Why a delivery failed, in words fit for the outbox row and the logs:
/// never a password, a token or the message body.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

pub trait Transport {
    /// The name recorded in `outbox_messages.transport`.
    fn name(&self) -> &'static str;

    /// Delivers once; an error means "try again later". `Send`, so the
    /// worker can run on any runtime thread.
    fn send(
        &self,
        message: &OutboundMessage,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;
}

/// Delivers nothing outside the service: the message is marked sent and
/// shows in `GET /dev/outbox`, which is where developers read their OTPs.
pub struct Development;

pub const DEVELOPMENT: &str = "development";

impl Transport for Development {
    fn name(&self) -> &'static str {
        DEVELOPMENT
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), TransportError> {
        tracing::info!(
            message_id = %message.id,
            channel = message.channel.as_str(),
            "development transport: kept in the dev outbox"
        );
        Ok(())
    }
}

/// E-mail over SMTP (lettre, rustls).
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// The header receivers can use to drop duplicates, besides `Message-ID`.
const MESSAGE_ID_HEADER: &str = "X-Citizen-Api-Message-Id";

impl Smtp {
    pub fn new(settings: &SmtpSettings) -> anyhow::Result<Smtp> {
        let from: Mailbox = settings.from.parse().map_err(|e| {
            anyhow::anyhow!("invalid setting notify.email.smtp.from (CITIZEN_API_NOTIFY__EMAIL__SMTP__FROM): {e}")
        })?;
        let tls = || {
            TlsParameters::new(settings.host.clone()).map_err(|e| {
                anyhow::anyhow!("cannot set up TLS for SMTP host {}: {e}", settings.host)
            })
        };
        let tls = match settings.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls()?),
            SmtpTls::Tls => Tls::Wrapper(tls()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(Duration::from_millis(settings.timeout_ms)));
        if let (Some(username), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(
                username.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(Smtp {
            transport: builder.build(),
            from,
        })
    }

    fn build(&self, message: &OutboundMessage) -> Result<lettre::Message, TransportError> {
        let invalid =
            |e: &dyn std::fmt::Display| TransportError(format!("cannot build the e-mail: {e}"));
        let to: Mailbox = message.to.parse().map_err(|e| invalid(&e))?;
        let header =
            HeaderName::new_from_ascii(MESSAGE_ID_HEADER.to_owned()).expect("a valid header name");
        let builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(format!(
                "<{}@{}>",
                message.id,
                self.from.email.domain()
            )))
            .raw_header(HeaderValue::new(header, message.id.clone()));
        let text = SinglePart::plain(message.body.clone());
        let result = if message.attachments.is_empty() {
            builder.singlepart(text)
        } else {
            let mut mixed = MultiPart::mixed().singlepart(text);
            for attachment in &message.attachments {
                let content_type =
                    ContentType::parse(&attachment.content_type).map_err(|e| invalid(&e))?;
                mixed = mixed.singlepart(
                    MailAttachment::new(attachment.filename.clone())
                        .body(attachment.content.clone(), content_type),
                );
            }
            builder.multipart(mixed)
        };
        result.map_err(|e| invalid(&e))
    }
}

impl Transport for Smtp {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), TransportError> {
        let email = self.build(message)?;
        self.transport
            .send(email)
            .await
            .map(drop)
            .map_err(|e| TransportError(format!("SMTP: {e}")))
    }
}

/// SMS through an HTTP gateway: `POST {"message_id","to","text"}` with a
/// bearer token; any 2xx is delivered, anything else is retried.
pub struct SmsGateway {
    client: reqwest::Client,
    url: String,
    token: SecretString,
}

#[derive(Serialize)]
struct GatewayRequest<'a> {
    message_id: &'a str,
    to: &'a str,
    text: &'a str,
}

impl SmsGateway {
    pub fn new(url: String, token: SecretString, timeout: Duration) -> anyhow::Result<SmsGateway> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| anyhow::anyhow!("cannot set up the SMS gateway client: {e}"))?;
        Ok(SmsGateway { client, url, token })
    }
}

impl Transport for SmsGateway {
    fn name(&self) -> &'static str {
        "sms_gateway"
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), TransportError> {
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(self.token.expose_secret())
            .json(&GatewayRequest {
                message_id: &message.id,
                to: &message.to,
                text: &message.body,
            })
            .send()
            .await
            // Without the URL, which may carry credentials of its own.
            .map_err(|e| TransportError(format!("SMS gateway: {}", e.without_url())))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(TransportError(format!("SMS gateway answered {status}")))
        }
    }
}

/// One of the transports, so the worker can hold one per channel without
/// boxing async trait objects.
pub enum AnyTransport {
    Development(Development),
    Smtp(Smtp),
    SmsGateway(SmsGateway),
}

impl Transport for AnyTransport {
    fn name(&self) -> &'static str {
        match self {
            AnyTransport::Development(t) => t.name(),
            AnyTransport::Smtp(t) => t.name(),
            AnyTransport::SmsGateway(t) => t.name(),
        }
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), TransportError> {
        match self {
            AnyTransport::Development(t) => t.send(message).await,
            AnyTransport::Smtp(t) => t.send(message).await,
            AnyTransport::SmsGateway(t) => t.send(message).await,
        }
    }
}

/// The transport of each channel, as configured.
pub struct Transports {
    pub sms: AnyTransport,
    pub email: AnyTransport,
}

impl Transports {
    pub fn from_settings(settings: &NotifySettings) -> anyhow::Result<Transports> {
        let sms = match settings.sms.transport {
            SmsTransportKind::Development => AnyTransport::Development(Development),
            SmsTransportKind::Http => {
                let (Some(url), Some(token)) =
                    (&settings.sms.gateway_url, &settings.sms.gateway_token)
                else {
                    anyhow::bail!(
                        "the SMS transport http needs CITIZEN_API_NOTIFY__SMS__GATEWAY_URL and \
                         CITIZEN_API_NOTIFY__SMS__GATEWAY_TOKEN"
                    );
                };
                AnyTransport::SmsGateway(SmsGateway::new(
                    url.clone(),
                    token.clone(),
                    Duration::from_millis(settings.sms.timeout_ms),
                )?)
            }
        };
        let email = match settings.email.transport {
            EmailTransportKind::Development => AnyTransport::Development(Development),
            EmailTransportKind::Smtp => AnyTransport::Smtp(Smtp::new(&settings.email.smtp)?),
        };
        Ok(Transports { sms, email })
    }

    pub fn for_channel(&self, channel: Channel) -> &AnyTransport {
        match channel {
            Channel::Sms => &self.sms,
            Channel::Email => &self.email,
        }
    }
}
