//! Reservations and slot pages through the API against the same SQL run
//! by `pgbench`, on PostgreSQL, at the same concurrency. The SQL is not
//! written out here: it is recorded from one request of each kind, as
//! diesel sends it, and replayed with the values that must differ from one
//! booking to the next made into pgbench variables. See docs/benchmarks.md.
//!
//! `cargo bench --bench reservations`; `BENCH_DATABASE_URL` names a server
//! on which a fresh database is created and dropped again.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{Duration as Span, NaiveDateTime, SubsecRound, Utc};
use citizen_api::clock::SystemClock;
use citizen_api::db::{Db, DbConn};
use citizen_api::dev::fixtures;
use citizen_api::domain::ids::{ServiceId, SlotId};
use citizen_api::{Application, Settings};
use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Seats per slot: the most a schedule allows.
const CAPACITY: i32 = 100;
/// Not a secret: 32 bytes that say what they are.
const BENCH_ENCRYPTION_KEYS: &str = "bench:YmVuY2gta2V5LW9mLWV4YWN0bHktMzItYnl0ZXMhISE=";
const RESERVATIONS_TARGET: f64 = 0.75;
const SLOTS_TARGET: f64 = 0.5;

struct Config {
    admin_url: String,
    seconds: u64,
    warmup: u64,
    rounds: u32,
    clients: usize,
    citizens: usize,
    services: usize,
    slots_per_service: i64,
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v}"))
    })
}

/// Which metrics to run: `BENCH_METRICS`, a comma-separated subset of
/// `reservations,slots`; both by default.
fn wanted(metric: &str) -> bool {
    std::env::var("BENCH_METRICS").map_or(true, |list| list.split(',').any(|m| m.trim() == metric))
}

fn main() -> anyhow::Result<()> {
    // `cargo test --benches` runs this binary without `--bench`: nothing to
    // check there, and no database to assume.
    if !std::env::args().any(|a| a == "--bench") {
        println!("reservations: a benchmark; run it with `cargo bench --bench reservations`");
        return Ok(());
    }
    let version = std::process::Command::new("pgbench")
        .arg("--version")
        .output();
    anyhow::ensure!(
        version.is_ok_and(|o| o.status.success()),
        "the baseline needs pgbench on the PATH; docs/benchmarks.md says where to get it"
    );
    let config = Config {
        admin_url: std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.into()),
        seconds: number("BENCH_SECONDS", 8),
        warmup: number("BENCH_WARMUP_SECONDS", 2),
        rounds: number("BENCH_ROUNDS", 5),
        clients: number("BENCH_CLIENTS", 16),
        citizens: number("BENCH_CITIZENS", 12000),
        services: number("BENCH_SERVICES", 7),
        slots_per_service: number("BENCH_SLOTS_PER_SERVICE", 1000),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Named, so a profile tells the load generator from the server's
        // blocking pool (tokio's default name for both).
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    citizen_api::db::prepare_libpq();
    // A database of its own, dropped again at the end.
    let mut admin = PgConnection::establish(&config.admin_url)?;
    let name = format!("citizen_bench_{}", uuid::Uuid::now_v7().simple());
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let base = config.admin_url.split('?').next().unwrap_or_default();
    let url = format!(
        "{}/{name}",
        base.rsplit_once('/').map_or(base, |(server, _)| server)
    );
    if let Err(error) = runtime.block_on(run(&config, &url)) {
        eprintln!("benchmark failed: {error:#}");
    }
    drop(runtime);
    admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))?;
    println!("dropped database {name}");
    // A benchmark reports; it does not gate.
    Ok(())
}

/// The application under test, in-process: `pool_size` connections, and
/// background passes that wake every `wake_secs` at most. Its data
/// directory lives as long as the answer's.
async fn start(
    url: &str,
    pool_size: usize,
    wake_secs: u64,
) -> anyhow::Result<(SocketAddr, Db, tempfile::TempDir)> {
    let data_dir = tempfile::tempdir()?;
    let mut settings = Settings {
        bind: "127.0.0.1:0".parse()?,
        data_dir: data_dir.path().to_owned(),
        demo_data: false,
        demo_slot_days: 0,
        ..Settings::default()
    };
    settings.database.url = Some(url.to_owned());
    // Both instances seal outbox texts under one key: the key ring is the
    // process's, and a second instance with a key of its own would not start.
    settings.secrets.encryption_keys = Some(BENCH_ENCRYPTION_KEYS.into());
    settings.database.pool_size = u32::try_from(pool_size)?;
    settings.http.workers = 2;
    settings.notify.poll_interval_ms = settings.notify.poll_interval_ms.max(wake_secs * 1000);
    settings.reminders.interval_secs = settings.reminders.interval_secs.max(wake_secs);
    settings.retention.interval_secs = settings.retention.interval_secs.max(wake_secs);
    let application = Application::build_with_clock(settings, Arc::new(SystemClock)).await?;
    let (address, db) = (application.address(), application.db());
    tokio::spawn(application.run_until_stopped());
    Ok((address, db, data_dir))
}

/// What every metric needs.
struct Bench<'a> {
    config: &'a Config,
    url: &'a str,
    address: SocketAddr,
    db: Db,
}

/// One metric: the API's and the baseline's rate in each round.
#[derive(Default)]
struct Row {
    metric: &'static str,
    api: Vec<f64>,
    baseline: Vec<f64>,
    target: Option<f64>,
}

async fn run(config: &Config, url: &str) -> anyhow::Result<()> {
    let (address, db, _data) = start(url, config.clients * 2, 0).await?;
    // A second instance on the same database, with one connection and its
    // background passes asleep, records what one request sends.
    let (recording, recording_db, _recording_data) = start(url, 1, 86_400).await?;
    println!("{}", machine(&db).await);
    println!(
        "{} clients, {} s measured after {} s warm-up, baseline: pgbench -M prepared",
        config.clients, config.seconds, config.warmup
    );

    let (services, slots, tokens) = arrange(&db, config).await?;
    println!(
        "arranged {} services × {} slots × {CAPACITY} seats, {} citizens",
        services.len(),
        config.slots_per_service,
        tokens.len() - 1
    );
    let recorder = Recorder::default();
    let hook = recorder.clone();
    with_db(&recording_db, move |conn| {
        conn.set_instrumentation(hook);
        Ok(())
    })
    .await?;
    let bench = Bench {
        config,
        url,
        address,
        db,
    };

    let mut rows = Vec::new();
    if wanted("reservations") {
        // The last citizen and slot are the recording's.
        let (token, slot) = (&tokens[tokens.len() - 1], &slots[0][slots[0].len() - 1]);
        let (script, vars) = recorded_booking(&bench, (recording, &recorder), token, slot).await?;
        // Service-major, so a citizen's next booking comes after its session
        // went quiet, as a real one does.
        let items: Vec<(String, SlotId)> = slots
            .iter()
            .flat_map(|slots| {
                tokens[..tokens.len() - 1]
                    .iter()
                    .enumerate()
                    .map(|(c, token)| (token.clone(), slots[c % (slots.len() - 1)].clone()))
            })
            .collect();
        let next = AtomicUsize::new(0);
        let book: MakeRequest = Arc::new(move || {
            let (token, slot) = items.get(next.fetch_add(1, Ordering::Relaxed))?;
            Some(booking_request(token, slot))
        });
        let transaction = transaction_of(&script)?;
        let target = Some(RESERVATIONS_TARGET);
        let baselines = [
            ("reservations / booking tx", &transaction, target),
            ("reservations / all its SQL", &script, None),
        ];
        let created = StatusCode::CREATED;
        rows.extend(metric(&bench, "reservations", created, &book, &vars, &baselines).await?);
    }
    if wanted("slots") {
        let zone = chrono_tz::Europe::Athens;
        let today = Utc::now().with_timezone(&zone).date_naive();
        let to = today + Span::days(14);
        let path = format!("/v1/services/{}/slots?from={today}&to={to}", services[0]);
        // Twice: the first fills the listing-window cache.
        send(recording, get(&path)).await?;
        let statements = recorder.around(send(recording, get(&path))).await?;
        let (script, vars) = pgbench_script(&statements, &[]);
        let list: MakeRequest = Arc::new(move || Some(get(&path)));
        let baselines = [("slot listing / its SQL", &script, Some(SLOTS_TARGET))];
        let ok = StatusCode::OK;
        rows.extend(metric(&bench, "slot listing", ok, &list, &vars, &baselines).await?);
    }
    check_consistency(&bench.db).await?;
    report(config.rounds, rows);
    Ok(())
}

/// A catalogue of `BENCH_SERVICES` services with hourly slots from the
/// next hour on, and one more citizen than `BENCH_CITIZENS`, signed in;
/// answers the service ids, each service's slot ids and the tokens.
async fn arrange(
    db: &Db,
    config: &Config,
) -> anyhow::Result<(Vec<ServiceId>, Vec<Vec<SlotId>>, Vec<String>)> {
    let (services, per_service, citizens) =
        (config.services, config.slots_per_service, config.citizens);
    with_db(db, move |conn| {
        let catalogue = fixtures::catalogue(conn, "Bench", services)?;
        let now = Utc::now().trunc_subsecs(0);
        let starts: Vec<_> = (1..=per_service).map(|h| now + Span::hours(h)).collect();
        let slots = (catalogue.services.iter())
            .map(|service| fixtures::slots(conn, service, &starts, CAPACITY))
            .collect::<QueryResult<Vec<_>>>()?;
        let tokens = (0..=u32::try_from(citizens)?)
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
        Ok((catalogue.services, slots, tokens))
    })
    .await
}

/// Records, on one connection, the statements diesel starts there, each
/// as `debug_query` shows it: `SQL -- binds: [...]`.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Instrumentation for Recorder {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            self.0.lock().expect("recorder").push(query.to_string());
        }
    }
}

impl Recorder {
    /// The statements sent while `request` ran.
    async fn around(
        &self,
        request: impl Future<Output = anyhow::Result<String>>,
    ) -> anyhow::Result<Vec<String>> {
        self.0.lock().expect("recorder").clear();
        request.await?;
        Ok(std::mem::take(&mut *self.0.lock().expect("recorder")))
    }
}

/// A pgbench script, and the values of its constants (`-D name=value`).
type Script = Vec<String>;
type Vars = Vec<(String, String)>;

/// A recorded value the baseline varies: the SQL that stands for it in the
/// statement that binds it first (that statement's one row then becomes
/// variables named with `gset` as prefix), and in later statements.
struct Varying {
    recorded: String,
    first: String,
    gset: Option<String>,
    then: String,
}

/// A value the baseline binds as the variable `var` wherever it appears.
fn same(recorded: impl Into<String>, var: &str) -> Varying {
    Varying {
        recorded: recorded.into(),
        first: var.into(),
        gset: None,
        then: var.into(),
    }
}

/// A random slot or session (`what`), picked by number where it is bound
/// first; that statement's row becomes `:{what}_{column}`, and later
/// statements bind `:{what}_id`.
fn pick(recorded: impl Into<String>, what: &str) -> Varying {
    Varying {
        recorded: recorded.into(),
        first: format!("(SELECT v FROM bench_{what}_pick WHERE n = :{what})"),
        gset: Some(format!("{what}_")),
        then: format!(":{what}_id"),
    }
}

/// Books `slot` for the citizen with `token` through the recording
/// instance, and makes the statements into a script in which every
/// booking takes a random slot, looks a random session up, and writes
/// rows of its own.
async fn recorded_booking(
    bench: &Bench<'_>,
    (recording, recorder): (SocketAddr, &Recorder),
    token: &str,
    slot: &SlotId,
) -> anyhow::Result<(Script, Vars)> {
    // A second since the sign-in, so that the session is touched, as the
    // citizens' sessions are while they book.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let request = send(recording, booking_request(token, slot));
    let statements = recorder.around(request).await?;
    // What the recorded booking wrote: the only reservation and message yet.
    let (session, message, id, key, afm, service, starts, ends) = with_db(&bench.db, |conn| {
        type Columns = (Text, Text, Text, Text, Text, Text, Timestamp, Timestamp);
        let written = diesel::dsl::sql::<Columns>(
            "s.id, m.id, r.id, r.upcoming_key, r.citizen_afm, r.service_id, r.starts_at, \
             r.ends_at FROM reservations r JOIN sessions s ON s.afm = r.citizen_afm, \
             outbox_messages m",
        );
        type Written = (
            String,
            String,
            String,
            String,
            String,
            String,
            NaiveDateTime,
            NaiveDateTime,
        );
        Ok(diesel::select(written).get_result::<Written>(conn)?)
    })
    .await?;
    let varying = [
        pick(citizen_api::auth::sha256_hex(token), "session"),
        same(session, ":session_id"),
        pick(slot.as_str(), "slot"),
        same(service, ":slot_service_id"),
        same(format!("{starts:?}"), ":slot_starts_at"),
        same(format!("{ends:?}"), ":slot_ends_at"),
        same(id, ":id"),
        same(key, ":id"),
        same(message, ":message"),
        same(afm, ":afm"),
    ];
    let config = bench.config;
    let slots = i64::try_from(config.services)? * config.slots_per_service;
    let mut script = vec![
        format!("\\set slot random(1, {slots})"),
        format!("\\set session random(1, {})", config.citizens + 1),
        "\\set id random(1, 9000000000000000000)".into(),
        "\\set message random(1, 9000000000000000000)".into(),
        "\\set afm random(100000000, 999999999)".into(),
    ];
    let (statements, vars) = pgbench_script(&statements, &varying);
    script.extend(statements);
    Ok((script, vars))
}

/// The part of a booking's script from `BEGIN` to `COMMIT`, with the
/// random picks before it.
fn transaction_of(script: &[String]) -> anyhow::Result<Script> {
    let begin = (script.iter().position(|s| s.starts_with("BEGIN")))
        .ok_or_else(|| anyhow::anyhow!("the booking sent no BEGIN:\n{}", script.join("\n")))?;
    let picks = script.iter().take_while(|s| s.starts_with("\\set"));
    Ok(picks.chain(&script[begin..]).cloned().collect())
}

/// Writes recorded statements as pgbench script lines: every bind becomes
/// a pgbench variable, a constant (`-D`) unless it is one of `varying`;
/// `None` becomes `NULL`.
fn pgbench_script(recorded: &[String], varying: &[Varying]) -> (Script, Vars) {
    let (mut script, mut vars, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
    for (n, statement) in recorded.iter().enumerate() {
        let (sql, binds) = statement
            .split_once(" -- binds: ")
            .unwrap_or((statement, "[]"));
        let (mut sql, mut gset) = (sql.trim().to_owned(), None);
        for (k, bind) in list(binds.strip_prefix('[').unwrap_or(binds))
            .0
            .into_iter()
            .enumerate()
            .rev()
        {
            let fragment = match bind {
                None => "NULL".to_owned(),
                Some(value) => match varying.iter().find(|v| v.recorded == value) {
                    Some(v) if seen.insert(value.clone()) => {
                        gset = gset.or(v.gset.as_deref());
                        v.first.clone()
                    }
                    Some(v) => v.then.clone(),
                    None => {
                        vars.push((format!("c{n}_{k}"), value));
                        format!(":c{n}_{k}")
                    }
                },
            };
            sql = sql.replace(&format!("${}", k + 1), &fragment);
        }
        script.push(match gset {
            Some(prefix) => format!("{sql} \\gset {prefix}"),
            None => format!("{sql};"),
        });
    }
    (script, vars)
}

/// Reads the `Debug`-printed value at the start of `s`, as PostgreSQL
/// reads it in text: strings unquoted, `Some(x)` as `x`, `None` as SQL
/// `NULL` (`None` here), bytes as `\x…`, other lists as array literals,
/// the rest (numbers, timestamps) as printed; answers it and what follows.
fn value(s: &str) -> (Option<String>, &str) {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix("None") {
        (None, rest)
    } else if let Some(rest) = s.strip_prefix("Some(") {
        let (value, rest) = value(rest);
        (value, rest.trim_start().trim_start_matches(')'))
    } else if let Some(rest) = s.strip_prefix('"') {
        let (mut out, mut chars) = (String::new(), rest.char_indices());
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return (Some(out), &rest[i + 1..]),
                '\\' => match chars.next().map_or(' ', |(_, c)| c) {
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    '0' => out.push('\0'),
                    'u' => {
                        let code = chars.by_ref().skip(1).map(|(_, c)| c);
                        let hex: String = code.take_while(|&c| c != '}').collect();
                        out.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
                    }
                    escaped => out.push(escaped),
                },
                c => out.push(c),
            }
        }
        (Some(out), "")
    } else if let Some(rest) = s.strip_prefix('[') {
        let (items, rest) = list(rest);
        let items: Vec<String> = items.into_iter().flatten().collect();
        let bytes: Option<Vec<u8>> = items.iter().map(|b| b.parse().ok()).collect();
        let text = match bytes {
            Some(bytes) if !bytes.is_empty() => format!("\\x{}", hex::encode(bytes)),
            _ => format!(
                "{{{}}}",
                items
                    .iter()
                    .map(|i| format!("{i:?}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        };
        (Some(text), rest)
    } else if let Some((_, rest)) = s.split_once('(').filter(|(name, _)| is_identifier(name)) {
        // A typed id, `ReservationId("…")`: its text is the value.
        let (value, rest) = value(rest);
        (value, rest.trim_start().strip_prefix(')').unwrap_or(rest))
    } else {
        let end = s.find([',', ']', ')']).unwrap_or(s.len());
        let item = s[..end].trim();
        // An enum the database holds as text (`ReservationStatus`): the
        // variant, `CheckedIn`, is stored as `checked_in`.
        let item = if is_identifier(item) && item.starts_with(char::is_uppercase) {
            snake_case(item)
        } else {
            item.to_owned()
        };
        (Some(item), &s[end..])
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && !matches!(s, "true" | "false")
}

fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The items of a `Debug`-printed list after its `[`, and what follows it.
fn list(mut s: &str) -> (Vec<Option<String>>, &str) {
    let mut items = Vec::new();
    loop {
        s = s.trim_start().trim_start_matches(',').trim_start();
        if let Some(rest) = s.strip_prefix(']').or(s.is_empty().then_some("")) {
            return (items, rest);
        }
        let (item, rest) = value(s);
        items.push(item);
        // Whatever the printing, the reading moves on: an unread character
        // is dropped rather than read forever.
        s = if rest.len() < s.len() {
            rest
        } else {
            &s[s.len().min(1)..]
        };
    }
}

/// Settles the database, warms the API up, then runs `BENCH_ROUNDS`
/// rounds of "API, then every baseline", so that whatever the database
/// goes through during the run (growing tables, checkpoints) falls on
/// both sides; answers a row for each baseline.
async fn metric(
    bench: &Bench<'_>,
    name: &str,
    expected: StatusCode,
    make: &MakeRequest,
    vars: &Vars,
    baselines: &[(&'static str, &Script, Option<f64>)],
) -> anyhow::Result<Vec<Row>> {
    let Bench {
        config, address, ..
    } = *bench;
    settle(&bench.db).await?;
    let warm_up = format!("{name} warm-up");
    drive(&warm_up, address, config, config.warmup, expected, make).await;
    let mut rows: Vec<Row> = baselines
        .iter()
        .map(|&(metric, script, target)| {
            println!("{metric}: pgbench runs\n  {}", script.join("\n  "));
            Row {
                metric,
                target,
                ..Row::default()
            }
        })
        .collect();
    for round in 1..=config.rounds {
        println!("round {round} of {}", config.rounds);
        let api = drive(name, address, config, config.seconds, expected, make).await;
        for (row, (_, script, _)) in rows.iter_mut().zip(baselines) {
            let tps = pgbench(bench, script, vars).await?;
            println!("{}: {tps:.1}/s through pgbench", row.metric);
            row.api.push(api);
            row.baseline.push(tps);
        }
    }
    Ok(rows)
}

/// Runs a script at the bench's concurrency, a warm-up and then the
/// measured run; answers its transactions per second.
async fn pgbench(bench: &Bench<'_>, script: &Script, vars: &Vars) -> anyhow::Result<f64> {
    let file = tempfile::Builder::new().suffix(".sql").tempfile()?;
    std::fs::write(file.path(), script.join("\n") + "\n")?;
    let mut tps = 0.0;
    for seconds in [bench.config.warmup, bench.config.seconds]
        .into_iter()
        .filter(|&s| s > 0)
    {
        let mut command = std::process::Command::new("pgbench");
        command.args(["-n", "-M", "prepared", "-j", "2"]);
        command.args(["-c", &bench.config.clients.to_string()]);
        command.args(["-T", &seconds.to_string(), "-f"]);
        command.arg(file.path());
        for (name, value) in vars {
            command.arg("-D").arg(format!("{name}={value}"));
        }
        command.arg(bench.url);
        let output = tokio::task::spawn_blocking(move || command.output()).await??;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let failed = stdout
            .lines()
            .find(|l| l.starts_with("number of failed transactions"))
            .is_some_and(|l| !l.contains(": 0 "));
        anyhow::ensure!(
            output.status.success() && !failed,
            "pgbench failed ({}):\n{stdout}\n{}\nscript:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            script.join("\n")
        );
        tps = stdout
            .lines()
            .find_map(|l| {
                l.strip_prefix("tps = ")
                    .filter(|l| l.contains("without initial"))
            })
            .and_then(|l| l.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no tps line in pgbench's output:\n{stdout}"))?;
    }
    Ok(tps)
}

fn report(rounds: u32, rows: Vec<Row>) {
    println!();
    println!("medians of {rounds} rounds; ratio: the median of the rounds' ratios");
    println!(
        "{:<28} {:>9} {:>11} {:>6} {:>7}  result",
        "metric", "API/s", "baseline/s", "ratio", "target"
    );
    for row in rows {
        let ratio = median(row.api.iter().zip(&row.baseline).map(|(a, b)| a / b));
        let (api, baseline) = (median(row.api), median(row.baseline));
        let (target, result) = match row.target {
            Some(t) => (format!("{t:.2}"), if ratio >= t { "PASS" } else { "BELOW" }),
            None => ("-".into(), "(information)"),
        };
        println!(
            "{:<28} {api:>9.1} {baseline:>11.1} {ratio:>6.2} {target:>7}  {result}",
            row.metric
        );
    }
    println!();
}

/// The middle value (the lower of the two middle ones for an even count):
/// one disturbed round does not move it.
fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.into_iter().collect();
    values.sort_by(f64::total_cmp);
    values
        .get(values.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0.0)
}

async fn machine(db: &Db) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("unknown CPU", |l| l.trim_start_matches([' ', '\t', ':']));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let server = with_db(db, |conn| {
        let version = diesel::dsl::sql::<Text>("version()");
        Ok(diesel::select(version).get_result::<String>(conn)?)
    })
    .await
    .unwrap_or_else(|_| "unknown server".into());
    format!("machine: {model}, {cores} cores; {server}")
}

fn booking_request(token: &str, slot: &SlotId) -> Request<Full<Bytes>> {
    let body = serde_json::json!({
        "slot_id": slot,
        "full_name": "Μαρία Παπαδοπούλου",
        "email": "maria@example.gr",
        "phone": "6912345678",
        "special_requirements": "Πρόσβαση με αμαξίδιο"
    });
    Request::post("/v1/reservations")
        .header(header::HOST, "bench")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a request")
}

/// A public `GET` (no session).
fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header(header::HOST, "bench")
        .body(Full::new(Bytes::new()))
        .expect("a request")
}

/// The next request of a metric; `None` when the prepared work ran out
/// (every citizen booked every service).
type MakeRequest = Arc<dyn Fn() -> Option<Request<Full<Bytes>>> + Send + Sync>;

type Http = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// One HTTP/1.1 keep-alive connection, as each pgbench client holds one
/// database connection: no client pool, no URL parsing, no redirects.
async fn connect(address: SocketAddr) -> anyhow::Result<Http> {
    let stream = tokio::net::TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Sends one request and reads the answer: its status and body.
async fn exchange(
    connection: &mut Http,
    request: Request<Full<Bytes>>,
) -> anyhow::Result<(StatusCode, String)> {
    let response = connection.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// One request, which must succeed; answers its body.
async fn send(address: SocketAddr, request: Request<Full<Bytes>>) -> anyhow::Result<String> {
    let (status, body) = exchange(&mut connect(address).await?, request).await?;
    anyhow::ensure!(status.is_success(), "answered {status}: {body}");
    Ok(body)
}

/// Sends requests from `BENCH_CLIENTS` tasks, each over its own
/// connection, for `seconds`; answers the rate of `expected` answers over
/// the time until the last task finished. Anything else is printed.
async fn drive(
    name: &str,
    address: SocketAddr,
    config: &Config,
    seconds: u64,
    expected: StatusCode,
    make: &MakeRequest,
) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..config.clients)
        .map(|_| {
            let make = make.clone();
            tokio::spawn(async move {
                let (mut ok, mut failures) = (0u64, Vec::new());
                let mut connection: Option<Http> = None;
                while Instant::now() < deadline {
                    let Some(request) = make() else {
                        failures.push("ran out of prepared work; raise BENCH_CITIZENS".into());
                        break;
                    };
                    let outcome = async {
                        let sender = match &mut connection {
                            Some(sender) => sender,
                            empty => empty.insert(connect(address).await?),
                        };
                        let (status, body) = exchange(sender, request).await?;
                        anyhow::ensure!(status == expected, "answered {status}: {body}");
                        anyhow::Ok(())
                    };
                    match outcome.await {
                        Ok(()) => ok += 1,
                        Err(e) => {
                            // A broken connection is opened again.
                            connection.take_if(|s| s.is_closed());
                            failures.push(e.to_string());
                        }
                    }
                }
                (ok, failures)
            })
        })
        .collect();
    let (mut ok, mut failures) = (0, Vec::<String>::new());
    for task in tasks {
        let (n, f) = task.await.expect("a load task");
        (ok, failures) = (ok + n, [failures, f].concat());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = ok as f64 / elapsed;
    println!("{name}: {ok} in {elapsed:.2} s = {rate:.1}/s through the API");
    if !failures.is_empty() {
        println!(
            "  FAILURE: {} requests did not succeed, e.g.:",
            failures.len()
        );
        for failure in failures.iter().take(5) {
            println!("    {failure}");
        }
    }
    rate
}

/// Runs `work` on one of the pool's connections, off the async threads.
async fn with_db<T: Send + 'static>(
    db: &Db,
    work: impl FnOnce(&mut DbConn) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let db = db.clone();
    tokio::task::spawn_blocking(move || db.run_blocking(work)).await?
}

/// Lets the work earlier metrics left behind finish before the next one
/// starts, so that it does not fall on whichever rounds happen to run
/// while it is done: the outbox worker delivers the confirmations the
/// bookings and their baseline queued, then `VACUUM ANALYZE` removes the
/// dead row versions and lets the planner see the tables as they now are,
/// instead of autovacuum doing both in the middle of some round. pgbench,
/// too, vacuums before it measures.
async fn settle(db: &Db) -> anyhow::Result<()> {
    let started = Instant::now();
    with_db(db, move |conn| {
        use citizen_api::db::schema::outbox_messages as m;
        let due = || {
            m::table
                .filter(m::status.eq("pending"))
                .filter(m::next_attempt_at.le(Utc::now().naive_utc()))
                .count()
        };
        while due().get_result::<i64>(conn)? > 0 {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(600),
                "the outbox did not drain in ten minutes"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(conn.batch_execute("VACUUM ANALYZE")?)
    })
    .await?;
    println!(
        "settled: outbox drained, database vacuumed in {:.1} s (not measured)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Seats taken equal reservations made, and no slot filled up: otherwise a
/// baseline's seat UPDATE may have found nothing and done less work.
async fn check_consistency(db: &Db) -> anyhow::Result<()> {
    let (seats, made, full) = with_db(db, |conn| {
        let counts = diesel::dsl::sql::<(BigInt, BigInt, BigInt)>(
            "(SELECT coalesce(sum(booked), 0)::bigint FROM slots), \
             (SELECT count(*) FROM reservations), \
             (SELECT count(*) FROM slots WHERE booked >= capacity)",
        );
        Ok(diesel::select(counts).get_result::<(i64, i64, i64)>(conn)?)
    })
    .await?;
    let verdict = if seats == made && full == 0 {
        " (consistent)"
    } else {
        "  INCONSISTENT: a baseline did less work than a booking"
    };
    println!("check: {seats} seats taken, {made} reservations, {full} full slots{verdict}");
    Ok(())
}
