//! Consented photo fetches (`GET /v1/citizens/{afm}/photos/face`) through
//! the API, on PostgreSQL, against (a) the same SQL run by `pgbench`, and
//! (b) nginx serving the same image bytes as a static file, all at the
//! same concurrency and driven the same way (docs/benchmarks.md,
//! "Consented photo fetches"). The SQL is recorded from one fetch, as in
//! `reservations`, and replayed with the citizen and the access-log row's
//! id made into pgbench variables.
//!
//! `cargo bench --bench photo_fetch`; `BENCH_DATABASE_URL` names a server
//! on which a fresh database is created and dropped again.

mod support;

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::Utc;
use citizen_api::auth::HmacKey;
use citizen_api::consent::grants;
use citizen_api::db::write_transaction;
use citizen_api::dev::{demo, demo_apps, demo_photos, fixtures};
use citizen_api::domain::Afm;
use citizen_api::domain::ids::{AppId, ClientId, StudioId, SubmissionId};
use citizen_api::http::ApiError;
use citizen_api::oauth::store::AppRow;
use citizen_api::oauth::{AppPurpose, Scope};
use citizen_api::photos::store::{self as photo_store, StudioRow};
use citizen_api::{Settings, app};
use diesel::connection::SimpleConnection;
use reqwest::StatusCode;
use secrecy::SecretString;
use support::{Bench, Load, MakeRequest, Rate, number, pgbench_script};
use tempfile::TempDir;
use tokio::task::JoinSet;

/// Not a secret: the bench's application's, on a database of its own.
const CLIENT_SECRET: &str = "bench-only-photo-fetch-client-secret";
/// Uploads made at once while arranging: the image checks are CPU work.
const UPLOADERS: usize = 4;

fn main() -> Result<()> {
    support::on_fresh_database("photo_fetch", run)
}

fn run(url: String) -> Result<()> {
    // Both instances share one data directory: the vault the fetches read,
    // and the keys the access tokens are signed with.
    let data = tempfile::tempdir()?;
    let (b, serving) = Bench::start(url, 32, data.path(), data.path())?;
    let (client_id, citizens) = arrange(&b, &serving)?;

    // One fetch on the recording instance, with a token of its own (a
    // token names the instance that issued it): its statements, and the
    // image as served, which the load checks every answer against and
    // nginx serves.
    let (afm, submission) = citizens.last().context("no citizens")?;
    let token = b.rt.block_on(access_token(b.recording(), &client_id))?;
    let request = fetch(&support::client(), b.recording(), &token, afm.as_str());
    let (statements, face) = b.record(request, Some(StatusCode::OK))?;
    let varying = [
        (afm.to_string(), "citizen.linked_afm"),
        (submission.to_string(), ":citizen_id"),
        (access_logged(&b)?, ":id"),
    ];
    let (script, vars) = pgbench_script(&statements, &varying)?;
    let picks = [
        format!("\\set citizen random(1, {})", citizens.len()),
        "\\set id random(1, 9000000000000000000)".into(),
    ];
    let sql = Rate::Pgbench(([&picks[..], &script].concat(), vars));
    println!("the image: {} bytes", face.len());

    let mut baselines = vec![("photo fetch / its SQL", sql, Some(0.5))];
    let nginx = Nginx::serve(&face)?;
    if let Some(nginx) = &nginx {
        let file = format!("{}/face.jpg", nginx.base);
        let get: Arc<MakeRequest> = Arc::new(move |client| Some(client.get(&file)));
        let load = Load {
            server: "nginx",
            status: StatusCode::OK,
            length: Some(face.len()),
            make: get,
        };
        baselines.push(("photo fetch / nginx, static", Rate::Http(load), None));
    }

    // Random citizens, each fetch with the round's token: a token lives
    // ten minutes at most, and a run of the defaults takes three.
    let current = Arc::new(RwLock::new(String::new()));
    let (api, token) = (b.api.clone(), current.clone());
    let afms: Vec<String> = citizens.iter().map(|(afm, _)| afm.to_string()).collect();
    let get: Arc<MakeRequest> = Arc::new(move |client| {
        let afm = &afms[fastrand::usize(..afms.len())];
        Some(fetch(client, &api, &token.read().expect("the token"), afm))
    });
    let load = Load {
        length: Some(face.len()),
        ..Load::api(StatusCode::OK, get)
    };
    let fresh_token = || {
        let token = b.rt.block_on(access_token(&b.api, &client_id))?;
        *current.write().expect("the token") = token;
        Ok(())
    };
    let table = support::measure(&b, "photo fetch", &load, &baselines, &fresh_token)?;
    drop(nginx);
    support::report(&b, &table);
    Ok(())
}

/// An application registered for identity documents with `photos:face`,
/// and `BENCH_CITIZENS` citizens, each with photos linked (a studio's
/// upload of the same images, made as the demo citizen's is) and a consent
/// for that application; answers its client id and the citizens with
/// their submissions.
fn arrange(b: &Bench, settings: &Settings) -> Result<(ClientId, Vec<(Afm, SubmissionId)>)> {
    let started = Instant::now();
    let count: u32 = number("BENCH_CITIZENS", 1000);
    let total = usize::try_from(count)?;
    let now = Utc::now();
    let at = now.naive_utc();
    let hmac = HmacKey::load(None, &settings.data_dir)?;
    let photos = Arc::new(app::photo_services(settings, hmac)?);
    let application = AppRow {
        id: AppId::generate(),
        client_id: ClientId::generate(),
        name: "Bench".into(),
        organization: "Bench".into(),
        purpose: AppPurpose::IdentityDocuments,
        scopes: Scope::PhotosFace.as_str().into(),
        created_at: at,
        disabled_at: None,
    };
    let studio = Arc::new(StudioRow {
        id: StudioId::generate(),
        name: "Bench".into(),
        business_afm: Afm::parse("800123456")?,
        owner_afm: Afm::parse(demo::PHOTOGRAPHER)?,
        created_at: at,
    });
    b.db.run_blocking(|conn| {
        let secret = SecretString::from(CLIENT_SECRET);
        demo_apps::register_app(conn, &application, &secret, at)?;
        photo_store::insert_studio(conn, &studio)?;
        Ok(())
    })?;
    // The uploads go to the demo citizen's mobile, whose code nobody reads:
    // the bench links them in the store, as the demo seeds its consent.
    let mobile_of = Afm::parse(demo::CITIZEN)?;
    let mut uploaders = JoinSet::new();
    for uploader in 0..UPLOADERS {
        let (photos, db, studio, mobile_of) = (
            photos.clone(),
            b.db.clone(),
            studio.clone(),
            mobile_of.clone(),
        );
        let mine = (uploader..total).step_by(UPLOADERS).count();
        uploaders.spawn_on(
            async move {
                let mut submissions = Vec::with_capacity(mine);
                for _ in 0..mine {
                    let upload = demo_photos::upload(&photos, &db, &studio, &mobile_of, now);
                    submissions.push(upload.await?);
                }
                anyhow::Ok(submissions)
            },
            b.rt.handle(),
        );
    }
    let submissions = b.rt.block_on(uploaders.join_all());
    let submissions = submissions
        .into_iter()
        .collect::<Result<Vec<_>>>()?
        .concat();
    let afms = (0..count).map(|n| Afm::parse(&fixtures::afm(2000 + n)));
    let afms = afms.collect::<Result<Vec<_>, _>>()?;
    let citizens: Vec<(Afm, SubmissionId)> = afms.into_iter().zip(submissions).collect();
    let app_id = application.id.clone();
    let linked = citizens.clone();
    b.db.run_blocking(move |conn| {
        write_transaction(conn, |tx| {
            for (afm, submission) in &linked {
                photo_store::link(tx, submission, afm, at)?
                    .map_err(|refused| ApiError::internal(format!("{refused:?}")))?;
                grants::grant(tx, afm, &app_id, at)?;
            }
            Ok::<_, ApiError>(())
        })
        .map_err(|e| anyhow::anyhow!("linking and consenting: {e}"))?;
        // For the baseline, which picks a random citizen by number.
        conn.batch_execute(
            "CREATE TABLE bench_citizen_pick AS \
               SELECT row_number() OVER (ORDER BY linked_afm)::int AS n, linked_afm AS v \
               FROM photo_submissions WHERE linked_afm IS NOT NULL; \
             ALTER TABLE bench_citizen_pick ADD PRIMARY KEY (n);",
        )?;
        Ok(())
    })?;
    let seconds = started.elapsed().as_secs_f64();
    println!("arranged {count} citizens with linked photos and consent in {seconds:.1} s");
    Ok((application.client_id, citizens))
}

/// The id of the access-log row the recorded fetch wrote: the only one yet.
fn access_logged(b: &Bench) -> Result<String> {
    b.db.run_blocking(|conn| {
        use diesel::prelude::*;
        use diesel::sql_types::Text;
        let id = diesel::dsl::sql::<Text>("id FROM photo_access_log");
        Ok(diesel::select(id).get_result::<String>(conn)?)
    })
}

fn fetch(client: &reqwest::Client, api: &str, token: &str, afm: &str) -> reqwest::RequestBuilder {
    let url = format!("{api}/v1/citizens/{afm}/photos/face");
    client.get(url).bearer_auth(token)
}

/// An access token for `photos:face` from the instance at `api`, as an
/// integrator takes one (`POST /oauth/token`, client credentials).
async fn access_token(api: &str, client: &ClientId) -> Result<String> {
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "photos:face"),
    ];
    let request = (support::client().post(format!("{api}/oauth/token")))
        .basic_auth(client, Some(CLIENT_SECRET))
        .form(&form);
    let body = support::exchange(request, Some(StatusCode::OK), None).await?;
    let answer: serde_json::Value = serde_json::from_slice(&body)?;
    let token = answer["access_token"].as_str().context("no access_token")?;
    Ok(token.to_owned())
}

/// nginx serving one file, `face.jpg`, on a free port of the loopback,
/// from a directory of its own; stopped (`-s stop`) when dropped.
struct Nginx {
    base: String,
    /// The binary and its arguments but the signal.
    command: Vec<String>,
    child: Child,
    _dir: TempDir,
}

impl Nginx {
    /// Starts `BENCH_NGINX` (`/usr/sbin/nginx`) serving `image`; `None`,
    /// said, when there is no nginx there.
    fn serve(image: &[u8]) -> Result<Option<Nginx>> {
        let binary = std::env::var("BENCH_NGINX").unwrap_or("/usr/sbin/nginx".into());
        if !Path::new(&binary).exists() {
            println!("no nginx at {binary} (BENCH_NGINX): its row is left out");
            return Ok(None);
        }
        let dir = tempfile::tempdir()?;
        let root = dir.path().join("www");
        std::fs::create_dir(&root)?;
        std::fs::write(root.join("face.jpg"), image)?;
        // Started as root, nginx's workers run as `nobody`: they must be
        // able to read the file.
        for path in [dir.path(), &root] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
        }
        std::fs::set_permissions(
            root.join("face.jpg"),
            std::fs::Permissions::from_mode(0o644),
        )?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let d = dir.path().display();
        // Debian's own nginx.conf turns sendfile on; the keep-alive limit is
        // raised so that, like the API's, every connection lives the run.
        let conf = format!(
            "daemon off;\nworker_processes 2;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  sendfile on;\n  keepalive_requests 1000000;\n  \
             types {{ image/jpeg jpg; }}\n  client_body_temp_path {d}/body;\n  \
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             server {{ listen 127.0.0.1:{port}; root {d}/www; }}\n}}\n"
        );
        let conf_path = dir.path().join("nginx.conf").display().to_string();
        std::fs::write(&conf_path, conf)?;
        let error_log = format!("{d}/error.log");
        let command = vec![
            binary.clone(),
            "-p".into(),
            d.to_string(),
            "-e".into(),
            error_log.clone(),
            "-c".into(),
            conf_path,
        ];
        let child = Command::new(&binary)
            .args(&command[1..])
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {binary}"))?;
        let mut nginx = Nginx {
            base: format!("http://127.0.0.1:{port}"),
            command,
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = || std::fs::read_to_string(&error_log).unwrap_or_default();
            if let Some(status) = nginx.child.try_wait()? {
                anyhow::bail!("nginx stopped ({status}):\n{}", log());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "nginx did not listen:\n{}",
                log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let version = Command::new(&binary).arg("-v").output()?.stderr;
        let version = String::from_utf8_lossy(&version);
        println!("{} on {}, 2 workers", version.trim(), nginx.base);
        Ok(Some(nginx))
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let (binary, arguments) = self.command.split_first().expect("a binary");
        let stop = Command::new(binary)
            .args(arguments)
            .args(["-s", "stop"])
            .status();
        if !stop.is_ok_and(|s| s.success()) {
            // Its workers then outlive it; say so rather than hide it.
            eprintln!("nginx did not stop; killing its master process");
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
