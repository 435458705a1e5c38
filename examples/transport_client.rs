//! A Ministry of Transport system, as an integrator would write it: it
//! finds the token endpoint in the service's RFC 8414 metadata, obtains an
//! access token with the `oauth2` crate's client-credentials flow, and
//! fetches a consenting citizen's face photo and signature for a driving
//! licence, printing what it got (docs/integrators.md).
//!
//! ```text
//! cargo run --example transport_client -- \
//!     --client-id <id> --client-secret <secret> --afm <citizen's AFM>
//! ```
//!
//! The development server prints the demo Ministry of Transport's
//! credentials and the AFM of the demo citizen who consented when it
//! starts. `--out-dir` keeps the images. Exits non-zero when a step fails.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Parser)]
#[command(about = "Fetch a consenting citizen's photos as the Ministry of Transport")]
struct Args {
    /// The service's address.
    #[arg(long, env = "CITIZEN_API_URL", default_value = "http://127.0.0.1:8080")]
    base_url: String,
    /// The application's OAuth client id.
    #[arg(long, env = "TRANSPORT_CLIENT_ID")]
    client_id: String,
    /// The application's client secret.
    #[arg(long, env = "TRANSPORT_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// The AFM of the citizen whose photos to fetch.
    #[arg(long)]
    afm: String,
    /// A folder to save the images in.
    #[arg(long)]
    out_dir: Option<PathBuf>,
}

/// The part of the RFC 8414 metadata this client needs.
#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    token_endpoint: String,
}

/// An RFC 9457 problem, as the service answers errors.
#[derive(Deserialize)]
struct Problem {
    code: String,
    detail: Option<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    let base = args.base_url.trim_end_matches('/');
    // No redirects: a token request must not be sent on elsewhere.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let metadata: Metadata = http
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await?
        .error_for_status()
        .context("reading the authorization server's metadata")?
        .json()
        .await?;
    println!("issuer: {}", metadata.issuer);

    let client = BasicClient::new(ClientId::new(args.client_id))
        .set_client_secret(ClientSecret::new(args.client_secret))
        .set_token_uri(TokenUrl::new(metadata.token_endpoint)?);
    let token = client
        .exchange_client_credentials()
        .add_scope(Scope::new("photos:face".into()))
        .add_scope(Scope::new("photos:signature".into()))
        .request_async(&http)
        .await
        .context("obtaining an access token")?;
    let scopes: Vec<&str> = token
        .scopes()
        .map(|scopes| scopes.iter().map(|s| s.as_str()).collect())
        .unwrap_or_default();
    println!(
        "access token: {} s, scopes: {}",
        token.expires_in().map_or(0, |d| d.as_secs()),
        scopes.join(" ")
    );

    for image in ["face", "signature"] {
        let response = http
            .get(format!("{base}/v1/citizens/{}/photos/{image}", args.afm))
            .bearer_auth(token.access_token().secret())
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            let problem: Problem = response
                .json()
                .await
                .with_context(|| format!("{image}: {status}, and not a problem document"))?;
            bail!(
                "{image}: {status} {}: {}",
                problem.code,
                problem.detail.unwrap_or_default()
            );
        }
        let content_type = header(&response, "content-type");
        let etag = header(&response, "etag");
        let bytes = response.bytes().await?;
        let (width, height) = image::ImageReader::new(std::io::Cursor::new(&bytes))
            .with_guessed_format()?
            .into_dimensions()
            .with_context(|| format!("{image}: the image does not read"))?;
        println!(
            "{image}: {content_type}, {} bytes, {width}×{height}, sha256 {}, ETag {etag}",
            bytes.len(),
            hex::encode(Sha256::digest(&bytes)),
        );
        if let Some(dir) = &args.out_dir {
            let extension = if content_type == "image/png" {
                "png"
            } else {
                "jpg"
            };
            let path = dir.join(format!("{image}.{extension}"));
            std::fs::create_dir_all(dir)?;
            std::fs::write(&path, &bytes)?;
            println!("  saved to {}", path.display());
        }
    }
    Ok(())
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}
