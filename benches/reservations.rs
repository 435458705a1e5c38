//! Reservations and slot pages through the API against the same SQL run
//! by `pgbench`, on PostgreSQL, at the same concurrency. The SQL is not
//! written out here: it is recorded from one request of each kind, as
//! diesel sends it, and replayed with the values that must differ from one
//! booking to the next made into pgbench variables. See docs/benchmarks.md.
//!
//! `cargo bench --bench reservations`; `BENCH_DATABASE_URL` names a server
//! on which a fresh database is created and dropped again.

// Shared with photo_fetch, whose nginx baseline this bench has no use for.
#[allow(dead_code)]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{Duration as Span, NaiveDateTime, SubsecRound, Utc};
use citizen_api::db::Db;
use citizen_api::dev::fixtures;
use citizen_api::domain::ids::SlotId;
use diesel::connection::SimpleConnection;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use reqwest::{Client, RequestBuilder, StatusCode};
use support::{Baseline, Bench, Load, MakeRequest, Rate, number, pgbench_script};

/// Seats per slot: the most a schedule allows.
const CAPACITY: i32 = 100;

fn main() -> Result<()> {
    support::on_fresh_database("reservations", run)
}

fn run(url: String) -> Result<()> {
    let (data, recording_data) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let (b, _) = Bench::start(url, 16, data.path(), recording_data.path())?;
    let (catalogue, slots, tokens) = arrange(&b.db)?;
    let citizens = tokens.len() - 1;
    // The request, sent to the recording instance, must succeed; answers
    // the statements it sent.
    let record = |request| Ok::<_, anyhow::Error>(b.record(request, None)?.0);
    // `BENCH_METRICS`: a comma-separated subset of `reservations,slots`.
    let metrics = std::env::var("BENCH_METRICS").unwrap_or("reservations,slots".into());
    let wanted = |m| metrics.split(',').any(|w| w.trim() == m);
    let (client, mut table) = (support::client(), Vec::new());
    if wanted("reservations") {
        // The last citizen and slot are the recording's. A second after the
        // sign-in, so that the session is touched, as the citizens' sessions
        // are while they book.
        let (token, slot) = (&tokens[citizens], &slots[0][slots[0].len() - 1]);
        std::thread::sleep(Duration::from_millis(1100));
        let statements = record(booking(&client, b.recording(), token, slot))?;
        let baselines = booking_baselines(&b, &statements, token, slot)?;
        // Service-major, so a citizen's next booking comes after its session
        // went quiet, as a real one does.
        let (api, next) = (b.api.clone(), AtomicUsize::new(0));
        let book: Arc<MakeRequest> = Arc::new(move |client| {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let (slots, citizen) = (slots.get(n / citizens)?, n % citizens);
            let slot = &slots[citizen % (slots.len() - 1)];
            Some(booking(client, &api, &tokens[citizen], slot))
        });
        let load = Load::api(StatusCode::CREATED, book);
        let measured = support::measure(&b, "reservations", &load, &baselines, &|| Ok(()))?;
        table.extend(measured);
    }
    if wanted("slots") {
        let today = Utc::now().with_timezone(&chrono_tz::Europe::Athens);
        let (from, to) = (today.date_naive(), today.date_naive() + Span::days(14));
        let service = &catalogue.services[0];
        let path = format!("/v1/services/{service}/slots?from={from}&to={to}");
        // Twice: the first fills the listing-window cache.
        record(client.get(format!("{}{path}", b.recording())))?;
        let page = record(client.get(format!("{}{path}", b.recording())))?;
        let script = pgbench_script(&page, &[])?;
        let baselines = [("slot listing / its SQL", Rate::Pgbench(script), Some(0.5))];
        let url = format!("{}{path}", b.api);
        let list: Arc<MakeRequest> = Arc::new(move |client| Some(client.get(&url)));
        let load = Load::api(StatusCode::OK, list);
        let measured = support::measure(&b, "slot listing", &load, &baselines, &|| Ok(()))?;
        table.extend(measured);
    }
    check_consistency(&b.db)?;
    support::report(&b, &table);
    Ok(())
}

/// A catalogue of `BENCH_SERVICES` services with hourly slots from the
/// next hour on, and one more citizen than `BENCH_CITIZENS`, signed in;
/// answers the catalogue, each service's slot ids and the tokens.
fn arrange(db: &Db) -> Result<(fixtures::Catalogue, Vec<Vec<SlotId>>, Vec<String>)> {
    let services = number("BENCH_SERVICES", 7);
    let slots = number("BENCH_SLOTS_PER_SERVICE", 1000);
    let citizens = number("BENCH_CITIZENS", 12000);
    let arranged = db.run_blocking(|conn| {
        let catalogue = fixtures::catalogue(conn, "Bench", services)?;
        let now = Utc::now().trunc_subsecs(0);
        let hours = 1..=slots;
        let starts: Vec<_> = hours.map(|h| now + Span::hours(h)).collect();
        let slots = (catalogue.services.iter())
            .map(|service| fixtures::slots(conn, service, &starts, CAPACITY))
            .collect::<QueryResult<Vec<_>>>()?;
        let tokens = (0..=citizens)
            .map(|n| fixtures::citizen_session(conn, &fixtures::afm(1000 + n), now))
            .collect::<QueryResult<_>>()?;
        // For the baseline, which picks a random slot or session by number.
        conn.batch_execute(
            "CREATE TABLE bench_slot_pick AS \
               SELECT row_number() OVER (ORDER BY id)::int AS n, id AS v FROM slots; \
             ALTER TABLE bench_slot_pick ADD PRIMARY KEY (n); \
             CREATE TABLE bench_session_pick AS \
               SELECT row_number() OVER (ORDER BY id)::int AS n, token_hash AS v FROM sessions; \
             ALTER TABLE bench_session_pick ADD PRIMARY KEY (n);",
        )?;
        Ok((catalogue, slots, tokens))
    })?;
    println!(
        "arranged {services} services × {slots} slots × {CAPACITY} seats; {citizens} citizens"
    );
    Ok(arranged)
}

/// Makes the recorded booking of `slot` by the citizen with `token` into
/// scripts in which every booking takes a random slot, looks a random
/// session up, and writes rows of its own: the booking's transaction, and
/// all of the request's SQL.
fn booking_baselines(
    b: &Bench,
    sent: &[String],
    token: &str,
    slot: &SlotId,
) -> Result<[Baseline; 2]> {
    // What the recorded booking wrote: the only reservation and message yet.
    let (written, starts, ends) = b.db.run_blocking(|conn| {
        let columns = sql::<(Text, Timestamp, Timestamp)>(
            "concat_ws(' ', s.id, m.id, r.id, r.upcoming_key, r.citizen_afm, r.service_id, \
               (SELECT count(*) FROM bench_slot_pick), (SELECT count(*) FROM bench_session_pick)), \
             r.starts_at, r.ends_at FROM reservations r \
             JOIN sessions s ON s.afm = r.citizen_afm, outbox_messages m",
        );
        type Written = (String, NaiveDateTime, NaiveDateTime);
        Ok(diesel::select(columns).get_result::<Written>(conn)?)
    })?;
    let ids: Vec<String> = written.split(' ').map(String::from).collect();
    let [session, message, id, key, afm, service, slots, sessions] =
        ids.try_into().expect("the eight words selected");
    let varying = [
        (citizen_api::auth::sha256_hex(token), "session"),
        (session, ":session_id"),
        (slot.to_string(), "slot"),
        (service, ":slot_service_id"),
        (format!("{starts:?}"), ":slot_starts_at"),
        (format!("{ends:?}"), ":slot_ends_at"),
        (id, ":id"),
        (key, ":id"),
        (message, ":id"),
        (afm, ":afm"),
    ];
    let (statements, vars) = pgbench_script(sent, &varying)?;
    let picks = [
        format!("\\set slot random(1, {slots})"),
        format!("\\set session random(1, {sessions})"),
        "\\set id random(1, 9000000000000000000)".into(),
        "\\set afm random(100000000, 999999999)".into(),
    ];
    let begin = statements.iter().position(|s| s.starts_with("BEGIN"));
    let begin = begin.context("the booking sent no BEGIN")?;
    let transaction = ([&picks[..], &statements[begin..]].concat(), vars.clone());
    let all = ([&picks[..], &statements].concat(), vars);
    Ok([
        (
            "reservations / booking tx",
            Rate::Pgbench(transaction),
            Some(0.75),
        ),
        ("reservations / all its SQL", Rate::Pgbench(all), None),
    ])
}

fn booking(client: &Client, api: &str, token: &str, slot: &SlotId) -> RequestBuilder {
    let body = serde_json::json!({
        "slot_id": slot, "full_name": "Μαρία Παπαδοπούλου", "email": "maria@example.gr",
        "phone": "6912345678", "special_requirements": "Πρόσβαση με αμαξίδιο"
    });
    let request = client.post(format!("{api}/v1/reservations"));
    request.bearer_auth(token).json(&body)
}

/// Seats taken equal reservations made, and no slot filled up: otherwise a
/// baseline's seat UPDATE may have found nothing and done less work.
fn check_consistency(db: &Db) -> Result<()> {
    let (seats, made, full) = db.run_blocking(|conn| {
        let counts = sql::<(BigInt, BigInt, BigInt)>(
            "(SELECT coalesce(sum(booked), 0)::bigint FROM slots), \
             (SELECT count(*) FROM reservations), \
             (SELECT count(*) FROM slots WHERE booked >= capacity)",
        );
        Ok(diesel::select(counts).get_result::<(i64, i64, i64)>(conn)?)
    })?;
    let verdict = match seats == made && full == 0 {
        true => " (consistent)",
        false => "  INCONSISTENT: a baseline did less work than a booking",
    };
    println!("check: {seats} seats taken, {made} reservations, {full} full slots{verdict}");
    Ok(())
}
