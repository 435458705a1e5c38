//! The composition root: the route list, the OpenAPI document, and the
//! server assembled from every slice (database, migrations, middleware,
//! background tasks). Binds before returning, so tests can ask for port 0
//! and read the real port. Only this module and `dev/` know that the
//! development stand-ins exist.

mod document;
mod routes;

pub use document::{document, document_json};
pub use routes::routes;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{AuthContext, HmacKey};
use crate::booking::listing_windows::ListingWindows;
use crate::booking::reservations::{ReservationLink, reminders};
use crate::clock::{Clock, SharedClock, SystemClock};
use crate::config::{Profile, Settings};
use crate::crypto::KeyRing;
use crate::db::{Db, run_migrations};
use crate::dev::{self, demo};
use crate::http::rate_limit::ClientRateLimit;
use crate::http::{RouteTable, cors, extractor_configs, render_problems};
use crate::notify::Transports;
use crate::notify::worker::OutboxWorker;
use crate::oauth::{OAuth, SigningKeys};
use crate::ops::background::Background;
use crate::ops::{Metrics, MetricsAccess, Scrapes, observe};
use crate::photos::{CodeKeys, ImageChecker, Photos, Vault};
use crate::{notify, photos, retention};

pub struct Application {
    address: SocketAddr,
    server: Server,
    db: Db,
    outbox: OutboxWorker,
    worker: Option<Background>,
    retention: Background,
    reminders: Background,
}

impl Application {
    /// Opens the database, brings its schema up to date, seeds the demo data
    /// when asked, binds the listener and starts the outbox worker (unless
    /// `notify.worker` is off).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Application::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with time from `clock`, for tests that move it.
    pub async fn build_with_clock(
        settings: Settings,
        clock: SharedClock,
    ) -> anyhow::Result<Application> {
        crate::ops::allocator::return_large_buffers_to_the_os();
        // Before the database, so a bad transport setting fails fast.
        let transports = Transports::from_settings(&settings.notify)?;
        notify::use_key_ring(KeyRing::load(
            settings.secrets.encryption_keys.as_ref(),
            &settings.data_dir,
            &notify::KEY_SOURCE,
        )?)?;
        let db = open_database(&settings, clock.as_ref()).await?;
        let listener = TcpListener::bind(settings.bind).map_err(|e| {
            anyhow::anyhow!("cannot listen on {} (CITIZEN_API_BIND): {e}", settings.bind)
        })?;
        let address = listener.local_addr()?;

        let document = document();
        let route_table = web::Data::new(RouteTable::from_document(&document));
        let metrics = web::Data::new(Metrics::new());
        let task_metrics = metrics.clone().into_inner();
        let metrics_access = web::Data::new(MetricsAccess::new(&settings.ops));
        let scrapes = web::Data::new(Scrapes(vec![notify::gauges::scrape]));
        let db_data = web::Data::new(db.clone());
        let json_limit = settings.http.json_limit_bytes;
        let base_url = settings
            .auth
            .public_base_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        let development = settings.profile == Profile::Development;
        let auth = web::Data::new(AuthContext::new(
            &settings.auth,
            &base_url,
            &format!("{}{}", base_url.trim_end_matches('/'), dev::TAXISNET_PATH),
            !development,
            HmacKey::load(settings.secrets.hmac_key.as_ref(), &settings.data_dir)?,
            clock.clone(),
        )?);
        let photos = web::Data::new(photo_services(&settings, auth.hmac.clone())?);
        let oauth = web::Data::new(OAuth::new(
            &settings.oauth,
            &base_url,
            SigningKeys::load(
                settings.secrets.token_signing_keys.as_ref(),
                &settings.data_dir,
            )?,
            clock.clone(),
        ));
        if settings.demo_data && development {
            let studio = dev::demo_photos::seed(&photos, &db, clock.now()).await?;
            dev::demo_apps::seed(&photos, &db, &studio, clock.now()).await?;
        }
        let clock_data = web::Data::new(clock.clone());
        let link =
            ReservationLink::new(settings.notify.reservation_link.as_deref(), &auth.base_url)?;
        let reservation_link = web::Data::new(link.clone());
        let listing_windows = web::Data::new(ListingWindows::new());
        let trusted_proxies = web::Data::new(settings.trusted_proxies()?);
        let auth_limit = web::Data::new(ClientRateLimit::per_minute(
            settings.auth.rate_limit_per_minute,
        ));
        let development_provider = dev::taxisnet_enabled(&settings)
            .then(|| web::Data::new(dev::DevelopmentProvider::default()));
        let allowed_origins = settings.auth.allowed_origins.clone();

        let mut server = HttpServer::new(move || {
            let (json, query, path) = extractor_configs(json_limit);
            let (app, _) = App::new()
                .into_utoipa_app()
                .configure(routes)
                .split_for_parts();
            app.app_data(db_data.clone())
                .app_data(metrics.clone())
                .app_data(metrics_access.clone())
                .app_data(scrapes.clone())
                .app_data(route_table.clone())
                .app_data(auth.clone())
                .app_data(clock_data.clone())
                .app_data(listing_windows.clone())
                .app_data(reservation_link.clone())
                .app_data(trusted_proxies.clone())
                .app_data(auth_limit.clone())
                .app_data(photos.clone())
                .app_data(oauth.clone())
                .app_data(json)
                .app_data(query)
                .app_data(path)
                .service(
                    SwaggerUi::new("/swagger-ui/{_:.*}").url("/openapi.json", document.clone()),
                )
                // Development stand-ins stay out of the document, and out of
                // production altogether (which refuses them at start).
                .configure(|cfg| {
                    if development {
                        dev::routes(cfg, development_provider.clone());
                    }
                })
                .default_service(web::to(crate::http::no_route))
                .wrap(from_fn(render_problems))
                // Answers carry personal data: no cache keeps them unless a
                // handler says otherwise, and no browser sniffs a type.
                .wrap(
                    DefaultHeaders::new()
                        .add((header::CACHE_CONTROL, "no-store"))
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
                )
                .wrap(cors(&allowed_origins))
                .wrap(from_fn(observe))
        })
        .listen(listener)?
        .shutdown_timeout(settings.http.shutdown_timeout_secs);
        if settings.http.workers > 0 {
            server = server.workers(settings.http.workers);
        }
        let outbox = OutboxWorker::new(
            db.clone(),
            clock.clone(),
            transports,
            settings.notify.clone(),
            task_metrics.clone(),
        );
        let worker = settings.notify.worker.then(|| outbox.start());
        let retention = retention::schedule::start(
            db.clone(),
            clock.clone(),
            &settings.retention,
            settings.auth.session_idle(),
            task_metrics.clone(),
        );
        let reminders =
            reminders::start(db.clone(), clock, link, &settings.reminders, task_metrics);
        Ok(Application {
            address,
            server: server.run(),
            db,
            outbox,
            worker,
            retention,
            reminders,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The application's database handle, for tests that arrange data.
    pub fn db(&self) -> Db {
        self.db.clone()
    }

    /// The outbox worker (running in the background unless
    /// `notify.worker` is off), for tests that deliver due messages exactly
    /// when they choose.
    pub fn outbox_worker(&self) -> OutboxWorker {
        self.outbox.clone()
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish
    /// and the outbox worker, the retention and the reminder passes finish
    /// their rounds.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(worker) = self.worker {
            worker.stop().await;
        }
        self.retention.stop().await;
        self.reminders.stop().await;
        served
    }
}

/// Connects, migrates and (in development, when empty) seeds, off the async
/// executor because every step blocks.
pub async fn open_database(settings: &Settings, clock: &dyn Clock) -> anyhow::Result<Db> {
    let url = settings.database_url()?;
    let pool_size = settings.database.pool_size;
    let acquire_timeout = settings.acquire_timeout();
    let busy_timeout = Duration::from_millis(settings.database.sqlite_busy_timeout_ms);
    let migration_lock_timeout = settings.migration_lock_timeout();
    let seed = settings.demo_data && settings.profile == Profile::Development;
    let slot_days = settings.demo_slot_days;
    let now = clock.now();
    tokio::task::spawn_blocking(move || {
        let db = Db::connect(&url, pool_size, acquire_timeout, busy_timeout)?;
        db.run_blocking(|conn| {
            let applied = run_migrations(conn, migration_lock_timeout)?;
            if !applied.is_empty() {
                tracing::info!(?applied, "migrations applied");
            }
            if seed && demo::seed(conn, now)? {
                tracing::info!("demo data seeded");
            }
            if seed {
                let created = demo::top_up_slots(conn, slot_days, now)?;
                tracing::info!(created, "demo slots topped up");
            }
            Ok(())
        })?;
        Ok(db)
    })
    .await?
}

/// The photo slice's services: the vault under the photo master keys, the
/// image checks, and the keys that keep codes.
pub fn photo_services(settings: &Settings, hash: HmacKey) -> anyhow::Result<Photos> {
    let ring = KeyRing::load(
        settings.secrets.photo_keys.as_ref(),
        &settings.data_dir,
        &photos::vault::PHOTO_KEYS,
    )?;
    let vault = Vault::from_settings(&settings.storage, &settings.data_dir, ring.clone())?;
    Ok(Photos::new(
        vault,
        ImageChecker::new(&settings.images),
        CodeKeys { hash, ring },
        settings.photos.clone(),
    ))
}
