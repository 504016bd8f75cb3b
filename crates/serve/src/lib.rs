//! `planledger serve`: the ledger as an authenticated HTTP service.
//!
//! - [`config`]: the configuration file (TOML): where it listens, the ledger, TLS, the
//!   OpenID Connect issuer, and every person's role and units, every system's hashed API
//!   token.
//! - [`auth`]: who is calling (an OIDC JWT checked against the issuer's JWKS, or an API
//!   token); the role and units come from the configuration, never from a request.
//! - [`api`]: the routes, the authorisation rules (a refusal is 403 naming its rule and
//!   writes nothing), and the OpenAPI document generated from the handlers.
//! - [`access`]: the read-access log, a ledger of its own beside the plans', whose
//!   entries share commits.
//! - [`writer`]: the one [`planledger_app::Recorder`] every write goes through.
//! - [`metrics`]: the Prometheus exposition.

pub mod access;
pub mod api;
pub mod auth;
pub mod client;
pub mod config;
pub mod error;
pub mod metrics;
pub mod pages;
pub mod writer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use planledger_app::{Limits, Location};
use planledger_plan::DeadlinePolicy;
use planledger_store::Store;

pub use config::Config;

/// "Now", injected: the system clock in service, a fixed or stepped one in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// What every request shares: one store and read side, one writer, one access log.
pub struct AppState {
    pub config: Config,
    pub issuer: Option<auth::Issuer>,
    pub store: Arc<dyn Store>,
    pub access: access::AccessLog,
    pub writer: writer::Writer,
    pub policy: DeadlinePolicy,
    pub metrics: metrics::Metrics,
    pub clock: Clock,
    pub limits: Limits,
    /// The pages' sessions and state.
    pub pages: pages::PagesState,
}

/// Where the access log of the ledger `config` names lives: the configured place, else
/// the directory `access-log` inside an embedded ledger's directory, or the ledger
/// named `NAME-access-log` beside a PostgreSQL ledger `NAME`.
pub fn access_log_location(ledger: &Location, configured: Option<&str>) -> Location {
    match (ledger, configured) {
        (Location::Dir(_), Some(dir)) => Location::Dir(dir.into()),
        (Location::Dir(dir), None) => Location::Dir(dir.join("access-log")),
        (Location::Postgres { url, .. }, Some(name)) => Location::Postgres {
            url: url.clone(),
            name: name.to_owned(),
        },
        (Location::Postgres { url, name }, None) => Location::Postgres {
            url: url.clone(),
            name: format!("{name}-access-log"),
        },
    }
}

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);

impl StartError {
    /// The error, said of the configuration's field `field`.
    fn in_field(self, field: &str) -> StartError {
        StartError(format!("the configuration's `{field}`: {}", self.0))
    }
}

impl From<planledger_app::Error> for StartError {
    fn from(e: planledger_app::Error) -> StartError {
        StartError(planledger_plan::json::mask_personnummer(&e.to_string()))
    }
}

/// A started service.
pub struct Running {
    /// The address it listens on (the port chosen when the configuration said 0).
    pub addr: SocketAddr,
    /// Whether it speaks TLS.
    pub tls: bool,
    handle: axum_server::Handle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    writer: std::thread::JoinHandle<()>,
    access_writer: std::thread::JoinHandle<()>,
}

impl Running {
    /// Stops accepting connections, lets requests in flight finish (at most `grace`),
    /// then waits for the writer to finish every write it acknowledged or is doing.
    pub async fn shutdown(self, grace: Duration) -> std::io::Result<()> {
        self.handle.graceful_shutdown(Some(grace));
        self.wait().await
    }

    /// Waits until the server stops (after [`Running::shutdown`] or a failure).
    pub async fn wait(self) -> std::io::Result<()> {
        let served = self
            .server
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        // The writers end after their last write, once the router (and so every handle
        // of them) is gone with the server; then both stores are closed.
        for thread in [self.writer, self.access_writer] {
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .map_err(std::io::Error::other)?
                .map_err(|_| std::io::Error::other("a writer thread panicked"))?;
        }
        served
    }

    /// A handle that stops the server gracefully when told to.
    pub fn handle(&self) -> axum_server::Handle {
        self.handle.clone()
    }
}

/// Opens the ledger and its access log and starts serving `config` (within a tokio
/// runtime).
pub async fn start(config: Config, clock: Clock) -> Result<Running, StartError> {
    // A bad policy file is refused before anything is opened.
    planledger_app::load_policy(config.policy.as_deref(), &Limits::default())?;
    // So is a KEK file others may read, or one that is not a KEK.
    let kek = config
        .kek
        .as_deref()
        .map(|path| planledger_app::crypt::load_kek(path, &Limits::default()))
        .transpose()
        .map_err(|e| StartError::from(e).in_field("kek"))?;
    let ledger = Location::parse(&config.ledger, &config.ledger_name);
    let access_at = access_log_location(&ledger, config.access_log.as_deref());
    let (store, access_store) = tokio::task::spawn_blocking(move || {
        // With the KEK, a keyed store: writes encrypted, reads decrypted. Without it, a
        // ledger that has a key store is refused, as on the command line.
        let store: Arc<dyn Store> = Arc::from(ledger.open_with(kek.as_ref())?);
        let access: Arc<dyn Store> = Arc::from(access_at.open_or_create()?);
        Ok::<_, planledger_app::Error>((store, access))
    })
    .await
    .map_err(|e| StartError(format!("cannot open the ledger: {e}")))??;
    start_with_stores(config, clock, store, access_store).await
}

/// Starts serving `config` on stores the caller opened: the plans' ledger and its
/// access log (`config.ledger` and `config.access_log` are not opened again). For a
/// process that also uses the store itself, such as the load test (benches/serve_load.rs),
/// which times the same calls on the library in the same run.
pub async fn start_with_stores(
    config: Config,
    clock: Clock,
    store: Arc<dyn Store>,
    access_store: Arc<dyn Store>,
) -> Result<Running, StartError> {
    // rustls with ring, for the server's TLS and the issuer's keys over https.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let limits = Limits::default();
    let policy = planledger_app::load_policy(config.policy.as_deref(), &limits)?;
    let (writer, writer_thread) = writer::Writer::start(store.clone(), policy.clone());
    let listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| StartError(format!("cannot listen on {}: {e}", config.listen)))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| StartError(format!("cannot listen: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError(format!("cannot listen: {e}")))?;
    let tls = config.tls.clone();
    let (access, access_writer) = access::AccessLog::start(access_store);
    let state = Arc::new(AppState {
        issuer: config.oidc.clone().map(auth::Issuer::new),
        config,
        store,
        access,
        writer,
        policy,
        metrics: metrics::Metrics::default(),
        clock,
        limits,
        pages: pages::PagesState::default(),
    });
    let app = api::router(state.clone())
        .merge(pages::router(state))
        .into_make_service();
    let handle = axum_server::Handle::new();
    let server = match &tls {
        Some(t) => {
            let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&t.cert, &t.key)
                .await
                .map_err(|e| StartError(format!("cannot read the TLS certificate or key: {e}")))?;
            let s = axum_server::from_tcp_rustls(listener, rustls).handle(handle.clone());
            tokio::spawn(async move { s.serve(app).await })
        }
        None => {
            let s = axum_server::from_tcp(listener).handle(handle.clone());
            tokio::spawn(async move { s.serve(app).await })
        }
    };
    tracing::info!(tls = tls.is_some(), "serving");
    Ok(Running {
        addr,
        tls: tls.is_some(),
        handle,
        server,
        writer: writer_thread,
        access_writer,
    })
}

/// Serves until SIGINT or SIGTERM, then shuts down gracefully (blocking; builds its
/// own runtime). `on_start` hears the address once it listens.
pub fn serve_until_signal(
    config: Config,
    on_start: impl FnOnce(&Running),
) -> Result<(), StartError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| StartError(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let running = start(config, system_clock()).await?;
        on_start(&running);
        let handle = running.handle();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing the requests in flight");
            handle.graceful_shutdown(Some(Duration::from_secs(30)));
        });
        running
            .wait()
            .await
            .map_err(|e| StartError(format!("the server failed: {e}")))
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
