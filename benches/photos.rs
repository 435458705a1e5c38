//! Uploads of maximum-size photos through the API, many at once: uploads
//! per second, and the process's peak resident memory against the target
//! (docs/benchmarks.md, "Photo uploads"). The server runs in this process
//! on a SQLite file; the clients share one copy of each image, so what the
//! peak counts beyond the server is a few megabytes.
//!
//! `cargo bench --bench photos`; `BENCH_CLIENTS` (16), `BENCH_SECONDS`
//! (20), `BENCH_FACE` (`4800x6000`: near the 6000×6000 bound, portrait),
//! `BENCH_DECODES` and `BENCH_UPLOADS` (the service's
//! `images.max_concurrent_decodes` and `images.max_concurrent_uploads`).
//!
//! The peak is reset once the server is up and the images are made (making
//! a 4800×6000 JPEG holds its pixels for a moment), so that it counts the
//! load alone.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use bytes::Bytes;
use chrono::Utc;
use citizen_api::auth::roles::ScopedRole;
use citizen_api::dev::{fixtures, images};
use citizen_api::domain::Afm;
use citizen_api::domain::ids::StudioId;
use citizen_api::photos::store::{self, StudioRow};
use citizen_api::{Application, Settings};
use reqwest::multipart::{Form, Part};
use reqwest::{Body, Client, StatusCode};

/// Peak resident memory the server may reach under the load.
const TARGET_PEAK_MB: f64 = 512.0;
const PHOTOGRAPHER: &str = "111222336";

fn number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// This process's resident memory now and at its peak (`VmRSS`, `VmHWM`),
/// in megabytes.
fn memory() -> Result<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let field = |name: &str| -> Result<f64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("no {name} in /proc/self/status"))?;
        let kb: f64 = line.split_whitespace().nth(1).context("a size")?.parse()?;
        Ok(kb / 1024.0)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// Resets `VmHWM` to the resident memory now (Linux `clear_refs`, value 5).
fn reset_peak() -> Result<()> {
    std::fs::write("/proc/self/clear_refs", "5").context("resetting the peak in clear_refs")
}

fn form(face: &Bytes, signature: &Bytes) -> Form {
    let part = |bytes: &Bytes, mime: &str| {
        Part::stream_with_length(Body::from(bytes.clone()), bytes.len() as u64)
            .mime_str(mime)
            .expect("a valid type")
    };
    Form::new()
        .part("face", part(face, "image/jpeg"))
        .part("signature", part(signature, "image/png"))
        .text("citizen_mobile", "+306900000099")
}

fn main() -> Result<()> {
    if std::env::args().any(|a| a == "--bench") {
        run()
    } else {
        // `cargo test --benches` runs this too: nothing to prove there.
        println!("photos: run with `cargo bench --bench photos`");
        Ok(())
    }
}

fn run() -> Result<()> {
    let clients: usize = number("BENCH_CLIENTS", 16);
    let seconds: u64 = number("BENCH_SECONDS", 20);
    let size = std::env::var("BENCH_FACE").unwrap_or_else(|_| "4800x6000".into());
    let (width, height) = size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .context("BENCH_FACE is WIDTHxHEIGHT")?;
    let face = Bytes::from(images::face_jpeg(width, height));
    let signature = Bytes::from(images::signature_png(4000, 4000));
    let data_dir = tempfile::tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut settings = Settings {
        bind: "127.0.0.1:0".parse()?,
        data_dir: data_dir.path().to_owned(),
        demo_data: false,
        ..Settings::default()
    };
    settings.images.max_concurrent_decodes =
        number("BENCH_DECODES", settings.images.max_concurrent_decodes);
    settings.images.max_concurrent_uploads =
        number("BENCH_UPLOADS", settings.images.max_concurrent_uploads);
    let (decodes, let_in) = (
        settings.images.max_concurrent_decodes,
        settings.images.max_concurrent_uploads,
    );
    let (api, token, studio) = rt.block_on(async {
        let app = Application::build(settings).await?;
        let api = format!("http://{}", app.address());
        let db = app.db();
        tokio::spawn(app.run_until_stopped());
        let (token, studio) = db.run_blocking(|conn| {
            let now = Utc::now();
            let studio = StudioRow {
                id: StudioId::generate(),
                name: "Bench".into(),
                business_afm: Afm::parse("800123456")?,
                owner_afm: Afm::parse(PHOTOGRAPHER)?,
                created_at: now.naive_utc(),
            };
            store::insert_studio(conn, &studio)?;
            let owner = ScopedRole::Photographer(studio.id.clone());
            fixtures::grant(conn, PHOTOGRAPHER, &owner, now)?;
            Ok((
                fixtures::citizen_session(conn, PHOTOGRAPHER, now)?,
                studio.id,
            ))
        })?;
        anyhow::Ok((api, token, studio))
    })?;
    let url = format!("{api}/v1/studios/{studio}/submissions");
    let (_, peak_before) = memory()?;
    reset_peak()?;
    let (rss_before, _) = memory()?;
    println!(
        "{clients} clients uploading a {width}×{height} face ({:.1} MB) and a 4000×4000 signature ({:.1} MB) for {seconds} s, {let_in} uploads let in and {decodes} decodes at once; resident before: {rss_before:.0} MB (peak while making the images: {peak_before:.0} MB)",
        face.len() as f64 / 1e6,
        signature.len() as f64 / 1e6,
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let uploaded: Vec<Result<u32>> = rt.block_on(async {
        let tasks = (0..clients).map(|_| {
            let (url, token, face, signature) =
                (url.clone(), token.clone(), face.clone(), signature.clone());
            tokio::spawn(async move {
                let client = Client::builder().no_proxy().build()?;
                let mut done = 0;
                while Instant::now() < deadline {
                    let response = client
                        .post(&url)
                        .bearer_auth(&token)
                        .multipart(form(&face, &signature))
                        .send()
                        .await?;
                    let status = response.status();
                    ensure!(
                        status == StatusCode::CREATED,
                        "{status}: {}",
                        response.text().await?
                    );
                    done += 1;
                }
                Ok(done)
            })
        });
        futures_util::future::join_all(tasks)
            .await
            .into_iter()
            .map(|joined| joined.map_err(anyhow::Error::from).and_then(|r| r))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let total: u32 = uploaded
        .into_iter()
        .collect::<Result<Vec<_>>>()?
        .iter()
        .sum();
    let (_, peak) = memory()?;
    println!(
        "uploads: {total} in {elapsed:.1} s, {:.2}/s",
        f64::from(total) / elapsed
    );
    println!(
        "peak resident memory: {peak:.0} MB (target under {TARGET_PEAK_MB:.0} MB): {}",
        if peak < TARGET_PEAK_MB {
            "met"
        } else {
            "NOT MET"
        }
    );
    Ok(())
}
