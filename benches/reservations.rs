//! Reservations and slot pages through the API against the same SQL run
//! by `pgbench`, on PostgreSQL, at the same concurrency. The SQL is not
//! written out here: it is recorded from one request of each kind, as
//! diesel sends it, and replayed with the values that must differ from one
//! booking to the next made into pgbench variables. See docs/benchmarks.md.
//!
//! `cargo bench --bench reservations`; `BENCH_DATABASE_URL` names a server
//! on which a fresh database is created and dropped again.

use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{Duration as Span, NaiveDateTime, SubsecRound, Utc};
use citizen_api::clock::SystemClock;
use citizen_api::db::Db;
use citizen_api::dev::fixtures;
use citizen_api::domain::ids::SlotId;
use citizen_api::{Application, Settings};
use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use reqwest::{Client, RequestBuilder, StatusCode};
use tempfile::TempDir;
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

/// Seats per slot: the most a schedule allows.
const CAPACITY: i32 = 100;
/// Not a secret: 32 bytes that say what they are.
const BENCH_ENCRYPTION_KEYS: &str = "bench:YmVuY2gta2V5LW9mLWV4YWN0bHktMzItYnl0ZXMhISE=";

/// The knobs (docs/benchmarks.md lists them), the bench's database, the
/// application under test and the threads the load and the servers run on.
struct Bench {
    url: String,
    seconds: u64,
    warmup: u64,
    rounds: u32,
    clients: usize,
    api: String,
    db: Db,
    rt: Runtime,
}

/// A metric's requests: the status each must be answered with, and the
/// next request on the client given; `None` when the prepared work ran
/// out (every citizen booked every service).
type Load = (StatusCode, Arc<MakeRequest>);
type MakeRequest = dyn Fn(&Client) -> Option<RequestBuilder> + Send + Sync;
/// A pgbench script and its constants (`-D name=value`); a baseline: its
/// name, its script, and the target for the API's rate over its rate.
type Script = (Vec<String>, Vec<(String, String)>);
type Baseline = (&'static str, Script, Option<f64>);

fn number<T: std::str::FromStr>(name: &str, default: T) -> T {
    let parse = |v: String| v.parse().ok().unwrap_or_else(|| panic!("{name}: {v}?"));
    std::env::var(name).map_or(default, parse)
}

fn main() -> Result<()> {
    // `cargo test --benches` runs this binary without `--bench`: nothing to
    // check there, and no database to assume.
    if !std::env::args().any(|a| a == "--bench") {
        println!("reservations: a benchmark; run it with `cargo bench --bench reservations`");
        return Ok(());
    }
    let pgbench = Command::new("pgbench").arg("--version").output();
    anyhow::ensure!(
        pgbench.is_ok_and(|o| o.status.success()),
        "the baseline needs pgbench on the PATH; docs/benchmarks.md says where to get it"
    );
    let admin_url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    citizen_api::db::prepare_libpq();
    let mut admin = PgConnection::establish(&admin_url)?;
    let server: String = diesel::select(sql::<Text>("version()")).get_result(&mut admin)?;
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = (cpuinfo.lines().find_map(|l| l.strip_prefix("model name")))
        .map_or("unknown CPU", |l| l.trim_start_matches([' ', '\t', ':']));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {model}, {cores} cores; {server}");
    // A database of its own, dropped again at the end.
    let name = format!("citizen_bench_{}", uuid::Uuid::now_v7().simple());
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let base = admin_url.split('?').next().unwrap_or_default();
    let url = format!("{}/{name}", base.rsplit_once('/').map_or(base, |(s, _)| s));
    if let Err(error) = run(url) {
        eprintln!("benchmark failed: {error:#}");
    }
    admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))?;
    println!("dropped database {name}");
    // A benchmark reports; it does not gate.
    Ok(())
}

/// The application under test, in-process: `pool` connections, and
/// background passes that wake every `wake` seconds at most. Answers its
/// base URL and database; its data directory lives as long as the answer.
async fn start(url: &str, pool: usize, wake: u64) -> Result<(String, Db, TempDir)> {
    let data_dir = tempfile::tempdir()?;
    let mut s = Settings::default();
    (s.bind, s.data_dir, s.demo_data) = ("127.0.0.1:0".parse()?, data_dir.path().into(), false);
    s.database.url = Some(url.to_owned());
    // Both instances seal outbox texts under one key: the key ring is the
    // process's, and a second instance with a key of its own would not start.
    s.secrets.encryption_keys = Some(BENCH_ENCRYPTION_KEYS.into());
    s.database.pool_size = u32::try_from(pool)?;
    s.http.workers = 2;
    s.notify.poll_interval_ms = s.notify.poll_interval_ms.max(wake * 1000);
    s.reminders.interval_secs = s.reminders.interval_secs.max(wake);
    s.retention.interval_secs = s.retention.interval_secs.max(wake);
    let application = Application::build_with_clock(s, Arc::new(SystemClock)).await?;
    let api = format!("http://{}", application.address());
    let db = application.db();
    tokio::spawn(application.run_until_stopped());
    Ok((api, db, data_dir))
}

fn run(url: String) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Named, so a profile tells the load generator from the server's
        // blocking pool (tokio's default name for both).
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    let clients = number("BENCH_CLIENTS", 16);
    let (api, db, _data) = rt.block_on(start(&url, clients * 2, 0))?;
    // A second instance on the same database, with one connection and its
    // background passes asleep, records what one request sends: every
    // statement diesel starts there, as `debug_query` shows it, `SQL --
    // binds: [...]`.
    let (recording, recording_db, _data) = rt.block_on(start(&url, 1, 86_400))?;
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let hook = recorded.clone();
    recording_db.run_blocking(|conn| {
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { query, .. } = event {
                hook.lock().expect("recorder").push(query.to_string());
            }
        });
        Ok(())
    })?;
    let b = Bench {
        url,
        seconds: number("BENCH_SECONDS", 8),
        warmup: number("BENCH_WARMUP_SECONDS", 2),
        rounds: number("BENCH_ROUNDS", 5),
        clients,
        api,
        db,
        rt,
    };
    let (seconds, warmup) = (b.seconds, b.warmup);
    println!("{clients} clients, {seconds} s runs after {warmup} s warm-up, pgbench -M prepared");
    let (catalogue, slots, tokens) = arrange(&b.db)?;
    let citizens = tokens.len() - 1;
    // The request, sent to the recording instance, must succeed; answers
    // the statements it sent.
    let record = |request| -> Result<Vec<String>> {
        recorded.lock().expect("recorder").clear();
        b.rt.block_on(exchange(request, None))?;
        Ok(std::mem::take(&mut *recorded.lock().expect("recorder")))
    };
    // `BENCH_METRICS`: a comma-separated subset of `reservations,slots`.
    let metrics = std::env::var("BENCH_METRICS").unwrap_or("reservations,slots".into());
    let wanted = |m| metrics.split(',').any(|w| w.trim() == m);
    let (client, mut table) = (client(), Vec::new());
    if wanted("reservations") {
        // The last citizen and slot are the recording's. A second after the
        // sign-in, so that the session is touched, as the citizens' sessions
        // are while they book.
        let (token, slot) = (&tokens[citizens], &slots[0][slots[0].len() - 1]);
        std::thread::sleep(Duration::from_millis(1100));
        let statements = record(booking(&client, &recording, token, slot))?;
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
        let load = (StatusCode::CREATED, book);
        table.extend(measure(&b, "reservations", &load, &baselines)?);
    }
    if wanted("slots") {
        let today = Utc::now().with_timezone(&chrono_tz::Europe::Athens);
        let (from, to) = (today.date_naive(), today.date_naive() + Span::days(14));
        let service = &catalogue.services[0];
        let path = format!("/v1/services/{service}/slots?from={from}&to={to}");
        // Twice: the first fills the listing-window cache.
        record(client.get(format!("{recording}{path}")))?;
        let page = record(client.get(format!("{recording}{path}")))?;
        let script = pgbench_script(&page, &[])?;
        let baselines = [("slot listing / its SQL", script, Some(0.5))];
        let url = format!("{}{path}", b.api);
        let list: Arc<MakeRequest> = Arc::new(move |client| Some(client.get(&url)));
        let load = (StatusCode::OK, list);
        table.extend(measure(&b, "slot listing", &load, &baselines)?);
    }
    check_consistency(&b.db)?;
    let rounds = b.rounds;
    println!("\nmedians of {rounds} rounds; ratio: the median of the rounds' ratios");
    println!("metric                           API/s  baseline/s  ratio  target  result");
    println!("{}\n", table.join("\n"));
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
        ("reservations / booking tx", transaction, Some(0.75)),
        ("reservations / all its SQL", all, None),
    ])
}

/// Writes recorded statements as pgbench script lines. Every bind becomes
/// a pgbench variable: a constant (`-D`), unless `varying` names what
/// stands for the value: a variable (`:id`), or a random slot or session
/// (`slot`, `session`), picked by number (`:slot`) from `bench_slot_pick`
/// where the value is bound first; that statement's one row then becomes
/// the variables `:slot_{column}` (`\gset`), and later ones bind
/// `:slot_id`. `None` becomes `NULL`.
fn pgbench_script(recorded: &[String], varying: &[(String, &str)]) -> Result<Script> {
    let (mut script, mut vars, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
    for (n, statement) in recorded.iter().enumerate() {
        // `BEGIN` and `COMMIT` have no binds.
        let split = statement.split_once(" -- binds: [");
        let (sql, mut rest) = split.unwrap_or((statement, "]"));
        let (mut sql, mut gset, mut binds) = (sql.trim().to_owned(), None, Vec::new());
        while !rest.trim_start_matches([',', ' ']).starts_with(']') {
            let (value, after) = bind(rest.trim_start_matches([',', ' ']))
                .with_context(|| format!("reading the binds of {statement}"))?;
            binds.push(value);
            rest = after;
        }
        // Backwards, so that `$1` is not replaced inside `$12`.
        for (k, bind) in binds.into_iter().enumerate().rev() {
            let stand = |value: &String| varying.iter().find(|(v, _)| v == value).map(|v| v.1);
            let fragment = match bind.map(|value| (stand(&value), value)) {
                None => "NULL".to_owned(),
                Some((Some(var), _)) if var.starts_with(':') => var.to_owned(),
                Some((Some(what), _)) if seen.insert(what) => {
                    gset = Some(what);
                    format!("(SELECT v FROM bench_{what}_pick WHERE n = :{what})")
                }
                Some((Some(what), _)) => format!(":{what}_id"),
                Some((None, value)) => {
                    vars.push((format!("c{n}_{k}"), value));
                    format!(":c{n}_{k}")
                }
            };
            sql = sql.replace(&format!("${}", k + 1), &fragment);
        }
        script.push(gset.map_or(format!("{sql};"), |what| format!("{sql} \\gset {what}_")));
    }
    Ok((script, vars))
}

/// Reads the bind printed (`Debug`) at the start of `s` as PostgreSQL
/// reads it in text, and answers it and what follows: `None` is `NULL`;
/// `Some(x)` and a typed id, `SlotId("…")`, are what they wrap; a string
/// is read as JSON, whose escapes Rust's printing shares; bytes, `[1, 2]`,
/// are `\x0102`, other lists array literals; an enum the database holds as
/// text, `CheckedIn`, is `checked_in`; numbers and timestamps are as
/// printed. Anything else is an error, so that a new kind of bind cannot
/// slip into the baseline misread.
fn bind(s: &str) -> Result<(Option<String>, &str)> {
    use serde_json::{Deserializer, Value, from_value};
    if s.starts_with(['"', '[']) {
        let mut json = Deserializer::from_str(s).into_iter::<Value>();
        let value = match json.next().context("a value")?? {
            Value::String(text) => text,
            list => match from_value::<Vec<u8>>(list.clone()) {
                Ok(bytes) if !bytes.is_empty() => format!("\\x{}", hex::encode(bytes)),
                // Any other list is an array: `["a", "b"]` is `{"a","b"}`.
                _ => format!("{{{}}}", list.to_string().trim_matches(['[', ']'])),
            },
        };
        return Ok((Some(value), &s[json.byte_offset()..]));
    }
    let (word, rest) = s.split_at(s.find([',', ']', ')', '(']).unwrap_or(s.len()));
    if let Some(inner) = rest.strip_prefix('(') {
        let (value, rest) = bind(inner)?;
        return Ok((value, rest.strip_prefix(')').context("an unclosed (")?));
    }
    anyhow::ensure!(!word.is_empty() && !word.contains(' '), "cannot read {s:?}");
    if word.starts_with(char::is_uppercase) && word != "None" {
        let snake = |(i, c): (usize, char)| [(i > 0 && c.is_uppercase()).then_some('_'), Some(c)];
        let text: String = word.char_indices().flat_map(snake).flatten().collect();
        return Ok((Some(text.to_lowercase()), rest));
    }
    Ok(((word != "None").then(|| word.to_owned()), rest))
}

/// Settles the database, warms the API up, then runs `BENCH_ROUNDS`
/// rounds of "API, then every baseline", so that whatever the database
/// goes through during the run (growing tables, checkpoints) falls on
/// both sides; answers the report's line for each baseline: the medians
/// of the rates and of the rounds' ratios, against the target if any.
fn measure(b: &Bench, name: &str, load: &Load, baselines: &[Baseline]) -> Result<Vec<String>> {
    settle(&b.db)?;
    b.rt.block_on(drive(b, &format!("{name} warm-up"), b.warmup, load));
    for (baseline, (lines, _), _) in baselines {
        println!("{baseline}: pgbench runs\n  {}", lines.join("\n  "));
    }
    let (mut api, mut rates) = (Vec::new(), vec![Vec::new(); baselines.len()]);
    for round in 1..=b.rounds {
        println!("round {round} of {}", b.rounds);
        api.push(b.rt.block_on(drive(b, name, b.seconds, load)));
        for ((baseline, script, _), rates) in baselines.iter().zip(&mut rates) {
            let tps = pgbench(b, script)?;
            println!("{baseline}: {tps:.1}/s through pgbench");
            rates.push(tps);
        }
    }
    let mut table = Vec::new();
    for ((what, _, target), rates) in baselines.iter().zip(rates) {
        let ratio = median(api.iter().zip(&rates).map(|(a, b)| a / b));
        let (api, rate) = (median(api.clone()), median(rates));
        let result = match target {
            Some(t) if ratio >= *t => "PASS",
            Some(_) => "BELOW",
            None => "(information)",
        };
        let t = target.map_or("-".into(), |t| format!("{t:.2}"));
        let line = format!("{what:<28} {api:>9.1} {rate:>11.1} {ratio:>6.2} {t:>7}  {result}");
        table.push(line);
    }
    Ok(table)
}

/// The middle value (the lower of the two middle ones for an even count):
/// one disturbed round does not move it.
fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.into_iter().collect();
    values.sort_by(f64::total_cmp);
    let middle = values.len().saturating_sub(1) / 2;
    values.get(middle).copied().unwrap_or(0.0)
}

/// Runs a script at the bench's concurrency, a warm-up and then the
/// measured run; answers its transactions per second.
fn pgbench(b: &Bench, (script, vars): &Script) -> Result<f64> {
    let file = tempfile::Builder::new().suffix(".sql").tempfile()?;
    std::fs::write(file.path(), script.join("\n") + "\n")?;
    let mut tps = 0.0;
    for seconds in [b.warmup, b.seconds].into_iter().filter(|&s| s > 0) {
        let mut command = Command::new("pgbench");
        let (clients, seconds) = (b.clients.to_string(), seconds.to_string());
        command.args(["-n", "-M", "prepared", "-j", "2", "-c", &clients]);
        command.args(["-T", &seconds, "-f"]).arg(file.path());
        for (name, value) in vars {
            command.arg("-D").arg(format!("{name}={value}"));
        }
        let output = command.arg(&b.url).output()?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = |start| stdout.lines().find_map(|l| l.strip_prefix(start));
        let failed = line("number of failed transactions: ").is_some_and(|l| !l.starts_with("0 "));
        let (status, stderr) = (output.status, String::from_utf8_lossy(&output.stderr));
        let why = format!("pgbench failed ({status}):\n{stdout}\n{stderr}");
        anyhow::ensure!(status.success() && !failed, why);
        tps = (line("tps = ").filter(|l| l.contains("without initial")))
            .and_then(|l| l.split_whitespace().next()?.parse().ok())
            .with_context(|| format!("no tps line in pgbench's output:\n{stdout}"))?;
    }
    Ok(tps)
}

fn booking(client: &Client, api: &str, token: &str, slot: &SlotId) -> RequestBuilder {
    let body = serde_json::json!({
        "slot_id": slot, "full_name": "Μαρία Παπαδοπούλου", "email": "maria@example.gr",
        "phone": "6912345678", "special_requirements": "Πρόσβαση με αμαξίδιο"
    });
    let request = client.post(format!("{api}/v1/reservations"));
    request.bearer_auth(token).json(&body)
}

/// An HTTP client that ignores any proxy the environment names. Each load
/// task has its own, and so one keep-alive connection, as each pgbench
/// client holds one database connection.
fn client() -> Client {
    Client::builder().no_proxy().build().expect("a client")
}

/// Sends a request and reads the answer, whose status must be `expected`
/// (any success when `None`).
async fn exchange(request: RequestBuilder, expected: Option<StatusCode>) -> Result<()> {
    let response = request.send().await?;
    let status = response.status();
    let body = response.text().await?;
    let right = expected.map_or(status.is_success(), |e| status == e);
    anyhow::ensure!(right, "answered {status}: {body}");
    Ok(())
}

/// Sends requests from `BENCH_CLIENTS` tasks for `seconds`; answers the
/// rate of right answers over the time until the last task finished.
/// Anything else is printed.
async fn drive(b: &Bench, name: &str, seconds: u64, (expected, make): &Load) -> f64 {
    let started = Instant::now();
    let (deadline, mut tasks) = (started + Duration::from_secs(seconds), JoinSet::new());
    for _ in 0..b.clients {
        let (client, make, expected) = (client(), make.clone(), Some(*expected));
        tasks.spawn(async move {
            let (mut ok, mut failures) = (0, Vec::new());
            while let Some(request) = make(&client).filter(|_| Instant::now() < deadline) {
                match exchange(request, expected).await {
                    Ok(()) => ok += 1,
                    Err(e) => failures.push(e.to_string()),
                }
            }
            if Instant::now() < deadline {
                failures.push("ran out of prepared work; raise BENCH_CITIZENS".into());
            }
            (ok, failures)
        });
    }
    let (ok, failures): (Vec<u32>, Vec<Vec<String>>) = tasks.join_all().await.into_iter().unzip();
    let (ok, failures) = (ok.iter().sum::<u32>(), failures.concat());
    let elapsed = started.elapsed().as_secs_f64();
    let rate = f64::from(ok) / elapsed;
    println!("{name}: {ok} in {elapsed:.2} s = {rate:.1}/s through the API");
    let n = failures.len();
    if n > 0 {
        let some = failures[..n.min(5)].join("\n    ");
        println!("  FAILURE: {n} requests did not succeed, e.g.:\n    {some}");
    }
    rate
}

/// Lets the work earlier metrics left behind finish before the next one
/// starts, rather than in whichever rounds run meanwhile: the outbox worker
/// delivers the confirmations the bookings and their baseline queued, then
/// `VACUUM ANALYZE` removes the dead row versions and lets the planner see
/// the tables as they now are, instead of autovacuum doing both in some
/// round. pgbench, too, vacuums before it measures.
fn settle(db: &Db) -> Result<()> {
    let started = Instant::now();
    db.run_blocking(|conn| {
        let due = sql::<BigInt>(
            "(SELECT count(*) FROM outbox_messages WHERE status = 'pending' \
             AND next_attempt_at <= now() AT TIME ZONE 'UTC')",
        );
        while diesel::select(due.clone()).get_result::<i64>(conn)? > 0 {
            let waited = started.elapsed() < Duration::from_secs(600);
            anyhow::ensure!(waited, "the outbox did not drain in ten minutes");
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(conn.batch_execute("VACUUM ANALYZE")?)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    println!("settled: outbox drained, database vacuumed in {seconds:.1} s (not measured)");
    Ok(())
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
