//! What the PostgreSQL benches share (`reservations`, `photo_fetch`): a
//! database of their own, the application in-process, the HTTP load
//! generator, and the baseline recorded from one request and replayed by
//! `pgbench` (docs/benchmarks.md, "The baseline is recorded, not
//! written"). Each bench includes it with `mod support;`.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use citizen_api::clock::SystemClock;
use citizen_api::db::Db;
use citizen_api::{Application, Settings};
use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use reqwest::{Client, RequestBuilder, StatusCode};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

/// Not a secret: 32 bytes that say what they are.
const BENCH_ENCRYPTION_KEYS: &str = "bench:YmVuY2gta2V5LW9mLWV4YWN0bHktMzItYnl0ZXMhISE=";

/// The knobs (docs/benchmarks.md lists them), the bench's database, the
/// application under test, the recording instance (see [`Bench::start`])
/// and the threads the load and the servers run on.
pub struct Bench {
    pub url: String,
    pub seconds: u64,
    pub warmup: u64,
    pub rounds: u32,
    pub clients: usize,
    pub api: String,
    pub db: Db,
    pub rt: Runtime,
    recording: String,
    recorded: Arc<Mutex<Vec<String>>>,
}

impl Bench {
    /// Starts two instances of the application on the database at `url`:
    /// the one under test, with two connections per client, and a second
    /// one with one connection and its background passes asleep, whose
    /// statements are recorded, so that what one request sends can be read
    /// back ([`Bench::record`]). Their files go to `data` and
    /// `recording_data` (one directory for both when the recording must
    /// read what the other wrote, or take its tokens). `clients` is
    /// `BENCH_CLIENTS`' default. Answers the bench and the settings of the
    /// instance under test.
    pub fn start(
        url: String,
        clients: usize,
        data: &Path,
        recording_data: &Path,
    ) -> Result<(Bench, Settings)> {
        let rt = runtime()?;
        let clients = number("BENCH_CLIENTS", clients);
        let serving = settings(&url, data, clients * 2, 0)?;
        let (api, db) = rt.block_on(start(serving.clone()))?;
        let recording = settings(&url, recording_data, 1, 86_400)?;
        let (recording, recording_db) = rt.block_on(start(recording))?;
        let recorded = recorder(&recording_db)?;
        let b = Bench {
            url,
            seconds: number("BENCH_SECONDS", 8),
            warmup: number("BENCH_WARMUP_SECONDS", 2),
            rounds: number("BENCH_ROUNDS", 5),
            clients,
            api,
            db,
            rt,
            recording,
            recorded,
        };
        let (seconds, warmup) = (b.seconds, b.warmup);
        println!(
            "{clients} clients, {seconds} s runs after {warmup} s warm-up, pgbench -M prepared"
        );
        Ok((b, serving))
    }

    /// The recording instance's base URL.
    pub fn recording(&self) -> &str {
        &self.recording
    }

    /// Sends `request`, made for the recording instance, which must be
    /// answered `expected` (any success when `None`); answers the
    /// statements it sent and the answer's body.
    pub fn record(
        &self,
        request: RequestBuilder,
        expected: Option<StatusCode>,
    ) -> Result<(Vec<String>, Bytes)> {
        self.recorded.lock().expect("recorder").clear();
        let body = self.rt.block_on(exchange(request, expected, None))?;
        Ok((
            std::mem::take(&mut *self.recorded.lock().expect("recorder")),
            body,
        ))
    }
}

/// A metric's requests: the server that answers them (for the report),
/// the status each must be answered with, the length of every answer when
/// it is known, and the next request on the client given; `None` when the
/// prepared work ran out (every citizen booked every service).
pub struct Load {
    pub server: &'static str,
    pub status: StatusCode,
    pub length: Option<usize>,
    pub make: Arc<MakeRequest>,
}
pub type MakeRequest = dyn Fn(&Client) -> Option<RequestBuilder> + Send + Sync;

impl Load {
    /// Requests to the application under test, of answers of any length.
    pub fn api(status: StatusCode, make: Arc<MakeRequest>) -> Load {
        let (server, length) = ("the API", None);
        Load {
            server,
            status,
            length,
            make,
        }
    }
}
/// A pgbench script and its constants (`-D name=value`).
pub type Script = (Vec<String>, Vec<(String, String)>);
/// What the API's rate is set against: the same SQL through pgbench, or
/// another HTTP server driven by the same load generator.
pub enum Rate {
    Pgbench(Script),
    Http(Load),
}
/// A baseline: its name, its rate, and the target for the API's rate over
/// its rate.
pub type Baseline = (&'static str, Rate, Option<f64>);

pub fn number<T: std::str::FromStr>(name: &str, default: T) -> T {
    let parse = |v: String| v.parse().ok().unwrap_or_else(|| panic!("{name}: {v}?"));
    std::env::var(name).map_or(default, parse)
}

/// The bench's `main`: unless run by `cargo bench` (`--bench`), says how to
/// run it and stops; otherwise prints the machine, runs `run` on a fresh
/// database on `BENCH_DATABASE_URL`'s server and drops that again. Exits 0
/// whatever `run` found: a benchmark reports; it does not gate.
pub fn on_fresh_database(bench: &str, run: impl FnOnce(String) -> Result<()>) -> Result<()> {
    // `cargo test --benches` runs this binary without `--bench`: nothing to
    // check there, and no database to assume.
    if !std::env::args().any(|a| a == "--bench") {
        println!("{bench}: a benchmark; run it with `cargo bench --bench {bench}`");
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
    Ok(())
}

/// The load generator's runtime: two threads, named, so that a profile
/// tells them from the server's blocking pool (tokio's default name for
/// both).
fn runtime() -> Result<Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-client")
        .enable_all()
        .build()?)
}

/// The settings of an instance on the database at `url` with its files
/// in `data_dir`: `pool` connections, and background passes that wake
/// every `wake` seconds at most.
fn settings(url: &str, data_dir: &Path, pool: usize, wake: u64) -> Result<Settings> {
    let mut s = Settings::default();
    (s.bind, s.data_dir, s.demo_data) = ("127.0.0.1:0".parse()?, data_dir.into(), false);
    s.database.url = Some(url.to_owned());
    // Instances seal outbox texts under one key: the key ring is the
    // process's, and a second instance with a key of its own would not start.
    s.secrets.encryption_keys = Some(BENCH_ENCRYPTION_KEYS.into());
    s.database.pool_size = u32::try_from(pool)?;
    s.http.workers = 2;
    s.notify.poll_interval_ms = s.notify.poll_interval_ms.max(wake * 1000);
    s.reminders.interval_secs = s.reminders.interval_secs.max(wake);
    s.retention.interval_secs = s.retention.interval_secs.max(wake);
    Ok(s)
}

/// The application under test, in-process, with `settings`; answers its
/// base URL and database.
async fn start(settings: Settings) -> Result<(String, Db)> {
    let application = Application::build_with_clock(settings, Arc::new(SystemClock)).await?;
    let api = format!("http://{}", application.address());
    let db = application.db();
    tokio::spawn(application.run_until_stopped());
    Ok((api, db))
}

/// Writes recorded statements as pgbench script lines. Every bind becomes
/// a pgbench variable: a constant (`-D`), unless `varying` names what
/// stands for the value: a variable (`:id`), or a random row picked by
/// number, `what` or `what.column` (`slot`, `citizen.linked_afm`): the
/// first statement that binds the value reads it from `bench_{what}_pick`
/// (`:what` is its number), and that statement's one row then becomes the
/// variables `:what_{column}` (`\gset`), of which later statements bind
/// `:what_column` (`:slot_id` when no column is named). `None` becomes
/// `NULL`.
pub fn pgbench_script(recorded: &[String], varying: &[(String, &str)]) -> Result<Script> {
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
                Some((Some(pick), _)) => {
                    let (what, column) = pick.split_once('.').unwrap_or((pick, "id"));
                    if seen.insert(what) {
                        gset = Some(what);
                        format!("(SELECT v FROM bench_{what}_pick WHERE n = :{what})")
                    } else {
                        format!(":{what}_{column}")
                    }
                }
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
/// are `\x0102`, other lists (of typed ids too) array literals; an enum the database holds as
/// text, `CheckedIn`, is `checked_in`; numbers and timestamps are as
/// printed. Anything else is an error, so that a new kind of bind cannot
/// slip into the baseline misread.
fn bind(s: &str) -> Result<(Option<String>, &str)> {
    use serde_json::{Deserializer, Value, from_value};
    let mut json = Deserializer::from_str(s).into_iter::<Value>();
    if let Some(list) = s
        .strip_prefix('[')
        .filter(|_| json.next().is_some_and(|v| v.is_err()))
    {
        return typed_list(list);
    }
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

/// Reads a list that is not JSON, of typed ids (`[SlotId("…"), …]`), after
/// its `[`, as an array literal of what each bind is.
fn typed_list(mut s: &str) -> Result<(Option<String>, &str)> {
    let mut items = Vec::new();
    while !s.trim_start_matches([',', ' ']).starts_with(']') {
        let (item, rest) = bind(s.trim_start_matches([',', ' ']))?;
        items.push(item.map_or("NULL".into(), |i| serde_json::Value::String(i).to_string()));
        s = rest;
    }
    let rest = s.trim_start_matches([',', ' ']).strip_prefix(']');
    Ok((
        Some(format!("{{{}}}", items.join(","))),
        rest.context("an unclosed [")?,
    ))
}

/// Settles the database, warms the API and every HTTP baseline up, then
/// runs `BENCH_ROUNDS` rounds of "API, then every baseline", each round
/// after `before_round` (which may, say, take a fresh token), so that
/// whatever the database goes through during the run (growing tables,
/// checkpoints) falls on both sides; answers the report's line for each
/// baseline: the medians of the rates and of the rounds' ratios, against
/// the target if any.
pub fn measure(
    b: &Bench,
    name: &str,
    load: &Load,
    baselines: &[Baseline],
    before_round: &dyn Fn() -> Result<()>,
) -> Result<Vec<String>> {
    settle(&b.db)?;
    before_round()?;
    b.rt.block_on(drive(b, &format!("{name} warm-up"), b.warmup, load));
    for (baseline, rate, _) in baselines {
        match rate {
            Rate::Pgbench((lines, _)) => {
                println!("{baseline}: pgbench runs\n  {}", lines.join("\n  "));
            }
            Rate::Http(load) => {
                b.rt.block_on(drive(b, &format!("{baseline} warm-up"), b.warmup, load));
            }
        }
    }
    let (mut api, mut rates) = (Vec::new(), vec![Vec::new(); baselines.len()]);
    for round in 1..=b.rounds {
        println!("round {round} of {}", b.rounds);
        before_round()?;
        api.push(b.rt.block_on(drive(b, name, b.seconds, load)));
        for ((baseline, rate, _), rates) in baselines.iter().zip(&mut rates) {
            rates.push(match rate {
                Rate::Pgbench(script) => {
                    let tps = pgbench(b, script)?;
                    println!("{baseline}: {tps:.1}/s through pgbench");
                    tps
                }
                Rate::Http(load) => b.rt.block_on(drive(b, baseline, b.seconds, load)),
            });
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

/// Prints the report's table: the lines `measure` answered.
pub fn report(b: &Bench, table: &[String]) {
    let rounds = b.rounds;
    println!("\nmedians of {rounds} rounds; ratio: the median of the rounds' ratios");
    println!("metric                           API/s  baseline/s  ratio  target  result");
    println!("{}\n", table.join("\n"));
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

/// An HTTP client that ignores any proxy the environment names. Each load
/// task has its own, and so one keep-alive connection, as each pgbench
/// client holds one database connection.
pub fn client() -> Client {
    Client::builder().no_proxy().build().expect("a client")
}

/// Sends a request and reads the answer, whose status must be `expected`
/// (any success when `None`) and its length `length` when given; answers
/// its body.
pub async fn exchange(
    request: RequestBuilder,
    expected: Option<StatusCode>,
    length: Option<usize>,
) -> Result<Bytes> {
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    let right = expected.map_or(status.is_success(), |e| status == e);
    anyhow::ensure!(
        right,
        "answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    let n = body.len();
    anyhow::ensure!(
        length.is_none_or(|l| l == n),
        "answered {n} bytes, not {length:?}"
    );
    Ok(body)
}

/// Sends requests from `BENCH_CLIENTS` tasks for `seconds`; answers the
/// rate of right answers over the time until the last task finished.
/// Anything else is printed.
pub async fn drive(b: &Bench, name: &str, seconds: u64, load: &Load) -> f64 {
    let started = Instant::now();
    let (deadline, mut tasks) = (started + Duration::from_secs(seconds), JoinSet::new());
    for _ in 0..b.clients {
        let (client, make) = (client(), load.make.clone());
        let (expected, length) = (Some(load.status), load.length);
        tasks.spawn(async move {
            let (mut ok, mut failures) = (0, Vec::new());
            while let Some(request) = make(&client).filter(|_| Instant::now() < deadline) {
                match exchange(request, expected, length).await {
                    Ok(_) => ok += 1,
                    // With its causes: "error sending request" alone says little.
                    Err(e) => failures.push(format!("{e:#}")),
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
    let server = load.server;
    println!("{name}: {ok} in {elapsed:.2} s = {rate:.1}/s through {server}");
    let n = failures.len();
    if n > 0 {
        let some = failures[..n.min(5)].join("\n    ");
        println!("  FAILURE: {n} requests did not succeed, e.g.:\n    {some}");
    }
    rate
}

/// Lets the work earlier metrics left behind finish before the next one
/// starts, rather than in whichever rounds run meanwhile: the outbox worker
/// delivers the messages the arranging, the requests and their baseline
/// queued, then `VACUUM ANALYZE` removes the dead row versions and lets
/// the planner see the tables as they now are, instead of autovacuum doing
/// both in some round. pgbench, too, vacuums before it measures.
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

/// Records every statement diesel starts on `db`'s connections, as
/// `debug_query` shows it, `SQL -- binds: [...]`: meant for an instance
/// with one connection, so that what one request sends can be read back
/// (and cleared) from the answer.
fn recorder(db: &Db) -> Result<Arc<Mutex<Vec<String>>>> {
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let hook = recorded.clone();
    db.run_blocking(|conn| {
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { query, .. } = event {
                hook.lock().expect("recorder").push(query.to_string());
            }
        });
        Ok(())
    })?;
    Ok(recorded)
}
