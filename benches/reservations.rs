//! Reservations and slot listing through the API against the same SQL run
//! directly, on PostgreSQL, at the same concurrency. See docs/benchmarks.md.
//!
//! `cargo bench --bench reservations`; `BENCH_DATABASE_URL` names a server
//! on which a fresh database is created and dropped again.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{Duration as Span, SubsecRound, Utc};
use citizen_api::Application;
use citizen_api::booking::reservations::local_midnight;
use citizen_api::booking::schedule::store::{ScheduleRow, insert_slots, save_schedule};
use citizen_api::clock::SystemClock;
use citizen_api::config::Settings;
use citizen_api::db::Db;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// pgbench variables by name (`:name`), `None` for SQL NULL.
type Vars = HashMap<String, Option<String>>;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Seats per slot: the most a schedule allows.
const CAPACITY: i32 = 100;
const RESERVATIONS_TARGET: f64 = 0.75;
const SLOTS_TARGET: f64 = 0.5;

struct Config {
    admin_url: String,
    seconds: u64,
    warmup: u64,
    rounds: u32,
    clients: usize,
    citizens: u32,
    slots_per_service: i64,
    pgbench: Option<String>,
}

impl Config {
    fn from_env() -> Config {
        let number = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .map(|v| {
                    v.parse()
                        .unwrap_or_else(|_| panic!("{name} must be a number, got {v}"))
                })
                .unwrap_or(default)
        };
        let forced_direct = std::env::var("BENCH_BASELINE").is_ok_and(|v| v == "direct");
        let pgbench = std::env::var("BENCH_PGBENCH").unwrap_or_else(|_| "pgbench".into());
        let pgbench_works = std::process::Command::new(&pgbench)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        Config {
            admin_url: std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.into()),
            seconds: number("BENCH_SECONDS", 8),
            warmup: number("BENCH_WARMUP_SECONDS", 2),
            rounds: u32::try_from(number("BENCH_ROUNDS", 5)).expect("a small number"),
            clients: usize::try_from(number("BENCH_CLIENTS", 16)).expect("a small number"),
            citizens: u32::try_from(number("BENCH_CITIZENS", 12000)).expect("a small number"),
            slots_per_service: i64::try_from(number("BENCH_SLOTS_PER_SERVICE", 1000))
                .expect("a small number"),
            pgbench: (pgbench_works && !forced_direct).then_some(pgbench),
        }
    }
}

fn main() {
    // `cargo test --benches` runs this binary without `--bench`: nothing to
    // check there, and no database to assume.
    if !std::env::args().any(|a| a == "--bench") {
        println!("reservations: a benchmark; run it with `cargo bench --bench reservations`");
        return;
    }
    let config = Config::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Named, so a profile tells the load generator from the server's
        // blocking pool (tokio's default name for both).
        .thread_name("bench-client")
        .enable_all()
        .build()
        .expect("a tokio runtime");
    citizen_api::db::prepare_libpq();
    let database = BenchDatabase::create(&config.admin_url);
    let outcome = runtime.block_on(run(&config, &database.url));
    drop(runtime);
    drop(database);
    if let Err(error) = outcome {
        eprintln!("benchmark failed: {error:#}");
    }
    // A benchmark reports; it does not gate.
}

/// A database that lives as long as the run.
struct BenchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl BenchDatabase {
    fn create(admin_url: &str) -> BenchDatabase {
        let name = format!("citizen_bench_{}", uuid::Uuid::now_v7().simple());
        let mut admin =
            PgConnection::establish(admin_url).expect("BENCH_DATABASE_URL is reachable");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("can create the bench database");
        let base = admin_url.split('?').next().unwrap_or(admin_url);
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        BenchDatabase {
            admin_url: admin_url.to_owned(),
            url: format!("{server}/{name}"),
            name,
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        let dropped = PgConnection::establish(&self.admin_url).and_then(|mut admin| {
            diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin)
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
        });
        match dropped {
            Ok(_) => println!("dropped database {}", self.name),
            Err(e) => eprintln!("could not drop database {}: {e}", self.name),
        }
    }
}

/// One metric: the API's and the baseline's rate in each round.
struct Row {
    metric: &'static str,
    api: Vec<f64>,
    baseline: Vec<f64>,
    target: Option<f64>,
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

/// What every metric needs: the settings, the running application and
/// its database, and the services arranged for the run.
struct Bench<'a> {
    config: &'a Config,
    url: &'a str,
    address: SocketAddr,
    db: Db,
    services: Vec<(String, Vec<String>)>,
}

/// A metric's rounds: the API's rates, then each baseline's, per round.
struct Rounds {
    api: Vec<f64>,
    baselines: Vec<Vec<f64>>,
}

impl Bench<'_> {
    /// Settles the database (see [`settle`]), then makes an unmeasured run
    /// through the API, before a metric's rounds.
    async fn warm_up(
        &self,
        name: &str,
        expected: StatusCode,
        make: &MakeRequest,
    ) -> anyhow::Result<()> {
        settle(&self.db).await?;
        let config = self.config;
        let name = format!("{name} warm-up");
        drive(
            &name,
            self.address,
            config.clients,
            config.warmup,
            expected,
            make.clone(),
        )
        .await;
        Ok(())
    }

    /// `BENCH_ROUNDS` rounds of "API, then every baseline", so that
    /// whatever the database goes through during the run (growing tables,
    /// checkpoints) falls on both sides.
    async fn rounds(
        &self,
        name: &str,
        expected: StatusCode,
        make: &MakeRequest,
        baselines: &[(&str, &[Step], &Vars)],
    ) -> anyhow::Result<Rounds> {
        let (config, address) = (self.config, self.address);
        let mut rounds = Rounds {
            api: Vec::new(),
            baselines: vec![Vec::new(); baselines.len()],
        };
        for round in 1..=config.rounds {
            println!("round {round} of {}", config.rounds);
            rounds.api.push(
                drive(
                    name,
                    address,
                    config.clients,
                    config.seconds,
                    expected,
                    make.clone(),
                )
                .await,
            );
            for ((label, steps, vars), rates) in baselines.iter().zip(&mut rounds.baselines) {
                rates.push(baseline(config, self.url, label, steps, vars).await?);
            }
        }
        Ok(rounds)
    }
}

/// Which metrics to run: `BENCH_METRICS`, a comma-separated subset of
/// `reservations,slots,municipalities`; all of them by default.
fn wanted(metric: &str) -> bool {
    std::env::var("BENCH_METRICS").map_or(true, |list| list.split(',').any(|m| m.trim() == metric))
}

async fn run(config: &Config, url: &str) -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir()?;
    let mut settings = Settings {
        bind: "127.0.0.1:0".parse()?,
        data_dir: data_dir.path().to_owned(),
        ..Settings::default()
    };
    settings.database.url = Some(url.to_owned());
    settings.database.pool_size = u32::try_from(config.clients * 2)?;
    settings.http.workers = 2;
    settings.demo_slot_days = 0;
    settings.auth.rate_limit_per_minute = 10_000_000;
    let application = Application::build_with_clock(settings, Arc::new(SystemClock)).await?;
    let address = application.address();
    let db = application.db();
    tokio::spawn(application.run_until_stopped());

    println!("{}", machine(url));
    let baseline_kind = match &config.pgbench {
        Some(path) => format!("pgbench ({path}, -M prepared)"),
        None => "in-process direct SQL (pgbench not found or BENCH_BASELINE=direct)".into(),
    };
    println!(
        "{} clients, {} s measured after {} s warm-up, baseline: {baseline_kind}",
        config.clients, config.seconds, config.warmup
    );

    // Arrange: every demo service gets a schedule and slots.
    let services = arrange_slots(&db, config.slots_per_service).await?;
    println!(
        "arranged {} services × {} slots × {CAPACITY} seats",
        services.len(),
        config.slots_per_service
    );
    let bench = Bench {
        config,
        url,
        address,
        db,
        services,
    };

    let mut rows = Vec::new();
    // The page query costs PostgreSQL about half as much on slots nobody
    // booked yet: their rows still lie in start order, and an index scan
    // stops after the page. Bookings rewrite the rows elsewhere, and the
    // planner then reads the whole window and sorts it (docs/benchmarks.md).
    // Both are measured; the target is for the table as bookings leave it.
    if wanted("slots") {
        rows.push(
            slot_listing(
                &bench,
                "slot listing (unbooked)",
                "unbooked slots / slot SELECT",
                None,
            )
            .await?,
        );
    }
    if wanted("reservations") {
        rows.extend(reservations(&bench).await?);
    }
    if wanted("slots") {
        rows.push(
            slot_listing(
                &bench,
                "slot listing",
                "slot listing / slot SELECT",
                Some(SLOTS_TARGET),
            )
            .await?,
        );
    }
    if wanted("municipalities") {
        rows.push(municipalities(&bench).await?);
    }
    check_consistency(&bench.db).await?;
    report(config.rounds, rows);
    Ok(())
}

/// A. Reservations, against the booking's transaction and, for
/// information, against everything the request sends.
async fn reservations(bench: &Bench<'_>) -> anyhow::Result<[Row; 2]> {
    let config = bench.config;
    let base = format!("http://{}", bench.address);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(config.clients * 2)
        .build()?;
    let started = Instant::now();
    let tokens = sign_in_all(&client, &base, config.citizens, config.clients).await?;
    println!(
        "signed in {} citizens in {:.1} s (not measured)",
        tokens.len(),
        started.elapsed().as_secs_f64()
    );
    prepare_baseline_tables(&bench.db).await?;
    // Service-major, so a citizen's next booking comes after its session
    // went quiet, as a real one does.
    let items: Arc<Vec<(String, String)>> = Arc::new(
        bench
            .services
            .iter()
            .flat_map(|(_, slots)| {
                tokens
                    .iter()
                    .enumerate()
                    .map(|(c, token)| (token.clone(), slots[c % slots.len()].clone()))
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let book: MakeRequest = Arc::new(move || {
        let (token, slot) = items.get(next.fetch_add(1, Ordering::Relaxed))?;
        let body = serde_json::to_vec(&booking_body(slot)).expect("JSON");
        Some(
            Request::post("/v1/reservations")
                .header(header::HOST, "bench")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body)))
                .expect("a request"),
        )
    });
    // The baselines replay a confirmation the API queued, so the first
    // bookings must be made before their variables are read.
    bench
        .warm_up("reservations", StatusCode::CREATED, &book)
        .await?;
    let vars = booking_variables(&bench.db).await?;
    let slot_count = i64::try_from(bench.services.len())? * config.slots_per_service;
    let booking_tx = booking_steps(slot_count);
    // Everything the API sends: the session, then the transaction.
    let mut booking_full = session_steps(i64::try_from(tokens.len())?);
    booking_full.extend(booking_tx.iter().cloned());
    let rounds = bench
        .rounds(
            "reservations",
            StatusCode::CREATED,
            &book,
            &[
                ("booking transaction", &booking_tx, &vars),
                ("all booking SQL (session, tx)", &booking_full, &vars),
            ],
        )
        .await?;
    let [transaction, full] = <[Vec<f64>; 2]>::try_from(rounds.baselines).expect("two baselines");
    Ok([
        Row {
            metric: "reservations / booking tx",
            api: rounds.api.clone(),
            baseline: transaction,
            target: Some(RESERVATIONS_TARGET),
        },
        Row {
            metric: "reservations / all its SQL",
            api: rounds.api,
            baseline: full,
            target: None,
        },
    ])
}

/// B. A page of a service's slots against the page query.
async fn slot_listing(
    bench: &Bench<'_>,
    name: &str,
    metric: &'static str,
    target: Option<f64>,
) -> anyhow::Result<Row> {
    let (service_id, _) = &bench.services[0];
    let zone = chrono_tz::Europe::Athens;
    let today = Utc::now().with_timezone(&zone).date_naive();
    let to = today + Span::days(14);
    let list = get(format!(
        "/v1/services/{service_id}/slots?from={today}&to={to}"
    ));
    let now = Utc::now();
    let earliest = now.naive_utc().max(local_midnight(today, zone));
    let latest = (now + Span::days(60))
        .naive_utc()
        .min(local_midnight(to + Span::days(1), zone));
    let timestamp = |t: chrono::NaiveDateTime| Some(t.format("%Y-%m-%d %H:%M:%S%.6f").to_string());
    let vars = HashMap::from([
        ("service_id".to_owned(), Some(service_id.clone())),
        ("earliest".to_owned(), timestamp(earliest)),
        ("latest".to_owned(), timestamp(latest)),
    ]);
    bench.warm_up(name, StatusCode::OK, &list).await?;
    let rounds = bench
        .rounds(
            name,
            StatusCode::OK,
            &list,
            &[("slot SELECT", &slot_select(), &vars)],
        )
        .await?;
    Ok(Row {
        metric,
        api: rounds.api,
        baseline: rounds.baselines.concat(),
        target,
    })
}

/// C, for information: the smallest page there is, one query for two
/// rows, shows what any endpoint pays for HTTP and the hop to the
/// blocking pool, whatever its query.
async fn municipalities(bench: &Bench<'_>) -> anyhow::Result<Row> {
    let page = get("/v1/municipalities".to_owned());
    bench
        .warm_up("municipalities", StatusCode::OK, &page)
        .await?;
    let rounds = bench
        .rounds(
            "municipalities",
            StatusCode::OK,
            &page,
            &[(
                "municipalities SELECT",
                &municipalities_select(),
                &HashMap::new(),
            )],
        )
        .await?;
    Ok(Row {
        metric: "municipalities / its SELECT",
        api: rounds.api,
        baseline: rounds.baselines.concat(),
        target: None,
    })
}

fn report(rounds: u32, rows: Vec<Row>) {
    println!();
    println!("medians of {rounds} rounds; ratio: the median of the rounds' ratios");
    println!(
        "{:<32} {:>9} {:>11} {:>6} {:>7}  result",
        "metric", "API/s", "baseline/s", "ratio", "target"
    );
    for row in rows {
        let ratio = median(row.api.iter().zip(&row.baseline).map(|(a, b)| a / b));
        let (api, baseline) = (median(row.api), median(row.baseline));
        let (target, result) = match row.target {
            Some(t) if ratio >= t => (format!("{t:.2}"), "PASS"),
            Some(t) => (format!("{t:.2}"), "BELOW"),
            None => ("-".into(), "(information)"),
        };
        println!(
            "{:<32} {:>9.1} {:>11.1} {:>6.2} {:>7}  {result}",
            row.metric, api, baseline, ratio, target
        );
    }
    println!();
}

fn machine(url: &str) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Text)]
        version: String,
    }
    let server = PgConnection::establish(url)
        .ok()
        .and_then(|mut c| {
            diesel::sql_query("SELECT version() AS version")
                .get_result::<Version>(&mut c)
                .ok()
        })
        .map_or_else(|| "unknown server".into(), |v| v.version);
    format!("machine: {model}, {cores} cores; {server}")
}

/// A schedule (no notice, 60 days ahead) and hourly slots from the next
/// hour on, for every service; answers (service id, slot ids) per service.
async fn arrange_slots(db: &Db, per_service: i64) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    let db = db.clone();
    tokio::task::spawn_blocking(move || {
        db.run_blocking(|conn| {
            use citizen_api::db::schema::{service_categories, slots};
            let services: Vec<String> = service_categories::table
                .order(service_categories::id)
                .select(service_categories::id)
                .load(conn)?;
            anyhow::ensure!(!services.is_empty(), "the demo catalogue has no services");
            let now = Utc::now().trunc_subsecs(0);
            let mut arranged = Vec::new();
            for service in services {
                save_schedule(
                    conn,
                    &ScheduleRow {
                        service_id: service.clone(),
                        weekly_hours: "[]".into(),
                        seats_per_slot: CAPACITY,
                        min_notice_minutes: 0,
                        max_advance_days: 60,
                        closed_dates: "[]".into(),
                        open_dates: "[]".into(),
                        updated_at: now.naive_utc(),
                    },
                )?;
                let times: Vec<_> = (1..=per_service)
                    .map(|h| {
                        let start = now + Span::hours(h);
                        (start, start + Span::minutes(20))
                    })
                    .collect();
                insert_slots(conn, &service, &times, CAPACITY, now.naive_utc())?;
                let ids: Vec<String> = slots::table
                    .filter(slots::service_id.eq(&service))
                    .order(slots::starts_at)
                    .select(slots::id)
                    .load(conn)?;
                arranged.push((service, ids));
            }
            Ok(arranged)
        })
    })
    .await?
}

/// A valid AFM for any number: eight digits and the check digit.
fn afm(n: u32) -> String {
    let digits = format!("{:08}", n % 100_000_000 + 10_000_000);
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') << (8 - i))
        .sum();
    format!("{digits}{}", sum % 11 % 10)
}

/// The browser's way through the development TAXISnet provider.
async fn sign_in(client: &reqwest::Client, base: &str, afm: &str) -> anyhow::Result<String> {
    let location = |response: &reqwest::Response| -> anyhow::Result<String> {
        anyhow::ensure!(
            response.status() == reqwest::StatusCode::FOUND,
            "expected a redirect, got {}",
            response.status()
        );
        Ok(response.headers()["location"].to_str()?.to_owned())
    };
    let login = client.get(format!("{base}/v1/auth/login")).send().await?;
    let mut authorize = reqwest::Url::parse(&location(&login)?)?;
    // The callback signs in only the browser holding the login's cookie.
    let cookie = login
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("the login set no cookie"))?
        .to_owned();
    authorize.query_pairs_mut().append_pair("login_hint", afm);
    let approved = client.get(authorize).send().await?;
    let callback = location(&approved)?;
    let answer: serde_json::Value = client
        .get(callback)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await?
        .json()
        .await?;
    answer["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("the callback did not sign in: {answer}"))
}

async fn sign_in_all(
    client: &reqwest::Client,
    base: &str,
    count: u32,
    parallel: usize,
) -> anyhow::Result<Vec<String>> {
    let next = Arc::new(AtomicUsize::new(0));
    let count = usize::try_from(count)?;
    let mut tasks = Vec::new();
    for _ in 0..parallel {
        let (client, base, next) = (client.clone(), base.to_owned(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut signed = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return anyhow::Ok(signed);
                }
                let afm = afm(1000 + u32::try_from(n)?);
                signed.push((n, sign_in(&client, &base, &afm).await?));
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    all.sort();
    Ok(all.into_iter().map(|(_, token)| token).collect())
}

fn booking_body(slot_id: &str) -> serde_json::Value {
    serde_json::json!({
        "slot_id": slot_id,
        "full_name": "Μαρία Παπαδοπούλου",
        "email": "maria@example.gr",
        "phone": "6912345678",
        "special_requirements": "Πρόσβαση με αμαξίδιο"
    })
}

/// The next request of a phase; `None` when the prepared work ran out
/// (every citizen booked every service).
type MakeRequest = Arc<dyn Fn() -> Option<Request<Full<Bytes>>> + Send + Sync>;

/// The same `GET` every time, public (no session).
fn get(path: String) -> MakeRequest {
    Arc::new(move || {
        Some(
            Request::get(&path)
                .header(header::HOST, "bench")
                .body(Full::new(Bytes::new()))
                .expect("a request"),
        )
    })
}

/// One HTTP/1.1 keep-alive connection, as each pgbench client holds one
/// database connection: no client pool, no URL parsing, no redirects.
async fn connect(address: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Sends requests from `clients` tasks, each over its own connection, for
/// `seconds`; answers the rate of `expected` answers, over the time until
/// the last task finished. Anything else is printed.
async fn drive(
    name: &str,
    address: SocketAddr,
    clients: usize,
    seconds: u64,
    expected: StatusCode,
    make: MakeRequest,
) -> f64 {
    if seconds == 0 {
        return 0.0;
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let exhausted = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (make, exhausted) = (make.clone(), exhausted.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failures) = (0u64, Vec::new());
            let mut sender = None;
            while Instant::now() < deadline {
                let Some(request) = make() else {
                    exhausted.store(true, Ordering::Relaxed);
                    break;
                };
                let outcome = async {
                    let connection = match &mut sender {
                        Some(connection) => connection,
                        empty => empty.insert(connect(address).await?),
                    };
                    let response = connection.send_request(request).await?;
                    let status = response.status();
                    let body = response.into_body().collect().await?.to_bytes();
                    anyhow::ensure!(
                        status == expected,
                        "answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                    anyhow::Ok(())
                };
                match outcome.await {
                    Ok(()) => ok += 1,
                    Err(e) => {
                        // A broken connection is opened again.
                        sender.take_if(|s| s.is_closed());
                        failures.push(e.to_string());
                    }
                }
            }
            (ok, failures)
        }));
    }
    let (mut ok, mut failures) = (0, Vec::new());
    for task in tasks {
        let (n, f) = task.await.expect("a load task");
        ok += n;
        failures.extend(f);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = ok as f64 / elapsed;
    println!("{name}: {ok} in {elapsed:.2} s = {rate:.1}/s through the API");
    if exhausted.load(Ordering::Relaxed) {
        println!("  NOTE: ran out of prepared work early; raise BENCH_CITIZENS");
    }
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

/// Runs `work` on one of the application's PostgreSQL connections, off
/// the async threads.
async fn with_postgres<T: Send + 'static>(
    db: &Db,
    work: impl FnOnce(&mut PgConnection) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let db = db.clone();
    tokio::task::spawn_blocking(move || {
        db.run_blocking(|conn| {
            let citizen_api::db::DbConn::Postgres(pg) = conn else {
                anyhow::bail!("the bench runs on PostgreSQL");
            };
            work(pg)
        })
    })
    .await?
}

/// Lets the work earlier metrics left behind finish before the next one
/// starts, so that it does not fall on whichever rounds happen to run
/// while it is done: the outbox worker delivers the confirmations the
/// bookings and their baseline queued (tens of thousands, for half a
/// minute after the last booking), then `VACUUM ANALYZE` removes the dead
/// row versions the bookings left and lets the planner see the tables as
/// they now are, instead of autovacuum doing both in the middle of some
/// round. pgbench, too, vacuums before it measures.
async fn settle(db: &Db) -> anyhow::Result<()> {
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let started = Instant::now();
    let waited = with_postgres(db, move |pg| {
        let mut waited = false;
        while diesel::sql_query(
            "SELECT count(*) AS count FROM outbox_messages \
             WHERE status = 'pending' AND next_attempt_at <= now() AT TIME ZONE 'UTC'",
        )
        .get_result::<Due>(pg)?
        .count
            > 0
        {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(600),
                "the outbox did not drain in ten minutes"
            );
            waited = true;
            std::thread::sleep(Duration::from_millis(500));
        }
        pg.batch_execute("VACUUM ANALYZE")?;
        Ok(waited)
    })
    .await?;
    if waited {
        println!(
            "settled: the outbox drained and the database vacuumed in {:.1} s (not measured)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Lookup tables the baseline uses to pick a random slot or session by
/// number inside its statements (pgbench has integers, not our text ids).
async fn prepare_baseline_tables(db: &Db) -> anyhow::Result<()> {
    let db = db.clone();
    tokio::task::spawn_blocking(move || {
        db.run_blocking(|conn| {
            conn.batch_execute(
                "CREATE TABLE bench_slot_pick AS \
                   SELECT row_number() OVER (ORDER BY id)::int AS n, id AS slot_id FROM slots; \
                 ALTER TABLE bench_slot_pick ADD PRIMARY KEY (n); \
                 CREATE TABLE bench_session_pick AS \
                   SELECT row_number() OVER (ORDER BY id)::int AS n, token_hash FROM sessions; \
                 ALTER TABLE bench_session_pick ADD PRIMARY KEY (n); \
                 ANALYZE;",
            )?;
            Ok(())
        })
    })
    .await?
}

/// What the baseline inserts: the bytes of a confirmation the API queued.
async fn booking_variables(db: &Db) -> anyhow::Result<Vars> {
    #[derive(QueryableByName)]
    struct Sample {
        #[diesel(sql_type = Text)]
        full_name: String,
        #[diesel(sql_type = Text)]
        email: String,
        #[diesel(sql_type = Text)]
        phone: String,
        #[diesel(sql_type = Text)]
        special: String,
        #[diesel(sql_type = Text)]
        subject: String,
        #[diesel(sql_type = Text)]
        body: String,
        #[diesel(sql_type = Text)]
        lang: String,
        #[diesel(sql_type = Text)]
        filename: String,
        #[diesel(sql_type = Text)]
        ctype: String,
        #[diesel(sql_type = Text)]
        ics: String,
    }
    let sample = with_postgres(db, |pg| {
        Ok(diesel::sql_query(
            "SELECT r.full_name, r.email, r.phone, r.special_requirements AS special, \
                    encode(m.subject, 'hex') AS subject, encode(m.body, 'hex') AS body, \
                    m.language AS lang, a.filename, \
                    a.content_type AS ctype, encode(a.content, 'hex') AS ics \
             FROM reservations r, outbox_messages m \
             JOIN outbox_attachments a ON a.message_id = m.id \
             WHERE m.channel = 'email' LIMIT 1",
        )
        .get_result::<Sample>(pg)?)
    })
    .await?;
    Ok([
        ("full_name", sample.full_name),
        ("email", sample.email),
        ("phone", sample.phone),
        ("special", sample.special),
        ("subject", sample.subject),
        ("body", sample.body),
        ("lang", sample.lang),
        ("filename", sample.filename),
        ("ctype", sample.ctype),
        ("ics", sample.ics),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), Some(v)))
    .collect())
}

/// One step of a baseline script: pgbench's `\set name random(lo, hi)`, or
/// a statement, optionally with `\gset` (its one row's columns become
/// variables). `:name` is a variable.
#[derive(Clone)]
enum Step {
    Random(&'static str, i64, i64),
    Sql(&'static str, bool),
}

use Step::{Random, Sql};

/// The statements of `booking::book` and the response's view, in order,
/// as diesel sends them (bind parameters here are pgbench variables).
fn booking_steps(slots: i64) -> Vec<Step> {
    vec![
        Random("n", 1, slots),
        Random("k", 1, 1_000_000_000_000_000_000),
        Random("afm", 100_000_000, 999_999_999),
        Sql("BEGIN", false),
        // store::take_seat, which reads the slot back
        Sql(
            "UPDATE slots SET booked = booked + 1 \
             WHERE id = (SELECT slot_id FROM bench_slot_pick WHERE n = :n) \
             AND booked < capacity AND withdrawn_at IS NULL \
             AND starts_at > (now() AT TIME ZONE 'UTC') \
             AND starts_at <= (now() AT TIME ZONE 'UTC') + interval '366 days' \
             RETURNING id AS slot_id, service_id, starts_at, ends_at, capacity, booked, withdrawn_at",
            true,
        ),
        // store::service_context, which brings the booking window along
        Sql(SERVICE_CONTEXT, true),
        // store::release_past_upcoming
        Sql(
            "UPDATE reservations SET upcoming_key = NULL \
             WHERE upcoming_key = CAST(:k AS text) || ':' || :service_id \
             AND starts_at <= (now() AT TIME ZONE 'UTC')",
            false,
        ),
        // store::insert
        Sql(
            "INSERT INTO reservations (id, slot_id, service_id, department_id, municipality_id, \
               starts_at, ends_at, status, citizen_afm, full_name, email, phone, \
               special_requirements, legal_entity_name, legal_entity_afm, upcoming_key, \
               identity_document, cancel_reason, checked_in_at, closed_at, anonymized_at, \
               created_at, updated_at, language, revision, reminder_handled_at) \
             VALUES (gen_random_uuid()::text, :slot_id, :service_id, :department_id, \
               :municipality_id, CAST(:starts_at AS timestamp), CAST(:ends_at AS timestamp), \
               'confirmed', CAST(:afm AS text), :full_name, :email, :phone, :special, \
               DEFAULT, DEFAULT, CAST(:k AS text) || ':' || :service_id, DEFAULT, DEFAULT, \
               DEFAULT, DEFAULT, DEFAULT, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), \
               :lang, 0, DEFAULT)",
            false,
        ),
        // queue_confirmation: documents_for, then notify::enqueue. The
        // sealed texts are the sample's bytes, bound to the sample's id: the
        // worker cannot open them under the copy's and gives the copy up
        // (`dead`) instead of delivering it; the insert costs the same.
        Sql(DOCUMENTS, false),
        Sql(
            "INSERT INTO outbox_messages (id, channel, recipient, subject, body, language, \
               status, attempts, next_attempt_at, created_at) \
             VALUES (gen_random_uuid()::text, 'email', :email, decode(:subject, 'hex'), \
               decode(:body, 'hex'), :lang, \
               'pending', 0, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC')) \
             RETURNING id AS message_id",
            true,
        ),
        Sql(
            "INSERT INTO outbox_attachments (message_id, position, filename, content_type, content) \
             VALUES (:message_id, 0, :filename, :ctype, decode(:ics, 'hex'))",
            false,
        ),
        // The 201's body is built from what is already loaded.
        Sql("COMMIT", false),
    ]
}

const SERVICE_CONTEXT: &str = "SELECT service_categories.id, service_categories.name_el, \
       service_categories.name_en, service_categories.serves_legal_entities, \
       departments.id AS department_id, departments.name_el, departments.name_en, \
       departments.email, municipalities.id AS municipality_id, municipalities.name_el, \
       municipalities.name_en, municipalities.time_zone, \
       service_schedules.min_notice_minutes, service_schedules.max_advance_days \
     FROM service_categories INNER JOIN (departments INNER JOIN municipalities \
       ON departments.municipality_id = municipalities.id) \
       ON service_categories.department_id = departments.id \
       LEFT OUTER JOIN service_schedules ON service_schedules.service_id = service_categories.id \
     WHERE service_categories.id = :service_id LIMIT 1";

const DOCUMENTS: &str = "SELECT id, service_id, purpose, position, name_el, name_en \
     FROM service_documents WHERE service_id = ANY(ARRAY[:service_id]) \
     ORDER BY purpose, position";

/// `CurrentSession`: the session by its token's hash (roles are loaded only
/// by the endpoints that need them). The idle-time touch is left out: a
/// session is touched at most once a minute, and here a citizen books
/// every second or two, so about 3 % of the requests touch.
fn session_steps(sessions: i64) -> Vec<Step> {
    vec![
        Random("session", 1, sessions),
        Sql(
            "SELECT id AS session_id, token_hash, afm AS session_afm, first_name, last_name, \
               father_name, created_at, last_seen_at, expires_at, strong_at FROM sessions \
             WHERE token_hash = \
               (SELECT token_hash FROM bench_session_pick WHERE n = :session) LIMIT 1",
            true,
        ),
    ]
}

/// `slots_between`, the query that lists a page (the default 50, plus one
/// to know whether there is a next page).
fn slot_select() -> Vec<Step> {
    vec![Sql(
        "SELECT id, starts_at, ends_at, capacity, booked FROM slots \
         WHERE service_id = :service_id AND withdrawn_at IS NULL \
         AND starts_at > CAST(:earliest AS timestamp) AND starts_at <= CAST(:latest AS timestamp) \
         AND booked < capacity ORDER BY starts_at, id LIMIT 51",
        false,
    )]
}

/// `list_municipalities`' first page.
fn municipalities_select() -> Vec<Step> {
    vec![Sql(
        "SELECT id, name_el, name_en, contact_email, time_zone, created_at FROM municipalities \
         ORDER BY name_el, id LIMIT 51",
        false,
    )]
}

/// Runs a baseline at the bench's concurrency: a warm-up, then the
/// measured run; answers transactions per second.
async fn baseline(
    config: &Config,
    url: &str,
    name: &str,
    steps: &[Step],
    vars: &Vars,
) -> anyhow::Result<f64> {
    let (url, steps, vars) = (url.to_owned(), steps.to_vec(), vars.clone());
    let (clients, warmup, seconds) = (config.clients, config.warmup, config.seconds);
    let pgbench = config.pgbench.clone();
    let tps = tokio::task::spawn_blocking(move || match pgbench {
        Some(pgbench) => {
            let script = pgbench_script(&steps);
            let file = tempfile::Builder::new().suffix(".sql").tempfile()?;
            std::fs::write(file.path(), script)?;
            if warmup > 0 {
                run_pgbench(&pgbench, &url, file.path(), &vars, clients, warmup)?;
            }
            run_pgbench(&pgbench, &url, file.path(), &vars, clients, seconds)
        }
        None => {
            if warmup > 0 {
                run_direct(&url, &steps, &vars, clients, warmup)?;
            }
            run_direct(&url, &steps, &vars, clients, seconds)
        }
    })
    .await??;
    println!("{name}: {tps:.1}/s directly");
    Ok(tps)
}

fn pgbench_script(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|step| match step {
            Random(name, lo, hi) => format!("\\set {name} random({lo}, {hi})\n"),
            Sql(sql, true) => format!("{sql} \\gset\n"),
            Sql(sql, false) => format!("{sql};\n"),
        })
        .collect()
}

fn run_pgbench(
    pgbench: &str,
    url: &str,
    script: &std::path::Path,
    vars: &Vars,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<f64> {
    let mut command = std::process::Command::new(pgbench);
    command
        .args([
            "-n",
            "-M",
            &std::env::var("BENCH_PGBENCH_MODE").unwrap_or_else(|_| "prepared".into()),
            "-c",
            &clients.to_string(),
        ])
        .args(["-j", "2", "-T", &seconds.to_string(), "-f"])
        .arg(script);
    for (name, value) in vars {
        command
            .arg("-D")
            .arg(format!("{name}={}", value.as_deref().unwrap_or("")));
    }
    let output = command.arg(url).output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failed = stdout
        .lines()
        .find(|l| l.starts_with("number of failed transactions"))
        .is_some_and(|l| !l.contains(": 0 "));
    if !output.status.success() || failed {
        anyhow::bail!("pgbench failed ({}):\n{stdout}\n{stderr}", output.status);
    }
    stdout
        .lines()
        .find(|l| l.starts_with("tps = ") && l.contains("without initial connection time"))
        .and_then(|l| l["tps = ".len()..].split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no tps line in pgbench's output:\n{stdout}"))
}

/// The fallback when pgbench is missing: the same steps on `clients`
/// threads, each with its own connection. Variables are substituted as
/// quoted literals (pgbench's simple protocol), and a `\gset` statement is
/// wrapped to answer its row as JSON, so it is a little slower than
/// pgbench's prepared statements.
fn run_direct(
    url: &str,
    steps: &[Step],
    vars: &Vars,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<f64> {
    #[derive(QueryableByName)]
    struct Json {
        #[diesel(sql_type = Text)]
        j: String,
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let done = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<u64> {
                    let mut conn = PgConnection::establish(url)?;
                    let mut vars = vars.clone();
                    let mut done = 0;
                    while Instant::now() < deadline {
                        for step in steps {
                            match step {
                                Random(name, lo, hi) => {
                                    let n = fastrand::i64(*lo..=*hi);
                                    vars.insert((*name).to_owned(), Some(n.to_string()));
                                }
                                Sql(sql, false) => conn.batch_execute(&substitute(sql, &vars))?,
                                Sql(sql, true) => {
                                    let wrapped = format!(
                                        "WITH q AS ({}) SELECT row_to_json(q)::text AS j FROM q",
                                        substitute(sql, &vars)
                                    );
                                    let row: Json =
                                        diesel::sql_query(wrapped).get_result(&mut conn)?;
                                    let object: serde_json::Map<String, serde_json::Value> =
                                        serde_json::from_str(&row.j)?;
                                    for (name, value) in object {
                                        let value = match value {
                                            serde_json::Value::Null => None,
                                            serde_json::Value::String(s) => Some(s),
                                            other => Some(other.to_string()),
                                        };
                                        vars.insert(name, value);
                                    }
                                }
                            }
                        }
                        done += 1;
                    }
                    Ok(done)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a baseline thread"))
            .sum::<anyhow::Result<u64>>()
    })?;
    Ok(done as f64 / started.elapsed().as_secs_f64())
}

/// Replaces `:name` by the variable as a quoted literal (or NULL); leaves
/// `::` casts and unknown names alone.
fn substitute(sql: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(':') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        match vars.get(name) {
            Some(value) if !name.is_empty() && !out.ends_with(':') => {
                match value {
                    Some(v) => {
                        out.push('\'');
                        out.push_str(&v.replace('\'', "''"));
                        out.push('\'');
                    }
                    None => out.push_str("NULL"),
                }
                rest = &after[len..];
            }
            _ => {
                out.push(':');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Seats taken equal reservations made, and no slot filled up: otherwise a
/// baseline's seat UPDATE may have found nothing and done less work.
async fn check_consistency(db: &Db) -> anyhow::Result<()> {
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seats: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        reservations: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        full_slots: i64,
    }
    let counts = with_postgres(db, |pg| {
        Ok(diesel::sql_query(
            "SELECT (SELECT coalesce(sum(booked), 0) FROM slots)::bigint AS seats, \
                    (SELECT count(*) FROM reservations) AS reservations, \
                    (SELECT count(*) FROM slots WHERE booked >= capacity) AS full_slots",
        )
        .get_result::<Counts>(pg)?)
    })
    .await?;
    println!(
        "check: {} seats taken, {} reservations, {} full slots{}",
        counts.seats,
        counts.reservations,
        counts.full_slots,
        if counts.seats == counts.reservations && counts.full_slots == 0 {
            " (consistent)"
        } else {
            "  INCONSISTENT: a baseline did less work than a booking"
        }
    );
    Ok(())
}
