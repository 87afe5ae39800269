//! # warung-server
//!
//! Warung's sync server: catalog delta sync (buckets of ops with checkpoints), the intent
//! pipeline (exactly-once per device sequence) and the merchant API, on SQLite.
//!
//! | module | why it exists |
//! |---|---|
//! | [`store`] | the storage boundary: per-capability traits of domain operations ([`store::Storage`] is their union) |
//! | [`store::rules`] | the store's rules, once for every backend, over narrow transaction contexts; what must be atomic and how |
//! | [`store::sqlite`] | the SQLite backend: the contexts in SQL, one writer thread (group commit), a read pool |
//! | [`intents`] | the rules of each intent kind, independent of storage |
//! | [`http`] | routes, extractors, middleware; handlers only call [`store::Storage`] |
//! | [`openapi`] | the OpenAPI 3.1 document generated from the handlers |
//! | [`metrics`] | Prometheus metrics |
//! | [`auth`] | merchant keys and device tokens: CSPRNG secrets stored as SHA-256 |
//! | [`validate`] | merchant input checks (422 `invalid_data`) |
//! | [`identity`] | SMS OTP, sessions, SIM binding, signed requests, PIN (PBKDF2): rules and knobs |
//! | [`sms`] | the SMS gateway boundary (dev outbox, HTTP aggregator), texts, inbound HMAC |
//! | [`cli`] | the `warung-server` command line (serve and admin subcommands) |
//! | [`clock`] | the one injected clock every time-based rule reads (tests move it) |
//!
//! Embedding (tests, benchmarks, the CLI's in-process demo):
//!
//! ```no_run
//! # async fn demo() -> Result<(), warung_server::Error> {
//! let mut config = warung_server::Config::new("/tmp/warung-data");
//! config.listen = "127.0.0.1:0".parse().unwrap();
//! config.demo = true;
//! let server = warung_server::start(config).await?;
//! let (account, key) = server.admin().create_merchant("Toko Budi", warung_core::protocol::MerchantKind::Shop).await?;
//! println!("{} {} {key}", server.url(), account.id);
//! server.shutdown().await;
//! # Ok(()) }
//! ```

pub mod auth;
pub mod cli;
pub mod clock;
pub mod error;
pub mod http;
pub mod identity;
pub mod intents;
pub mod metrics;
pub mod openapi;
pub mod sms;
pub mod store;
#[doc(hidden)]
pub mod testing;
pub mod validate;

use crate::auth::{MERCHANT_KEY_PREFIX, hash_secret, key_prefix, new_secret};
use crate::store::sqlite::{SqliteStore, WriterStats};
use crate::store::{CompactReport, Storage, StoreError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use warung_core::protocol::{CatalogAction, CatalogOp, Entity, MerchantAccount, MerchantKind};

/// Everything that can stop the server from starting or an admin command from running.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// TLS certificate chain and private key, PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How to run the server. [`Config::new`] gives the defaults of the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind; port 0 picks a free one (see [`RunningServer::addr`]).
    pub listen: SocketAddr,
    /// Where the SQLite database lives (unless `database_url` says otherwise).
    pub data_dir: PathBuf,
    /// `sqlite://<path>` or `postgres://…`; `None` means `sqlite://<data_dir>/warung.db`.
    pub database_url: Option<String>,
    /// PostgreSQL: connections in this process's pool.
    pub database_pool: usize,
    /// PostgreSQL: a PEM file of CA certificates trusted for TLS besides the webpki roots.
    pub database_ca: Option<PathBuf>,
    /// Seed the demo catalog (and its merchants) into an empty database.
    pub demo: bool,
    pub tls: Option<TlsPaths>,
    /// Background compaction period; `None` disables it.
    pub compact_every: Option<Duration>,
    /// Compaction keeps tombstones among the newest this many op ids of each bucket.
    pub compact_keep_ops: u64,
    /// Largest request body (bytes); larger ones get 413.
    pub body_limit: usize,
    pub request_timeout: Duration,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// Lifetimes and limits of OTP, sessions, binding, PIN and TOTP.
    pub identity: identity::IdentityConfig,
    /// SMS gateway, short code, sender id, inbound secret, dev token.
    pub sms: sms::SmsConfig,
    /// The one clock of the server (tests pass a [`clock::Clock::fixed`] one and move it).
    pub clock: clock::Clock,
    /// Serve `POST /v1/dev/clock` (with the dev token), which moves [`Config::clock`] forward:
    /// for test suites that drive a server process. Never in production.
    pub dev_clock: bool,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            database_url: None,
            database_pool: 16,
            database_ca: None,
            demo: false,
            tls: None,
            compact_every: None,
            compact_keep_ops: 10_000,
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
            identity: identity::IdentityConfig::default(),
            sms: sms::SmsConfig::default(),
            clock: clock::Clock::system(),
            dev_clock: false,
        }
    }

    /// The database this configuration names: SQLite (the default file in the data dir, or
    /// `sqlite://<path>`) or PostgreSQL (`postgres://…`); anything else is a clear error.
    pub fn database(&self) -> Result<Database, Error> {
        match self.database_url.as_deref().map(str::trim) {
            None | Some("") => Ok(Database::Sqlite(self.data_dir.join("warung.db"))),
            Some(url) => {
                if let Some(path) = url.strip_prefix("sqlite://") {
                    if path.is_empty() {
                        return Err(Error::Config("sqlite:// URL without a path".into()));
                    }
                    Ok(Database::Sqlite(PathBuf::from(path)))
                } else if store::postgres::connect::is_postgres_url(url) {
                    let mut pg = store::postgres::connect::PgOptions::new(url);
                    pg.pool_size = self.database_pool;
                    pg.ca_file = self.database_ca.clone();
                    Ok(Database::Postgres(pg))
                } else {
                    Err(Error::Config(format!(
                        "database URL {url:?}: expected sqlite://<path> or postgres://user@host:port/db"
                    )))
                }
            }
        }
    }

    /// The SQLite file this configuration uses, or an error for another backend.
    pub fn database_path(&self) -> Result<PathBuf, Error> {
        match self.database()? {
            Database::Sqlite(path) => Ok(path),
            Database::Postgres(_) => Err(Error::Config(
                "this command needs a SQLite database (sqlite://<path> or --data-dir)".into(),
            )),
        }
    }
}

/// The backend a [`Config`] names.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(store::postgres::connect::PgOptions),
}

/// Applies the schema migrations of the configured database; returns the backend's name and
/// the schema version.
pub async fn migrate(config: &Config) -> Result<(&'static str, usize), Error> {
    match config.database()? {
        Database::Sqlite(path) => {
            let clock = config.clock.clone();
            tokio::task::spawn_blocking(move || SqliteStore::open(&path, clock))
                .await
                .map_err(|e| Error::Config(format!("opening the database: {e}")))??;
            Ok(("sqlite", store::sqlite::SCHEMA_VERSION))
        }
        Database::Postgres(pg) => {
            let pool = store::postgres::connect::pool(&pg)?;
            Ok(("postgres", store::postgres::connect::migrate(&pool).await?))
        }
    }
}

/// Copies the configured SQLite database into the empty PostgreSQL database at `to`.
pub async fn move_to_postgres(
    config: &Config,
    to: &str,
) -> Result<store::transfer::TransferReport, Error> {
    let path = config.database_path()?;
    let mut target = Config::new(&config.data_dir);
    target.database_url = Some(to.to_owned());
    target.database_pool = 2;
    target.database_ca = config.database_ca.clone();
    let Database::Postgres(pg) = target.database()? else {
        return Err(Error::Config(format!(
            "--to {to:?}: expected postgres://user@host:port/db"
        )));
    };
    let dump = tokio::task::spawn_blocking(move || store::sqlite::export::dump(&path))
        .await
        .map_err(|e| Error::Config(format!("reading the SQLite database: {e}")))??;
    let pool = store::postgres::connect::pool(&pg)?;
    Ok(store::postgres::import::load(&pool, dump).await?)
}

/// The opened database: every operation through [`Storage`], plus what only this backend
/// has (the SQLite writer's counters). The one place that names a backend.
#[derive(Clone)]
enum Backend {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<store::postgres::PgStore>),
}

impl Backend {
    fn storage(&self) -> Arc<dyn Storage> {
        match self {
            Backend::Sqlite(s) => s.clone(),
            Backend::Postgres(s) => s.clone(),
        }
    }

    /// The backend's own gauges for `/metrics` (the SQLite writer's group commits, the
    /// PostgreSQL pool).
    fn metrics_collector(&self) -> Box<dyn prometheus_client::collector::Collector> {
        match self {
            Backend::Sqlite(s) => s.metrics_collector(),
            Backend::Postgres(s) => s.metrics_collector(),
        }
    }
}

/// Opens the configured store (SQLite or PostgreSQL, migrating it) and publishes the default
/// category tree if empty.
async fn open_store(config: &Config) -> Result<Backend, Error> {
    let clock = config.clock.clone();
    let backend = match config.database()? {
        Database::Sqlite(path) => {
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path, clock))
                .await
                .map_err(|e| Error::Config(format!("opening the database: {e}")))??;
            Backend::Sqlite(Arc::new(store))
        }
        Database::Postgres(pg) => {
            Backend::Postgres(Arc::new(store::postgres::PgStore::open(&pg, clock).await?))
        }
    };
    backend
        .storage()
        .ensure_categories(default_categories())
        .await?;
    Ok(backend)
}

/// The shared taxonomy: the demo catalog's category tree.
fn default_categories() -> Vec<warung_core::protocol::Category> {
    warung_core::demo::demo_entities()
        .into_iter()
        .filter_map(|e| match e {
            Entity::Category(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// Admin operations on a store: what the `merchant` and `compact` subcommands do, usable
/// in-process (tests, the CLI demo) through [`RunningServer::admin`] or [`Admin::open`].
#[derive(Clone)]
pub struct Admin {
    store: Arc<dyn Storage>,
    backend: Backend,
}

impl Admin {
    /// Opens the configured database directly (the server may be running: SQLite serializes).
    pub async fn open(config: &Config) -> Result<Admin, Error> {
        Ok(Admin::new(open_store(config).await?))
    }

    fn new(backend: Backend) -> Admin {
        Admin {
            store: backend.storage(),
            backend,
        }
    }

    /// Creates a merchant; returns its account and its API key (shown once, stored hashed).
    pub async fn create_merchant(
        &self,
        name: &str,
        kind: MerchantKind,
    ) -> Result<(MerchantAccount, String), Error> {
        let key = new_secret(MERCHANT_KEY_PREFIX);
        let account = self
            .store
            .create_merchant_account(name.to_owned(), kind, hash_secret(&key), key_prefix(&key))
            .await?;
        Ok((account, key))
    }

    pub async fn list_merchants(&self) -> Result<Vec<MerchantAccount>, Error> {
        Ok(self.store.list_merchant_accounts().await?)
    }

    /// Issues a new key for an existing merchant (e.g. a demo one); the old key stops working.
    pub async fn rotate_key(&self, merchant_id: &str) -> Result<(MerchantAccount, String), Error> {
        let key = new_secret(MERCHANT_KEY_PREFIX);
        let account = self
            .store
            .rotate_key(merchant_id.to_owned(), hash_secret(&key), key_prefix(&key))
            .await?;
        Ok((account, key))
    }

    /// Seeds the demo catalog into an empty database; `false` when it already holds data.
    pub async fn seed_demo(&self) -> Result<bool, Error> {
        self.seed(warung_core::demo::demo_ops()).await
    }

    /// Seeds any catalog of PUT ops (e.g. `warung_core::synth::synthetic_ops`) into an empty
    /// database, in one transaction; op ids are reassigned, variant bands become exact counts
    /// (in_stock 50, low 3, out 0). `false` when the database already holds merchants or
    /// products.
    pub async fn seed(&self, ops: Vec<CatalogOp>) -> Result<bool, Error> {
        let ops = ops
            .into_iter()
            .filter(|op| matches!(op.action, CatalogAction::Put { .. }))
            .collect();
        Ok(self.store.seed(ops).await?)
    }

    /// Deletes tombstones older than the newest `keep_ops` ops of each bucket.
    pub async fn compact(&self, keep_ops: u64) -> Result<CompactReport, Error> {
        Ok(self.store.compact(keep_ops).await?)
    }

    /// The development gateway's outbox, newest first (`to`: any accepted spelling of a
    /// number; `None`: every recipient).
    pub async fn dev_sms_outbox(
        &self,
        to: Option<&str>,
        limit: u32,
    ) -> Result<Vec<store::identity::DevSms>, Error> {
        let to = to
            .map(|t| {
                warung_core::phone::normalize(t)
                    .map_err(|e| Error::Config(format!("--to {t:?}: {e}")))
            })
            .transpose()?;
        Ok(self.store.dev_sms_list(to, limit.clamp(1, 1000)).await?)
    }

    /// The newest OTP code sent to `to` by the development gateway, if any (tests, demo).
    pub async fn latest_dev_otp(&self, to: &str) -> Result<Option<String>, Error> {
        let messages = self.dev_sms_outbox(Some(to), 20).await?;
        Ok(messages.iter().find_map(|m| {
            m.text
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == warung_core::protocol::OTP_DIGITS)
                .map(str::to_owned)
        }))
    }

    /// Group-commit counters of this process's SQLite writer (`None` on PostgreSQL, which
    /// has no writer thread).
    pub fn writer_stats(&self) -> Option<WriterStats> {
        match &self.backend {
            Backend::Sqlite(s) => Some(s.writer_stats()),
            Backend::Postgres(_) => None,
        }
    }
}

/// A server started by [`start`].
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    handle: axum_server::Handle<SocketAddr>,
    serve: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
    admin: Admin,
    grace: Duration,
    clock: clock::Clock,
}

impl RunningServer {
    /// The bound address (the real port when the configuration said 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` or `https://ADDR`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Admin operations on this server's store.
    pub fn admin(&self) -> Admin {
        self.admin.clone()
    }

    /// The server's clock (tests started with a [`clock::Clock::fixed`] one move it).
    pub fn clock(&self) -> clock::Clock {
        self.clock.clone()
    }

    /// Stops accepting connections, lets in-flight requests finish (up to the grace period),
    /// then returns.
    pub async fn shutdown(self) {
        self.handle.graceful_shutdown(Some(self.grace));
        self.finish().await;
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully.
    pub async fn run_until_signal(self) {
        shutdown_signal().await;
        tracing::info!("signal received; draining in-flight requests");
        self.shutdown().await;
    }

    async fn finish(self) {
        for task in &self.background {
            task.abort();
        }
        match self.serve.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "server stopped with an error"),
            Err(e) => tracing::error!(error = %e, "server task failed"),
        }
        tracing::info!("server stopped");
    }
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

/// Opens the database (migrating it), seeds the demo if asked, binds and starts serving.
/// Returns once the socket is bound.
pub async fn start(config: Config) -> Result<RunningServer, Error> {
    let backend = open_store(&config).await?;
    let store = backend.storage();
    let metrics = metrics::Metrics::new().with_collector(backend.metrics_collector());
    let admin = Admin::new(backend);
    if config.demo {
        if admin.seed_demo().await? {
            tracing::info!("seeded the demo catalog");
        } else {
            tracing::info!("database not empty; demo catalog not seeded");
        }
    }
    let category_ids: Vec<String> = store
        .categories()
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let state = http::AppState {
        store: store.clone(),
        metrics: Arc::new(metrics),
        openapi: Arc::new(openapi::document_with_categories(&category_ids)),
        identity: Arc::new(config.identity.clone()),
        sms: sms::gateway(&config.sms, store.clone(), config.clock.clone())?,
        sms_config: Arc::new(config.sms.clone()),
        clock: config.clock.clone(),
        dev_clock: config.dev_clock,
    };
    let app = http::router(
        state,
        http::HttpLimits {
            body_limit: config.body_limit,
            request_timeout: config.request_timeout,
        },
    );

    let listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| Error::Config(format!("cannot listen on {}: {e}", config.listen)))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    // Connect info carries the TCP peer address to handlers (the per-address OTP limit), on
    // the plain and the TLS path alike.
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let serve = match &config.tls {
        None => {
            let server = axum_server::from_tcp(listener)?.handle(handle.clone());
            tokio::spawn(server.serve(service))
        }
        Some(tls) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let rustls_config =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                    .await
                    .map_err(|e| {
                        Error::Config(format!(
                            "TLS certificate {} / key {}: {e}",
                            tls.cert.display(),
                            tls.key.display()
                        ))
                    })?;
            let server =
                axum_server::from_tcp_rustls(listener, rustls_config)?.handle(handle.clone());
            tokio::spawn(server.serve(service))
        }
    };

    let mut background = Vec::new();
    if let Some(every) = config.compact_every.filter(|d| !d.is_zero()) {
        let admin = admin.clone();
        let keep = config.compact_keep_ops;
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await; // the first tick is immediate
            loop {
                tick.tick().await;
                match admin.compact(keep).await {
                    Ok(r) if r.tombstones_removed > 0 => {
                        tracing::info!(removed = r.tombstones_removed, "compacted")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "compaction failed"),
                }
            }
        }));
    }
    tracing::info!(%addr, "listening");
    Ok(RunningServer {
        addr,
        tls: config.tls.is_some(),
        handle,
        serve,
        background,
        admin,
        grace: config.shutdown_grace,
        clock: config.clock.clone(),
    })
}
