//! `warung sync` and the demo's sync steps: a progress bar on the core's sync listener.

use crate::CliResult;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;
use warung_core::Profile;
use warung_core::secrets::SecureStorage;
use warung_core::sync::{
    CancelFlag, RejectedIntent, SyncClient, SyncConfig, SyncListener, SyncPhase, SyncProgress,
    SyncReport,
};

pub fn runtime() -> CliResult<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

pub fn client(
    profile: &Profile,
    storage: Arc<dyn SecureStorage>,
    server: &str,
    page_limit: u32,
) -> CliResult<SyncClient> {
    let mut config = SyncConfig::new(server, "cli");
    config.page_limit = page_limit;
    Ok(SyncClient::new(profile.clone(), storage, config)?)
}

/// Draws the round on a progress bar (hidden when not asked for).
struct Bar(ProgressBar);

impl SyncListener for Bar {
    fn on_progress(&self, p: &SyncProgress) {
        self.0.set_length(p.ops_estimated_total.max(p.ops_received));
        self.0.set_position(p.ops_received);
        let msg = match p.phase {
            SyncPhase::Registering => "registering",
            SyncPhase::Pushing => "sending intents",
            SyncPhase::Pulling => "pulling catalog",
            SyncPhase::Applying => "applying",
            SyncPhase::Done => "done",
        };
        self.0.set_message(msg);
    }

    fn on_rejected(&self, r: &RejectedIntent) {
        self.0.println(format!(
            "  intent #{} {} rejected by the server: {}",
            r.seq, r.kind, r.reason
        ));
    }
}

/// One round, with a progress bar if `show` and stderr is a terminal.
pub async fn run(client: &SyncClient, show: bool) -> CliResult<SyncReport> {
    let bar = if show {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:16} [{bar:30}] {pos}/{len} ops {elapsed}")?
            .progress_chars("=> "),
    );
    client.set_listener(Some(Arc::new(Bar(bar.clone()))));
    let result = client.sync_now(&CancelFlag::new()).await;
    client.set_listener(None);
    bar.finish_and_clear();
    Ok(result?)
}

pub fn print_report(r: &SyncReport) {
    println!(
        "synced: {} catalog ops (cursor {}){}, intents {} applied / {} rejected{}, {} device ops{}",
        r.catalog_ops,
        r.catalog_cursor,
        if r.reset { " after a reset" } else { "" },
        r.intents_applied,
        r.intents_rejected,
        if r.intents_deferred > 0 {
            format!(" / {} deferred", r.intents_deferred)
        } else {
            String::new()
        },
        r.device_ops,
        if r.cart_restored {
            "; cart restored from the server"
        } else {
            ""
        }
    );
}
