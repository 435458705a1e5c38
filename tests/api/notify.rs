//! The outbox end to end: messages enqueued in the database are delivered by
//! the worker through the development transport, a real SMTP sink and a
//! real SMS gateway, with retries, giving up, and several instances. Each
//! test delivers by calling the worker's round itself (`deliver_due`), and
//! moves the app's clock past backoffs, so nothing waits on timing.

use std::collections::HashMap;

use citizen_api::Settings;
use citizen_api::config::Profile;
use citizen_api::config::{EmailTransportKind, SmsTransportKind, SmtpTls};
use citizen_api::db::schema::outbox_messages;
use citizen_api::http::Lang;
use citizen_api::notify::worker::DeliveryRound;
use citizen_api::notify::{self, Attachment, Channel, NewMessage, Template};
use diesel::prelude::*;
use serde::Deserialize;

use crate::helpers::{TestApp, assert_problem, scrape, spawn_app, spawn_app_with, value_of};
use crate::support::sms_gateway::SmsGateway;
use crate::support::smtp_sink::SmtpSink;

const TOKEN: &str = "gateway-test-token";

#[derive(Debug, Deserialize)]
struct DevOutbox {
    items: Vec<DevOutboxItem>,
}

#[derive(Debug, Deserialize)]
struct DevOutboxItem {
    id: String,
    channel: String,
    to: String,
    subject: String,
    body: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

fn otp(channel: Channel, to: &str, language: Lang) -> NewMessage {
    NewMessage {
        channel,
        to: to.to_owned(),
        language,
        template: Template::Otp {
            code: "482913".into(),
            minutes: 5,
        },
        attachments: Vec::new(),
    }
}

/// Queues a message in a transaction of its own, as `enqueue` requires:
/// outside one the worker could claim the message before its attachments
/// are written (seen once in CI).
async fn enqueue(app: &TestApp, message: NewMessage) -> String {
    app.with_db(move |conn| {
        Ok(citizen_api::db::write_transaction(conn, |tx| {
            notify::enqueue(tx, &message, chrono::Utc::now())
        })?)
    })
    .await
    .to_string()
}

/// The longest backoff before a retry; tests move the clock past it.
const BACKOFF_CAP: chrono::Duration = chrono::Duration::seconds(1);

fn sms_through(gateway: &SmsGateway, settings: &mut Settings) {
    settings.notify.backoff_base_ms = 100;
    settings.notify.backoff_cap_ms = BACKOFF_CAP.num_milliseconds() as u64;
    settings.notify.sms.transport = SmsTransportKind::Http;
    settings.notify.sms.gateway_url = Some(gateway.url.clone());
    settings.notify.sms.gateway_token = Some(TOKEN.into());
}

#[derive(Debug, PartialEq)]
struct Outcome {
    status: String,
    attempts: i32,
    transport: Option<String>,
}

async fn outcome(app: &TestApp, id: &str) -> Outcome {
    let id = id.to_owned();
    app.with_db(move |conn| {
        let (status, attempts, transport) = outbox_messages::table
            .find(id)
            .select((
                outbox_messages::status,
                outbox_messages::attempts,
                outbox_messages::transport,
            ))
            .first(conn)?;
        Ok(Outcome {
            status,
            attempts,
            transport,
        })
    })
    .await
}

/// Rounds of the worker, the clock moved past any backoff before each,
/// until one claims nothing; answers what they did together.
async fn deliver_until_idle(app: &TestApp) -> DeliveryRound {
    let mut total = DeliveryRound::default();
    loop {
        let round = app.deliver_due().await;
        if round.claimed == 0 {
            return total;
        }
        total.claimed += round.claimed;
        total.sent += round.sent;
        total.retrying += round.retrying;
        total.given_up += round.given_up;
        total.expired += round.expired;
        total.unrecorded += round.unrecorded;
        app.clock.advance(BACKOFF_CAP);
    }
}

#[tokio::test]
async fn the_development_transport_shows_messages_in_the_dev_outbox() {
    let app = spawn_app().await;
    let to = "+306912345678";
    let older = enqueue(&app, otp(Channel::Sms, to, Lang::En)).await;
    let id = enqueue(&app, otp(Channel::Sms, to, Lang::El)).await;
    enqueue(&app, otp(Channel::Email, "other@example.org", Lang::El)).await;
    let nothing_yet: DevOutbox = app.get_json("/dev/outbox").await;
    assert!(nothing_yet.items.is_empty(), "{nothing_yet:?}");

    let round = app.deliver_due().await;
    assert_eq!((round.claimed, round.sent), (3, 3), "{round:?}");
    let outbox: DevOutbox = app
        .get_json(&format!("/dev/outbox?to={}", to.replace('+', "%2B")))
        .await;
    assert_eq!(outbox.items.len(), 2, "{outbox:?}");
    let newest = &outbox.items[0];
    assert_eq!(
        (newest.id.as_str(), outbox.items[1].id.as_str()),
        (id.as_str(), older.as_str())
    );
    assert_eq!((newest.channel.as_str(), newest.to.as_str()), ("sms", to));
    assert_eq!(newest.subject, "");
    assert_eq!(
        newest.body,
        "Ο κωδικός μίας χρήσης σας είναι 482913. Ισχύει για 5 λεπτά. Μην τον δώσετε σε κανέναν."
    );
    assert!(newest.created_at <= chrono::Utc::now());
    assert_eq!(
        outcome(&app, &id).await,
        Outcome {
            status: "sent".into(),
            attempts: 1,
            transport: Some("development".into())
        }
    );

    // The e-mail to the other address was queued last.
    let everyone: DevOutbox = app.get_json("/dev/outbox").await;
    assert_eq!(everyone.items.len(), 3, "{everyone:?}");
    assert_eq!(everyone.items[0].channel, "email");
}

#[tokio::test]
async fn the_dev_outbox_answers_other_methods_with_405_and_is_not_documented() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/dev/outbox"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET");
    assert_problem(response, 405, "method_not_allowed").await;
    assert!(!citizen_api::app::document_json().contains("/dev/"));
}

#[tokio::test]
async fn production_has_no_dev_outbox() {
    let gateway = SmsGateway::start(0).await;
    let app = spawn_app_with(|s| {
        sms_through(&gateway, s);
        s.profile = Profile::Production;
        s.demo_data = false;
        s.database.allow_sqlite_in_production = true;
        s.notify.email.transport = EmailTransportKind::Smtp;
    })
    .await;
    assert_problem(app.get("/dev/outbox").await, 404, "not_found").await;
}

#[tokio::test]
async fn e_mail_goes_out_over_smtp_with_its_id_and_attachment() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|s| {
        s.notify.email.transport = EmailTransportKind::Smtp;
        s.notify.email.smtp.host = "127.0.0.1".into();
        s.notify.email.smtp.port = sink.port;
        s.notify.email.smtp.tls = SmtpTls::None;
        s.notify.email.smtp.from = "Citizen API <no-reply@citizen-api.example>".into();
    })
    .await;
    let mut message = otp(Channel::Email, "maria@example.org", Lang::En);
    message.attachments.push(Attachment {
        filename: "appointment.ics".into(),
        content_type: "text/calendar; charset=utf-8".into(),
        content: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
    });
    let id = enqueue(&app, message).await;

    assert_eq!(app.deliver_due().await.sent, 1);
    let raw = sink.received().remove(0);
    assert!(raw.contains("Subject: Your one-time code"), "{raw}");
    assert!(raw.contains("To: maria@example.org"), "{raw}");
    assert!(raw.contains("Your one-time code is 482913."), "{raw}");
    assert!(
        raw.contains(&format!("X-Citizen-Api-Message-Id: {id}")),
        "{raw}"
    );
    assert!(
        raw.contains(&format!("Message-ID: <{id}@citizen-api.example>")),
        "{raw}"
    );
    assert!(raw.contains("multipart/mixed"), "{raw}");
    assert!(
        raw.contains("Content-Disposition: attachment; filename=\"appointment.ics\""),
        "{raw}"
    );
    assert!(raw.contains("text/calendar"), "{raw}");
    let outcome = outcome(&app, &id).await;
    assert_eq!(
        (outcome.status.as_str(), outcome.transport.as_deref()),
        ("sent", Some("smtp"))
    );
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn a_failing_gateway_is_retried_with_the_same_message_id_until_it_answers() {
    let gateway = SmsGateway::start(2).await;
    let app = spawn_app_with(|s| sms_through(&gateway, s)).await;
    let id = enqueue(&app, otp(Channel::Sms, "+306912345678", Lang::El)).await;

    let rounds = deliver_until_idle(&app).await;
    assert_eq!((rounds.retrying, rounds.sent), (2, 1), "{rounds:?}");
    assert_eq!(
        outcome(&app, &id).await,
        Outcome {
            status: "sent".into(),
            attempts: 3,
            transport: Some("sms_gateway".into())
        }
    );
    let calls = gateway.calls();
    assert_eq!(calls.len(), 3);
    for call in &calls {
        assert_eq!(call.message_id, id);
        assert_eq!(call.to, "+306912345678");
        assert!(call.text.contains("482913"));
        assert_eq!(call.authorization, format!("Bearer {TOKEN}"));
    }
}

#[tokio::test]
async fn a_gateway_that_always_fails_kills_the_message_after_max_attempts() {
    let gateway = SmsGateway::start(usize::MAX).await;
    let app = spawn_app_with(|s| {
        sms_through(&gateway, s);
        s.notify.max_attempts = 4;
    })
    .await;
    let id = enqueue(&app, otp(Channel::Sms, "+306912345678", Lang::El)).await;

    let rounds = deliver_until_idle(&app).await;
    assert_eq!((rounds.retrying, rounds.given_up), (3, 1), "{rounds:?}");
    let outcome = outcome(&app, &id).await;
    assert_eq!((outcome.status.as_str(), outcome.attempts), ("dead", 4));
    // Dead means no more tries.
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(app.deliver_due().await.claimed, 0);
    assert_eq!(gateway.calls().len(), 4);
    let id_for_error = id.clone();
    type Left = (Option<String>, Option<Vec<u8>>, Option<Vec<u8>>);
    let (last_error, subject, body): Left = app
        .with_db(move |conn| {
            Ok(outbox_messages::table
                .find(id_for_error)
                .select((
                    outbox_messages::last_error,
                    outbox_messages::subject,
                    outbox_messages::body,
                ))
                .first(conn)?)
        })
        .await;
    // A message that will never be sent keeps no text.
    assert_eq!((subject, body), (None, None));
    let last_error = last_error.unwrap();
    assert!(last_error.contains("500"), "{last_error}");
    assert!(!last_error.contains(TOKEN), "{last_error}");

    // What an operator alerts on: attempts failing, and one given up.
    let metrics = scrape(&app).await;
    let attempts = |outcome: &str| {
        value_of(
            &metrics,
            &format!(r#"citizen_api_outbox_deliveries_total{{channel="sms",outcome="{outcome}"}}"#),
        )
    };
    assert_eq!(attempts("failed"), Some(3), "{metrics}");
    assert_eq!(attempts("given_up"), Some(1), "{metrics}");
    assert_eq!(attempts("sent"), None, "{metrics}");
    let dead = r#"citizen_api_outbox_messages{status="dead"}"#;
    assert_eq!(value_of(&metrics, dead), Some(1), "{metrics}");
}

#[tokio::test]
async fn two_instances_deliver_each_message_exactly_once() {
    let gateway = SmsGateway::start(0).await;
    let small_batches = |s: &mut Settings| {
        sms_through(&gateway, s);
        s.notify.batch_size = 3;
    };
    let first = spawn_app_with(small_batches).await;
    let shared = first.database_url.clone();
    let second = spawn_app_with(|s| {
        small_batches(s);
        s.database.url = Some(shared);
    })
    .await;

    const MESSAGES: usize = 30;
    let ids: Vec<String> = first
        .with_db(|conn| {
            let mut ids = Vec::new();
            for n in 0..MESSAGES {
                let message = otp(Channel::Sms, &format!("+3069000000{n:02}"), Lang::El);
                ids.push(notify::enqueue(conn, &message, chrono::Utc::now())?.to_string());
            }
            Ok(ids)
        })
        .await;
    // Both instances claim and deliver at once, round after round.
    let (by_first, by_second) =
        futures_util::future::join(deliver_until_idle(&first), deliver_until_idle(&second)).await;
    assert_eq!(
        by_first.sent + by_second.sent,
        MESSAGES,
        "{by_first:?} {by_second:?}"
    );
    for id in &ids {
        assert_eq!(outcome(&second, id).await.status, "sent");
    }

    let mut deliveries: HashMap<String, usize> = HashMap::new();
    for call in gateway.calls() {
        *deliveries.entry(call.message_id).or_default() += 1;
    }
    assert_eq!(deliveries.len(), MESSAGES);
    let twice: Vec<_> = deliveries.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
}

/// A sealed text is bound to its message: copied onto another row (as by
/// someone with write access to the table) it does not open, and that
/// message is given up rather than sent with another's text.
#[tokio::test]
async fn a_sealed_text_moved_to_another_message_is_given_up_not_sent() {
    let gateway = SmsGateway::start(0).await;
    let app = spawn_app_with(|s| sms_through(&gateway, s)).await;
    let original = enqueue(&app, otp(Channel::Sms, "+306912345678", Lang::El)).await;
    let target = enqueue(&app, otp(Channel::Sms, "+306987654321", Lang::El)).await;
    let (from, to) = (original.clone(), target.clone());
    app.with_db(move |conn| {
        let body: Option<Vec<u8>> = outbox_messages::table
            .find(from)
            .select(outbox_messages::body)
            .first(conn)?;
        Ok(diesel::update(outbox_messages::table.find(to))
            .set(outbox_messages::body.eq(body))
            .execute(conn)?)
    })
    .await;

    let round = app.deliver_due().await;
    assert_eq!((round.sent, round.given_up), (1, 1), "{round:?}");
    let calls = gateway.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].message_id, original);
    assert_eq!(outcome(&app, &target).await.status, "dead");
}

/// A retention pass `days` from now; answers the messages it purged.
async fn messages_purged_after(app: &TestApp, days: i64) -> usize {
    let at = chrono::Utc::now() + chrono::Duration::days(days);
    let idle = citizen_api::Settings::default().auth.session_idle();
    app.with_db(move |conn| Ok(citizen_api::retention::run(conn, at, idle)?))
        .await
        .outbox_messages_purged
}

#[tokio::test]
async fn an_abandoned_message_is_purged_thirty_days_after_it_was_queued() {
    let gateway = SmsGateway::start(usize::MAX).await;
    let app = spawn_app_with(|s| {
        sms_through(&gateway, s);
        s.notify.max_attempts = 1;
    })
    .await;
    let id = enqueue(&app, otp(Channel::Sms, "+306912345678", Lang::El)).await;
    assert_eq!(app.deliver_due().await.given_up, 1);
    assert_eq!(outcome(&app, &id).await.status, "dead");

    assert_eq!(messages_purged_after(&app, 29).await, 0);
    assert_eq!(messages_purged_after(&app, 31).await, 1);
    let left: i64 = app
        .with_db(|conn| Ok(outbox_messages::table.count().get_result(conn)?))
        .await;
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_message_waiting_for_its_next_attempt_is_never_purged() {
    let gateway = SmsGateway::start(usize::MAX).await;
    let app = spawn_app_with(|s| {
        sms_through(&gateway, s);
        // The first attempt fails and the next is an hour away.
        s.notify.backoff_base_ms = 3_600_000;
        s.notify.backoff_cap_ms = 3_600_000;
    })
    .await;
    let id = enqueue(&app, otp(Channel::Sms, "+306912345678", Lang::El)).await;
    assert_eq!(app.deliver_due().await.retrying, 1);
    assert_eq!(gateway.calls().len(), 1);
    let waiting = outcome(&app, &id).await;
    assert_eq!((waiting.status.as_str(), waiting.attempts), ("pending", 1));

    assert_eq!(messages_purged_after(&app, 365).await, 0);
    assert_eq!(outcome(&app, &id).await, waiting);
}
