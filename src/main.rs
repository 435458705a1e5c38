//! The `citizen-api` command: serves by default, and migrates, prints the
//! OpenAPI document or seeds demo data on request.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use chrono::{DateTime, Utc};
use citizen_api::auth::HmacKey;
use citizen_api::auth::roles::{self, Change, ScopedRole};
use citizen_api::clock::{Clock, SystemClock};
use citizen_api::config::{Profile, Settings};
use citizen_api::db::write_transaction;
use citizen_api::dev::{demo, demo_apps};
use citizen_api::domain::Afm;
use citizen_api::{Application, app, photos, retention, telemetry};

#[derive(Parser)]
#[command(
    version,
    about = "Public API for municipal appointments and ID photos with consent"
)]
struct Cli {
    /// Optional TOML settings file; the environment overrides it.
    #[arg(long, global = true, env = "CITIZEN_API_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default when no command is given).
    Serve {
        /// Address and port to listen on, e.g. 0.0.0.0:8080.
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document (JSON) to standard output.
    Openapi,
    /// Create the demo municipalities and services if the database is empty.
    SeedDemo,
    /// Manage platform administrators.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// Anonymize and purge what is past its keeping time (R-BK-07).
    Retention {
        #[command(subcommand)]
        action: RetentionAction,
    },
    /// The ID photos' keys.
    Photos {
        #[command(subcommand)]
        action: PhotosAction,
    },
}

#[derive(Subcommand)]
enum PhotosAction {
    /// Seal again, under the current photo master key (the first in
    /// `secrets.photo_keys`), every data key and code an older key sealed,
    /// and print how many as JSON; then the older key can leave the list
    /// (docs/photos.md, "Rotating the photo master key").
    RewrapKeys,
}

#[derive(Subcommand)]
enum RetentionAction {
    /// Run one pass now and print what it did as JSON; the server also
    /// runs one every `retention.interval_secs`.
    Run {
        /// The instant to count from, RFC 3339 (default: now), e.g. to
        /// check what a pass will do on a given day.
        #[arg(long, value_parser = parse_instant)]
        now: Option<DateTime<Utc>>,
    },
}

fn parse_instant(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("an RFC 3339 instant such as 2027-06-01T00:00:00Z: {e}"))
}

#[derive(Subcommand)]
enum AdminAction {
    /// Make an AFM a platform administrator (the first one has to come from here).
    Grant { afm: String },
    /// Take the platform administrator role back from an AFM.
    Revoke { afm: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", app::document_json());
        return ExitCode::SUCCESS;
    }
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("citizen-api: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log.filter, settings.log_format());
    let result = actix_web::rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Command::Serve { bind: None }) {
            Command::Serve { bind } => {
                settings.bind = bind.unwrap_or(settings.bind);
                serve(settings).await
            }
            Command::Migrate => migrate(settings).await,
            Command::SeedDemo => seed_demo(settings).await,
            Command::Admin { action } => admin(settings, action).await,
            Command::Retention {
                action: RetentionAction::Run { now },
            } => retention_run(settings, now.unwrap_or_else(|| SystemClock.now())).await,
            Command::Photos {
                action: PhotosAction::RewrapKeys,
            } => rewrap_photo_keys(settings).await,
            Command::Openapi => unreachable!("handled before settings are loaded"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("citizen-api: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let database = settings.database_url()?.redacted();
    let profile = settings.profile;
    let demo_apps = settings.demo_data && profile == Profile::Development;
    let application = Application::build(settings).await?;
    let base = format!("http://{}", application.address());
    println!("citizen-api is serving on {base} ({profile:?} profile, database {database})");
    println!("  Swagger UI:  {base}/swagger-ui/");
    println!("  OpenAPI:     {base}/openapi.json");
    println!("  Catalogue:   {base}/v1/municipalities");
    if profile == Profile::Development {
        println!("  Dev outbox:  {base}/dev/outbox");
    }
    // Development credentials, fixed in the source: they reach no other
    // profile, which never seeds the demo.
    if demo_apps {
        println!("  Demo applications (POST {base}/oauth/token, client credentials):");
        for app in demo_apps::DEMO_APPS {
            println!(
                "    {}: client_id {} client_secret {}",
                app.name, app.client_id, app.client_secret
            );
        }
        println!(
            "    {} has linked photos and authorized Transport: GET {base}/v1/citizens/{}/photos/face",
            demo::CONSENTING_CITIZEN,
            demo::CONSENTING_CITIZEN
        );
    }
    application.run_until_stopped().await?;
    Ok(())
}

async fn migrate(mut settings: Settings) -> anyhow::Result<()> {
    settings.demo_data = false;
    app::open_database(&settings, &SystemClock).await?;
    println!("citizen-api: migrations are up to date");
    Ok(())
}

async fn seed_demo(mut settings: Settings) -> anyhow::Result<()> {
    if settings.profile == Profile::Production {
        anyhow::bail!(
            "seed-demo refuses the production profile: demo data must never reach production"
        );
    }
    settings.demo_data = false;
    let db = app::open_database(&settings, &SystemClock).await?;
    let now = SystemClock.now();
    let seeded =
        actix_web::web::block(move || db.run_blocking(|conn| demo::seed(conn, now))).await??;
    println!(
        "citizen-api: {}",
        if seeded {
            "demo data created"
        } else {
            "the catalogue is not empty; nothing was added"
        }
    );
    Ok(())
}

async fn admin(mut settings: Settings, action: AdminAction) -> anyhow::Result<()> {
    let (AdminAction::Grant { afm } | AdminAction::Revoke { afm }) = &action;
    let afm = Afm::parse(afm).map_err(|e| anyhow::anyhow!("{afm}: {e}"))?;
    let shown = afm.to_string();
    settings.demo_data = false;
    let db = app::open_database(&settings, &SystemClock).await?;
    let now = SystemClock.now().naive_utc();
    let grant = matches!(action, AdminAction::Grant { .. });
    let change = if grant { Change::Grant } else { Change::Revoke };
    let actor = cli_actor();
    let changed = actix_web::web::block(move || {
        db.run_blocking(|conn| {
            Ok(write_transaction(conn, |tx| {
                let target = (&afm, &ScopedRole::PlatformAdmin);
                roles::change(tx, change, target, (&actor, "cli"), now)
            })?)
        })
    })
    .await??;
    let what = match (grant, changed) {
        (true, true) => "is now a platform administrator",
        (true, false) => "was already a platform administrator",
        (false, true) => "is no longer a platform administrator",
        (false, false) => "was not a platform administrator",
    };
    println!("citizen-api: {shown} {what}");
    Ok(())
}

/// Who acts from the command line, for the grant and the audit trail
/// (R-BK-10): `cli`, with the operating system's user when it is known.
fn cli_actor() -> String {
    match std::env::var("USER").or_else(|_| std::env::var("LOGNAME")) {
        Ok(user) if !user.is_empty() => format!("cli:{user}"),
        _ => "cli".to_owned(),
    }
}

async fn retention_run(mut settings: Settings, now: DateTime<Utc>) -> anyhow::Result<()> {
    settings.demo_data = false;
    let db = app::open_database(&settings, &SystemClock).await?;
    let idle = settings.auth.session_idle();
    let report =
        actix_web::web::block(move || db.run_blocking(|conn| Ok(retention::run(conn, now, idle)?)))
            .await??;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

async fn rewrap_photo_keys(mut settings: Settings) -> anyhow::Result<()> {
    settings.demo_data = false;
    let db = app::open_database(&settings, &SystemClock).await?;
    let hash = HmacKey::load(settings.secrets.hmac_key.as_ref(), &settings.data_dir)?;
    let photos = app::photo_services(&settings, hash)?;
    let report = actix_web::web::block(move || {
        db.run_blocking(|conn| {
            photos::rotation::rewrap(conn, &photos.vault, &photos.code_keys())
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
    })
    .await??;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
