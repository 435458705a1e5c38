//! The `citizen-api` command: serves by default, and migrates, prints the
//! OpenAPI document or seeds demo data on request.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use citizen_api::config::{Profile, Settings};
use citizen_api::{Application, app, demo, openapi, telemetry};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", openapi::document_json());
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
    let application = Application::build(settings).await?;
    let base = format!("http://{}", application.address());
    println!("citizen-api is serving on {base} ({profile:?} profile, database {database})");
    println!("  Swagger UI:  {base}/swagger-ui/");
    println!("  OpenAPI:     {base}/openapi.json");
    println!("  Catalogue:   {base}/v1/municipalities");
    if profile == Profile::Development {
        println!("  Dev outbox:  {base}/dev/outbox");
    }
    application.run_until_stopped().await?;
    Ok(())
}

async fn migrate(mut settings: Settings) -> anyhow::Result<()> {
    settings.demo_data = false;
    app::open_database(&settings).await?;
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
    let db = app::open_database(&settings).await?;
    let seeded = actix_web::web::block(move || db.run_blocking(demo::seed)).await??;
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
