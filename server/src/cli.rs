//! The `warung-server` command line: flags and environment variables, serving by default,
//! and the admin subcommands (`merchant create|list|rotate-key`, `compact`). `main.rs` only
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
    /// Database URL (default sqlite://<data-dir>/warung.db); only sqlite:// is built.
    #[arg(long, env = "WARUNG_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Manage merchant accounts.
    #[command(subcommand)]
    Merchant(MerchantCommand),
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
