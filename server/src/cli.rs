//! The `warung-server` command line: flags and environment variables, serving by default,
//! and the admin subcommands (`merchant create|list|rotate-key`, `sms outbox`, `compact`). `main.rs` only
//! calls [`main`].

use crate::{Admin, Config, Error, TlsPaths};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use warung_core::protocol::MerchantKind;

#[derive(Debug, Parser)]
#[command(name = "warung-server", version, about = "Warung's sync server")]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Log as JSON lines (default: human-readable).
    #[arg(long, env = "WARUNG_LOG_JSON", global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// Directory of the SQLite database.
    #[arg(
        long,
        env = "WARUNG_DATA_DIR",
        default_value = "./warung-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// The database: sqlite://<path> (default: sqlite://<data-dir>/warung.db) or
    /// postgres://user[:password]@host[:port]/db[?sslmode=require] for several server
    /// processes in front of one PostgreSQL.
    #[arg(
        long,
        visible_alias = "database",
        env = "WARUNG_DATABASE_URL",
        global = true
    )]
    pub database_url: Option<String>,
    /// PostgreSQL: connections in this process's pool (keep the sum over all processes under
    /// the database's max_connections).
    #[arg(
        long,
        env = "WARUNG_DATABASE_POOL",
        default_value_t = 16,
        global = true
    )]
    pub database_pool: usize,
    /// PostgreSQL: a PEM file of CA certificates to trust for TLS (besides the webpki roots).
    #[arg(long, env = "WARUNG_DATABASE_CA", global = true)]
    pub database_ca: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "WARUNG_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Seed the demo catalog and its merchants into an empty database.
    #[arg(long, env = "WARUNG_DEMO")]
    pub demo: bool,
    /// TLS certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "WARUNG_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); needs --tls-cert.
    #[arg(long, env = "WARUNG_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Compact tombstones every this many seconds (0: never).
    #[arg(long, env = "WARUNG_COMPACT_EVERY", default_value_t = 3600)]
    pub compact_every: u64,
    /// Background compaction keeps tombstones among the newest N ops of each bucket.
    #[arg(long, env = "WARUNG_COMPACT_KEEP_OPS", default_value_t = 10_000)]
    pub compact_keep_ops: u64,
    /// Largest request body in bytes.
    #[arg(long, env = "WARUNG_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// Request timeout in seconds.
    #[arg(long, env = "WARUNG_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout: u64,
    /// Outbound SMS: `dev` keeps messages in the database, `http` posts to an aggregator.
    #[arg(long, env = "WARUNG_SMS_GATEWAY", value_enum, default_value_t = GatewayArg::Dev)]
    pub sms_gateway: GatewayArg,
    /// The aggregator's send URL (http gateway).
    #[arg(long, env = "WARUNG_SMS_URL")]
    pub sms_url: Option<String>,
    /// The aggregator's API key, sent as `Authorization: Bearer` (http gateway).
    #[arg(long, env = "WARUNG_SMS_API_KEY", hide_env_values = true)]
    pub sms_api_key: Option<String>,
    /// Sender id of outbound SMS.
    #[arg(long, env = "WARUNG_SMS_SENDER_ID", default_value = "WARUNG")]
    pub sms_sender_id: String,
    /// The short code phones send binding SMS to.
    #[arg(long, env = "WARUNG_SMS_SHORT_CODE", default_value = "3345")]
    pub sms_short_code: String,
    /// HMAC secret of inbound SMS deliveries; without it POST /v1/sms/inbound is 404.
    #[arg(long, env = "WARUNG_SMS_INBOUND_SECRET", hide_env_values = true)]
    pub sms_inbound_secret: Option<String>,
    /// Enables GET /v1/dev/sms (dev gateway only) for this bearer token.
    #[arg(long, env = "WARUNG_DEV_TOKEN", hide_env_values = true)]
    pub dev_token: Option<String>,
    /// Enables POST /v1/dev/clock (with the dev token), which moves the server's clock forward
    /// so test suites wait out cool-downs and expiries without sleeping. Never in production.
    #[arg(long, env = "WARUNG_DEV_CLOCK")]
    pub dev_clock: bool,
    /// Access token lifetime in seconds.
    #[arg(long, env = "WARUNG_ACCESS_TTL_S", default_value_t = 900)]
    pub access_ttl_s: i64,
    /// Refresh token (session) lifetime in seconds.
    #[arg(long, env = "WARUNG_REFRESH_TTL_S", default_value_t = 30 * 24 * 3600)]
    pub refresh_ttl_s: i64,
    /// SMS OTP lifetime in seconds.
    #[arg(long, env = "WARUNG_OTP_TTL_S", default_value_t = 300)]
    pub otp_ttl_s: i64,
    /// Seconds before another OTP may be sent to the same phone.
    #[arg(long, env = "WARUNG_OTP_RESEND_S", default_value_t = 30)]
    pub otp_resend_s: i64,
    /// OTP codes per hour per client address (IPv4 address, IPv6 /64).
    #[arg(long, env = "WARUNG_OTP_PER_ADDRESS_HOUR", default_value_t = crate::identity::DEFAULT_OTP_PER_ADDRESS_HOUR)]
    pub otp_per_address_hour: u32,
    /// OTP codes per hour per block of numbers (see --otp-prefix-drop-digits).
    #[arg(long, env = "WARUNG_OTP_PER_PREFIX_HOUR", default_value_t = crate::identity::DEFAULT_OTP_PER_PREFIX_HOUR)]
    pub otp_per_prefix_hour: u32,
    /// Trailing digits of the E.164 number dropped to form its block (3: blocks of 1,000).
    #[arg(long, env = "WARUNG_OTP_PREFIX_DROP_DIGITS", default_value_t = crate::identity::DEFAULT_OTP_PREFIX_DROP_DIGITS)]
    pub otp_prefix_drop_digits: u32,
    /// OTP codes per hour over the whole service.
    #[arg(long, env = "WARUNG_OTP_GLOBAL_HOUR", default_value_t = crate::identity::DEFAULT_OTP_GLOBAL_HOUR)]
    pub otp_global_hour: u32,
    /// Take the client address from the last X-Forwarded-For entry (only behind a reverse
    /// proxy that sets it and is the only way in).
    #[arg(long, env = "WARUNG_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// Binding token lifetime in seconds.
    #[arg(long, env = "WARUNG_BINDING_TTL_S", default_value_t = 600)]
    pub binding_ttl_s: i64,
    /// PBKDF2-HMAC-SHA256 iterations of new PIN hashes (default: OWASP 2023).
    #[arg(long, env = "WARUNG_PIN_ITERATIONS", default_value_t = crate::identity::DEFAULT_PIN_ITERATIONS)]
    pub pin_iterations: u32,
    /// Seconds money movement stays locked after 5 wrong PINs.
    #[arg(long, env = "WARUNG_PIN_LOCK_S", default_value_t = 1800)]
    pub pin_lock_s: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GatewayArg {
    Dev,
    Http,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Manage merchant accounts.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// SMS tools.
    #[command(subcommand)]
    Sms(SmsCommand),
    /// Apply the schema migrations of the configured database and print its version (the
    /// server also migrates at start).
    Migrate,
    /// Copy everything of the configured SQLite database (catalog, op log with its ids,
    /// merchants, devices, identity, intents and their results) into an empty PostgreSQL
    /// database, in one transaction. Stop the SQLite server first; then start the servers
    /// with --database postgres://…: phones keep syncing from their cursors.
    MoveToPostgres {
        /// The target: postgres://user@host:port/db (empty, migrated or not).
        #[arg(long)]
        to: String,
    },
    /// Delete old tombstones now.
    Compact {
        /// Keep tombstones among the newest N ops of each bucket (0: delete them all).
        #[arg(long, default_value_t = 0)]
        horizon_ops: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum MerchantCommand {
    /// Create a merchant; prints its id and API key (shown once).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        kind: KindArg,
    },
    /// List merchants (id, name, kind, key prefix, created).
    List,
    /// Issue a new API key for a merchant; the old key stops working.
    RotateKey {
        #[arg(long)]
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SmsCommand {
    /// Print the development gateway's outbox, newest first.
    Outbox {
        /// Only messages to this number.
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Shop,
    Seller,
}

impl From<KindArg> for MerchantKind {
    fn from(k: KindArg) -> MerchantKind {
        match k {
            KindArg::Shop => MerchantKind::Shop,
            KindArg::Seller => MerchantKind::Seller,
        }
    }
}

impl Cli {
    /// The server configuration these flags describe.
    pub fn config(&self) -> Config {
        let mut c = Config::new(self.store.data_dir.clone());
        c.database_url = self.store.database_url.clone();
        c.database_pool = self.store.database_pool.max(1);
        c.database_ca = self.store.database_ca.clone();
        c.listen = self.serve.listen;
        c.demo = self.serve.demo;
        c.tls = match (&self.serve.tls_cert, &self.serve.tls_key) {
            (Some(cert), Some(key)) => Some(TlsPaths {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        };
        c.compact_every =
            (self.serve.compact_every > 0).then(|| Duration::from_secs(self.serve.compact_every));
        c.compact_keep_ops = self.serve.compact_keep_ops;
        c.body_limit = self.serve.body_limit;
        c.request_timeout = Duration::from_secs(self.serve.request_timeout.max(1));
        let serve = &self.serve;
        c.sms.gateway = match serve.sms_gateway {
            GatewayArg::Dev => crate::sms::GatewayConfig::Dev,
            GatewayArg::Http => crate::sms::GatewayConfig::Http {
                url: serve.sms_url.clone().unwrap_or_default(),
                api_key: serve.sms_api_key.clone().unwrap_or_default(),
            },
        };
        c.sms.sender_id = serve.sms_sender_id.clone();
        c.sms.short_code = serve.sms_short_code.clone();
        c.sms.inbound_secret = serve.sms_inbound_secret.clone().filter(|s| !s.is_empty());
        c.sms.dev_token = serve.dev_token.clone().filter(|s| !s.is_empty());
        c.dev_clock = serve.dev_clock;
        c.identity.access_ttl_s = serve.access_ttl_s.max(1);
        c.identity.refresh_ttl_s = serve.refresh_ttl_s.max(1);
        c.identity.otp_ttl_s = serve.otp_ttl_s.max(1);
        c.identity.otp_resend_s = serve.otp_resend_s.max(0);
        c.identity.otp_per_address_hour = serve.otp_per_address_hour;
        c.identity.otp_per_prefix_hour = serve.otp_per_prefix_hour;
        c.identity.otp_prefix_drop_digits = serve.otp_prefix_drop_digits;
        c.identity.otp_global_hour = serve.otp_global_hour;
        c.identity.trust_forwarded_for = serve.trust_forwarded_for;
        c.identity.binding_ttl_s = serve.binding_ttl_s.max(1);
        c.identity.pin_iterations = serve.pin_iterations.max(1);
        c.identity.pin_lock_s = serve.pin_lock_s.max(1);
        c
    }
}

/// Prints to stdout, ignoring a closed pipe (`warung-server merchant list | head`).
fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARUNG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    let config = cli.config();
    match cli.command {
        None | Some(Command::Serve) => {
            let server = crate::start(config).await?;
            out(&format!("listening on {}", server.url()));
            server.run_until_signal().await;
            Ok(())
        }
        Some(Command::Merchant(MerchantCommand::Create { name, kind })) => {
            let admin = Admin::open(&config).await?;
            let (account, key) = admin.create_merchant(&name, kind.into()).await?;
            out(&format!("merchant id: {}\napi key:     {key}", account.id));
            out("(the key is shown once; the server stores only its hash)");
            Ok(())
        }
        Some(Command::Merchant(MerchantCommand::List)) => {
            let admin = Admin::open(&config).await?;
            let accounts = admin.list_merchants().await?;
            let mut table = format!(
                "{:<40} {:<28} {:<7} {:<11} CREATED",
                "ID", "NAME", "KIND", "KEY"
            );
            for a in accounts {
                let kind = match a.kind {
                    MerchantKind::Shop => "shop",
                    MerchantKind::Seller => "seller",
                };
                let key = if a.key_prefix.is_empty() {
                    "-".to_owned()
                } else {
                    format!("{}…", a.key_prefix)
                };
                let created = a
                    .created_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                let name: String = a.name.chars().take(28).collect();
                table.push_str(&format!(
                    "\n{:<40} {:<28} {:<7} {:<11} {created}",
                    a.id, name, kind, key
                ));
            }
            out(&table);
            Ok(())
        }
        Some(Command::Merchant(MerchantCommand::RotateKey { id })) => {
            let admin = Admin::open(&config).await?;
            let (account, key) = admin.rotate_key(&id).await?;
            out(&format!("merchant id: {}\napi key:     {key}", account.id));
            out("(the previous key no longer works)");
            Ok(())
        }
        Some(Command::Sms(SmsCommand::Outbox { to, limit })) => {
            let admin = Admin::open(&config).await?;
            let messages = admin.dev_sms_outbox(to.as_deref(), limit).await?;
            if messages.is_empty() {
                out("(no messages)");
            }
            for m in messages {
                let at = m
                    .created_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                out(&format!("{at}  {} -> {}  {}", m.sender, m.to, m.text));
            }
            Ok(())
        }
        Some(Command::Migrate) => {
            let (backend, version) = crate::migrate(&config).await?;
            out(&format!("{backend} schema at version {version}"));
            Ok(())
        }
        Some(Command::MoveToPostgres { to }) => {
            let report = crate::move_to_postgres(&config, &to).await?;
            for (table, rows) in &report.tables {
                out(&format!("{table:<16} {rows:>10} rows"));
            }
            out(&format!(
                "moved {} rows into {}",
                report.total_rows(),
                redact_url(&to)
            ));
            Ok(())
        }
        Some(Command::Compact { horizon_ops }) => {
            let admin = Admin::open(&config).await?;
            let report = admin.compact(horizon_ops).await?;
            out(&format!("removed {} tombstones", report.tombstones_removed));
            for (bucket, horizon) in report.horizons {
                out(&format!("{bucket}: horizon {horizon}"));
            }
            Ok(())
        }
    }
}

/// A database URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
