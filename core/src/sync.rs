//! The sync client: pushes the outbox, then pulls the catalog and this device's bucket.
//!
//! One [`SyncClient::sync_now`] round:
//! 1. **Register** the device once (`POST /v1/devices`); the device id and token live in the
//!    app's [`SecureStorage`], never in SQLite, so a reinstalled app keeps its identity and
//!    gets its cart back.
//! 2. **Push** pending intents in sequence order (`POST /v1/intents`), record each result in
//!    the outbox; a rejection is reported to the [`SyncListener`] and never blocks the queue;
//!    `retry_later` leaves the intent pending for the next round.
//! 3. **Pull** the catalog bucket from the stored cursor. Every page is verified against its
//!    checkpoint checksum. A single-page delta is applied at once; a longer pull stages its
//!    pages (one transaction each, so a killed process resumes after the last whole page) and
//!    applies the whole checkpoint in one transaction when the last page is in — cursor
//!    included. `reset` (our cursor is older than the server's compaction horizon) drops the
//!    local catalog and pulls again from 0.
//! 4. **Pull** the device bucket: intent results (in case a push answer was lost) and the
//!    server's copy of the cart, restored into an empty cart after a reinstall.
//!
//! Transient failures (connection errors, timeouts, 5xx, 429) are retried with exponential
//! back-off and full jitter; a client mistake (4xx) is not retried and comes back as
//! [`Error::Server`] with the server's error code. A round can be cancelled with a
//! [`CancelFlag`] or by dropping its future: every database step is one transaction, so a
//! cancelled or killed round leaves no half-written state.

use crate::Profile;
use crate::error::{Error, Result};
use crate::protocol::{
    ApiError, Bucket, DeviceAction, DeviceInfo, DeviceOp, DeviceRegistration, Intent, IntentBatch,
    IntentBatchResult, IntentOutcome, IntentResult, MAX_INTENT_BATCH, Page, PullQuery,
    RegisterDevice, page_checksum,
};
use crate::secrets::SecureStorage;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// Key of the device identity in secure storage.
pub const DEVICE_IDENTITY_KEY: &str = "warung.sync.device.v1";

/// How a client talks to its server.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Base URL, e.g. `https://sync.warung.id` or `http://127.0.0.1:8080`.
    pub server_url: String,
    /// `android`, `ios` or `cli`.
    pub platform: String,
    pub app_version: Option<String>,
    /// Ops per pulled page (1..=5000).
    pub page_limit: u32,
    /// Intents per pushed batch (1..=500).
    pub intent_batch: u32,
    pub retry: RetryPolicy,
    /// Per HTTP request.
    pub request_timeout: Duration,
    /// Extra trusted roots (PEM), e.g. a self-signed development server.
    pub extra_root_certs_pem: Vec<Vec<u8>>,
}

impl SyncConfig {
    pub fn new(server_url: impl Into<String>, platform: impl Into<String>) -> SyncConfig {
        SyncConfig {
            server_url: server_url.into().trim_end_matches('/').to_string(),
            platform: platform.into(),
            app_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            page_limit: crate::protocol::DEFAULT_PAGE_LIMIT,
            intent_batch: 100,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            extra_root_certs_pem: Vec::new(),
        }
    }
}

/// Exponential back-off with full jitter: attempt `n` waits a random time in
/// `0 ..= min(max, base * 2^n)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub max_attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(200),
            max: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (0 = the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.max);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// Cancels a running round at its next step. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn new() -> CancelFlag {
        CancelFlag::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPhase {
    Registering,
    Pushing,
    Pulling,
    Applying,
    Done,
}

/// Where a round stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncProgress {
    pub phase: SyncPhase,
    /// Catalog ops received so far in this round.
    pub ops_received: u64,
    /// Ops received plus what the server said remains: the total to expect.
    pub ops_estimated_total: u64,
    /// Intents sent so far in this round.
    pub intents_sent: u64,
}

/// An intent the server rejected (terminal; it will not be retried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedIntent {
    pub seq: u64,
    pub idempotency_key: String,
    pub kind: String,
    /// The server's stable reason code, e.g. `out_of_stock`.
    pub reason: String,
}

/// Hears about a round. Called on the syncing thread; keep it short.
pub trait SyncListener: Send + Sync {
    fn on_progress(&self, _progress: &SyncProgress) {}
    fn on_rejected(&self, _rejected: &RejectedIntent) {}
    /// A catalog checkpoint was applied with `count` entities set aside in quarantine
    /// (`Catalog::quarantined` lists them); the rest of it is applied.
    fn on_quarantined(&self, _count: u64) {}
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub intents_applied: u64,
    pub intents_rejected: u64,
    /// Sent but answered `retry_later`: still pending.
    pub intents_deferred: u64,
    pub catalog_ops: u64,
    pub device_ops: u64,
    pub catalog_cursor: u64,
    /// The server asked for a reset and the catalog was pulled again from scratch.
    pub reset: bool,
    pub cart_restored: bool,
    /// Catalog entities this round set aside in quarantine instead of failing the checkpoint.
    pub catalog_quarantined: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Identity {
    server_url: String,
    device_id: String,
    token: String,
}

/// Syncs one [`Profile`] with one server. Cheap to clone; one round runs at a time.
#[derive(Clone)]
pub struct SyncClient {
    inner: Arc<Inner>,
}

struct Inner {
    profile: Profile,
    storage: Arc<dyn SecureStorage>,
    http: reqwest::Client,
    config: SyncConfig,
    listener: RwLock<Option<Arc<dyn SyncListener>>>,
    last_error: Mutex<Option<Error>>,
    round: tokio::sync::Mutex<()>,
    background: Mutex<Option<Background>>,
    /// Sessions and device keys (see [`crate::verify`]).
    identity: crate::verify::IdentityState,
}

struct Background {
    task: tokio::task::JoinHandle<()>,
    wake: Arc<tokio::sync::Notify>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(bg) = self.background.get_mut().ok().and_then(|b| b.take()) {
            bg.task.abort();
        }
    }
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClient")
            .field("server_url", &self.inner.config.server_url)
            .finish()
    }
}

impl SyncClient {
    /// A client for `profile`. If secure storage holds an identity for this server that the
    /// profile does not use yet (a reinstalled app), the profile adopts it now — before any
    /// intent could be queued under a new id.
    pub fn new(
        profile: Profile,
        storage: Arc<dyn SecureStorage>,
        config: SyncConfig,
    ) -> Result<SyncClient> {
        if !(1..=crate::protocol::MAX_PAGE_LIMIT).contains(&config.page_limit) {
            return Err(Error::InvalidSyncConfig(format!(
                "page limit {} is out of range (1..={})",
                config.page_limit,
                crate::protocol::MAX_PAGE_LIMIT
            )));
        }
        if !(1..=MAX_INTENT_BATCH as u32).contains(&config.intent_batch) {
            return Err(Error::InvalidSyncConfig(format!(
                "intent batch {} is out of range (1..={MAX_INTENT_BATCH})",
                config.intent_batch
            )));
        }
        let url = reqwest::Url::parse(&config.server_url).map_err(|e| {
            Error::InvalidSyncConfig(format!("server URL {:?}: {e}", config.server_url))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::InvalidSyncConfig(format!(
                "server URL {:?} must be http or https",
                config.server_url
            )));
        }
        let mut http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("warung-core/", env!("CARGO_PKG_VERSION")));
        for pem in &config.extra_root_certs_pem {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| Error::InvalidSyncConfig(format!("root certificate: {e}")))?;
            http = http.add_root_certificate(cert);
        }
        let http = http
            .build()
            .map_err(|e| Error::Network(format!("HTTP client: {e}")))?;
        let client = SyncClient {
            inner: Arc::new(Inner {
                profile,
                storage,
                http,
                config,
                listener: RwLock::new(None),
                last_error: Mutex::new(None),
                round: tokio::sync::Mutex::new(()),
                background: Mutex::new(None),
                identity: crate::verify::IdentityState::default(),
            }),
        };
        if let Some(identity) = client.identity()? {
            client
                .inner
                .profile
                .outbox()
                .adopt_device(&identity.device_id)?;
        }
        Ok(client)
    }

    pub fn set_listener(&self, listener: Option<Arc<dyn SyncListener>>) {
        *self
            .inner
            .listener
            .write()
            .unwrap_or_else(|p| p.into_inner()) = listener;
    }

    /// The error of the last round, `None` if it succeeded (or none ran yet).
    pub fn last_error(&self) -> Option<Error> {
        self.inner
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Intents queued and not yet answered by the server.
    pub fn pending_intents(&self) -> Result<u64> {
        self.inner.profile.outbox().pending_count()
    }

    /// Whether the device has registered with this server.
    pub fn is_registered(&self) -> Result<bool> {
        Ok(self.identity()?.is_some())
    }

    /// One round now: register if needed, push, pull. Waits for a running round to end first.
    pub async fn sync_now(&self, cancel: &CancelFlag) -> Result<SyncReport> {
        let _round = self.inner.round.lock().await;
        let result = self.round(cancel).await;
        *self
            .inner
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = result.as_ref().err().cloned();
        result
    }

    /// Runs a round every `every` (and at once when [`SyncClient::request_sync`] is called) on
    /// `runtime` until [`SyncClient::stop_background`]. A failed round is retried sooner, with
    /// back-off. Replaces a running background loop.
    pub fn start_background(&self, runtime: &tokio::runtime::Handle, every: Duration) {
        self.stop_background();
        let wake = Arc::new(tokio::sync::Notify::new());
        // The loop holds a weak reference: dropping the last client ends it.
        let weak = Arc::downgrade(&self.inner);
        let notified = wake.clone();
        let task = runtime.spawn(async move {
            let mut failures = 0u32;
            loop {
                let Some(inner) = weak.upgrade() else { return };
                let client = SyncClient { inner };
                let wait = match client.sync_now(&CancelFlag::new()).await {
                    Ok(_) => {
                        failures = 0;
                        every
                    }
                    Err(_) => {
                        failures = failures.saturating_add(1);
                        let retry = client.inner.config.retry;
                        retry.base.max(retry.delay(failures)).min(every)
                    }
                };
                drop(client);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = notified.notified() => {}
                }
            }
        });
        *self
            .inner
            .background
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(Background { task, wake });
    }

    /// Stops the background loop (a round in flight stops at its next await; every database
    /// step is atomic).
    pub fn stop_background(&self) {
        if let Some(bg) = self
            .inner
            .background
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            bg.task.abort();
        }
    }

    pub fn is_background_running(&self) -> bool {
        self.inner
            .background
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|bg| !bg.task.is_finished())
    }

    /// Asks the background loop for a round now (e.g. after a cart edit).
    pub fn request_sync(&self) {
        if let Some(bg) = self
            .inner
            .background
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            bg.wake.notify_one();
        }
    }

    // -- one round ------------------------------------------------------------------------

    async fn round(&self, cancel: &CancelFlag) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        let mut progress = SyncProgress {
            phase: SyncPhase::Registering,
            ops_received: 0,
            ops_estimated_total: 0,
            intents_sent: 0,
        };
        cancel.check()?;
        let identity = self.ensure_registered(cancel).await?;
        // Keep a signed-in session fresh; the catalog sync works without one.
        self.refresh_session_in_round(cancel).await?;
        self.push(&identity, cancel, &mut report, &mut progress)
            .await?;
        self.pull_catalog(cancel, &mut report, &mut progress)
            .await?;
        self.pull_device(&identity, cancel, &mut report).await?;
        report.catalog_cursor = self.blocking(|p| p.catalog().cursor()).await?;
        progress.phase = SyncPhase::Done;
        self.progress(&progress);
        Ok(report)
    }

    fn identity(&self) -> Result<Option<Identity>> {
        let raw = self
            .inner
            .storage
            .get(DEVICE_IDENTITY_KEY)
            .map_err(|e| Error::Storage(format!("secure storage: {e}")))?;
        let Some(raw) = raw else { return Ok(None) };
        let identity: Identity = serde_json::from_slice(&raw)
            .map_err(|e| Error::Storage(format!("secure storage: device identity: {e}")))?;
        // An identity for another server does not count here.
        Ok((identity.server_url == self.inner.config.server_url).then_some(identity))
    }

    async fn ensure_registered(&self, cancel: &CancelFlag) -> Result<Identity> {
        if let Some(identity) = self.identity()? {
            if self.inner.profile.outbox().needs_rebase()? {
                let info: DeviceInfo = self
                    .request(cancel, || {
                        self.get("/v1/devices/me").bearer_auth(&identity.token)
                    })
                    .await?;
                self.blocking(move |p| p.outbox().rebase(info.next_seq))
                    .await?;
            }
            return Ok(identity);
        }
        let device_id = self.blocking(|p| p.outbox().device_id()).await?;
        let body = RegisterDevice {
            device_id: device_id.clone(),
            platform: self.inner.config.platform.clone(),
            app_version: self.inner.config.app_version.clone(),
        };
        let reg: DeviceRegistration = self
            .request(cancel, || self.post("/v1/devices").json(&body))
            .await?;
        let identity = Identity {
            server_url: self.inner.config.server_url.clone(),
            device_id: reg.device_id,
            token: reg.device_token,
        };
        let bytes = serde_json::to_vec(&identity)
            .map_err(|e| Error::Storage(format!("device identity: {e}")))?;
        self.inner
            .storage
            .put(DEVICE_IDENTITY_KEY, &bytes)
            .map_err(|e| Error::Storage(format!("secure storage: {e}")))?;
        if reg.next_seq > 1 {
            self.blocking(move |p| p.outbox().rebase(reg.next_seq))
                .await?;
        }
        Ok(identity)
    }

    async fn push(
        &self,
        identity: &Identity,
        cancel: &CancelFlag,
        report: &mut SyncReport,
        progress: &mut SyncProgress,
    ) -> Result<()> {
        progress.phase = SyncPhase::Pushing;
        let limit = self.inner.config.intent_batch;
        loop {
            cancel.check()?;
            let batch: Vec<Intent> = self.blocking(move |p| p.outbox().next_batch(limit)).await?;
            if batch.is_empty() {
                return Ok(());
            }
            self.progress(progress);
            let body = IntentBatch {
                intents: batch.clone(),
            };
            let answer: IntentBatchResult = self
                .request(cancel, || {
                    self.post("/v1/intents")
                        .bearer_auth(&identity.token)
                        .json(&body)
                })
                .await?;
            progress.intents_sent += batch.len() as u64;
            let deferred = answer
                .results
                .iter()
                .filter(|r| !r.outcome.is_terminal())
                .count() as u64;
            report.intents_deferred += deferred;
            let terminal = self.record(answer.results, &batch).await?;
            for r in &terminal {
                match r.outcome {
                    IntentOutcome::Applied => report.intents_applied += 1,
                    _ => report.intents_rejected += 1,
                }
            }
            // Deferred intents wait for the next round; an answer that covers nothing would
            // loop forever.
            if deferred > 0 || terminal.is_empty() {
                return Ok(());
            }
        }
    }

    /// Records terminal outcomes in the outbox and reports rejections. Returns what changed.
    async fn record(
        &self,
        results: Vec<IntentResult>,
        sent: &[Intent],
    ) -> Result<Vec<IntentResult>> {
        let terminal: Vec<IntentResult> = results
            .into_iter()
            .filter(|r| r.outcome.is_terminal())
            .collect();
        let pairs: Vec<(String, IntentOutcome)> = terminal
            .iter()
            .map(|r| (r.idempotency_key.clone(), r.outcome.clone()))
            .collect();
        let changed = self
            .blocking(move |p| p.outbox().record_known_results(&pairs))
            .await?;
        for r in terminal
            .iter()
            .filter(|r| changed.contains(&r.idempotency_key))
        {
            if let IntentOutcome::Rejected { reason } = &r.outcome {
                let kind = sent
                    .iter()
                    .find(|i| i.idempotency_key == r.idempotency_key)
                    .map(|i| i.body.kind().to_string())
                    .unwrap_or_default();
                self.rejected(&RejectedIntent {
                    seq: r.seq,
                    idempotency_key: r.idempotency_key.clone(),
                    kind,
                    reason: reason.clone(),
                });
            }
        }
        Ok(terminal)
    }

    async fn pull_catalog(
        &self,
        cancel: &CancelFlag,
        report: &mut SyncReport,
        progress: &mut SyncProgress,
    ) -> Result<()> {
        progress.phase = SyncPhase::Pulling;
        let staged = self.blocking(|p| p.catalog().staged_cursor()).await?;
        let mut after = match staged {
            Some(s) => s,
            None => self.blocking(|p| p.catalog().cursor()).await?,
        };
        let mut staging = staged.is_some();
        let mut horizon = self.blocking(|p| p.catalog().sync_horizon()).await?;
        let mut resets = 0;
        loop {
            cancel.check()?;
            let page = self
                .pull_page(Bucket::Catalog, after, horizon, None, cancel)
                .await?;
            if page.reset {
                resets += 1;
                if resets > 2 {
                    return Err(Error::SyncIntegrity(
                        "the server keeps asking for a reset".into(),
                    ));
                }
                self.blocking(|p| p.catalog().reset()).await?;
                report.reset = true;
                after = 0;
                horizon = 0;
                staging = false;
                continue;
            }
            if after == 0 && page.horizon != horizon {
                // A pull from 0 is complete against the horizon of its first page.
                horizon = page.horizon;
                self.blocking(move |p| p.catalog().set_sync_horizon(horizon))
                    .await?;
            }
            let ops = page_ops(&page)?;
            progress.ops_received += ops.len() as u64;
            progress.ops_estimated_total = progress.ops_received + page.remaining;
            report.catalog_ops += ops.len() as u64;
            self.progress(progress);
            after = page.checkpoint.op_id;
            if !page.has_more && !staging {
                // The whole checkpoint is this page: apply it directly.
                if !ops.is_empty() {
                    progress.phase = SyncPhase::Applying;
                    self.progress(progress);
                    let applied = self.blocking(move |p| p.catalog().apply_sync(&ops)).await?;
                    self.quarantined(report, applied.quarantined);
                }
                return Ok(());
            }
            if !ops.is_empty() {
                self.blocking(move |p| p.catalog().stage(&ops)).await?;
            }
            staging = true;
            if !page.has_more {
                progress.phase = SyncPhase::Applying;
                self.progress(progress);
                let applied = self.blocking(|p| p.catalog().apply_staged()).await?;
                self.quarantined(report, applied.quarantined);
                return Ok(());
            }
        }
    }

    async fn pull_device(
        &self,
        identity: &Identity,
        cancel: &CancelFlag,
        report: &mut SyncReport,
    ) -> Result<()> {
        let mut after = self.blocking(|p| p.outbox().device_cursor()).await?;
        loop {
            cancel.check()?;
            let page = self
                .pull_page(Bucket::Device, after, 0, Some(&identity.token), cancel)
                .await?;
            if page.reset {
                // Results are kept for good and the cart op is re-written on every change, so a
                // fresh pull of the device bucket is always safe.
                after = 0;
                continue;
            }
            let ops = page_ops(&page)?
                .into_iter()
                .map(|(_, raw)| {
                    serde_json::from_str::<DeviceOp>(&raw)
                        .map_err(|e| Error::SyncIntegrity(format!("not a device op: {e}")))
                })
                .collect::<Result<Vec<_>>>()?;
            report.device_ops += ops.len() as u64;
            let mut results = Vec::new();
            let mut cart = None;
            for op in &ops {
                match &op.action {
                    DeviceAction::IntentResult { result } => results.push(result.clone()),
                    DeviceAction::Cart { cart: mirror } => cart = Some(mirror.clone()),
                }
            }
            // Restore first: if the process dies before the cursor moves, the cart op comes
            // again and restoring into a non-empty cart is a no-op.
            if let Some(mirror) = cart {
                report.cart_restored |= self.blocking(move |p| p.cart().restore(&mirror)).await?;
            }
            if !results.is_empty() {
                // The intents' kinds, for the listener (only when there is something to hear).
                let sent = self.blocking(|p| p.outbox().list(u32::MAX)).await?;
                let sent: Vec<Intent> = sent.into_iter().map(|q| q.intent).collect();
                self.record(results, &sent).await?;
            }
            if page.checkpoint.op_id != after {
                after = page.checkpoint.op_id;
                let cursor = after;
                self.blocking(move |p| p.outbox().set_device_cursor(cursor))
                    .await?;
            }
            if !page.has_more {
                return Ok(());
            }
        }
    }

    async fn pull_page(
        &self,
        bucket: Bucket,
        after: u64,
        horizon: u64,
        token: Option<&str>,
        cancel: &CancelFlag,
    ) -> Result<Page<Box<RawValue>>> {
        let limit = self.inner.config.page_limit;
        let path = format!("/v1/buckets/{}/ops", bucket.as_str());
        let page: Page<Box<RawValue>> = self
            .request(cancel, || {
                let req = self.get(&path).query(&PullQuery {
                    after,
                    limit,
                    horizon,
                });
                match token {
                    Some(t) => req.bearer_auth(t),
                    None => req,
                }
            })
            .await?;
        verify_page(&page, after)?;
        Ok(page)
    }

    // -- plumbing -------------------------------------------------------------------------

    pub(crate) fn storage(&self) -> &dyn SecureStorage {
        self.inner.storage.as_ref()
    }

    /// The configured base URL, without a trailing `/`.
    pub(crate) fn server_url(&self) -> &str {
        &self.inner.config.server_url
    }

    pub(crate) fn identity_state(&self) -> &crate::verify::IdentityState {
        &self.inner.identity
    }

    /// A request to `path` (which starts with `/`) on the server.
    pub(crate) fn http(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.inner
            .http
            .request(method, format!("{}{path}", self.inner.config.server_url))
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.inner
            .http
            .get(format!("{}{path}", self.inner.config.server_url))
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.inner
            .http
            .post(format!("{}{path}", self.inner.config.server_url))
    }

    /// Sends with retries (transport errors, 5xx, 429, 408) and decodes the JSON answer; any
    /// other status is [`Error::Server`] with the server's error code.
    async fn request<T: serde::de::DeserializeOwned>(
        &self,
        cancel: &CancelFlag,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<T> {
        let answer = self.exchange(cancel, Retry::Transient, build).await?;
        if !answer.is_success() {
            return Err(server_error(answer.status, &answer.body));
        }
        serde_json::from_slice(&answer.body)
            .map_err(|e| Error::SyncIntegrity(format!("unexpected answer: {e}")))
    }

    /// The one HTTP path of the client: sends `build()`, retrying as `retry` allows with
    /// back-off, and returns the final answer whatever its status (the caller maps a refusal
    /// to an error). Transport failures after the retries are [`Error::Network`].
    pub(crate) async fn exchange(
        &self,
        cancel: &CancelFlag,
        retry: Retry,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Answer> {
        let policy = self.inner.config.retry;
        let mut attempt = 0;
        loop {
            cancel.check()?;
            let (outcome, retryable) = match build().send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers();
                    let retry_after_s = headers
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let date = headers
                        .get(reqwest::header::DATE)
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_http_date);
                    match resp.bytes().await {
                        Ok(body) => (
                            Ok(Answer {
                                status,
                                body: body.to_vec(),
                                retry_after_s,
                                date,
                            }),
                            retry.retries_status(status),
                        ),
                        // The server answered: the request was processed.
                        Err(e) => (
                            Err(Error::Network(e.to_string())),
                            !matches!(retry, Retry::Unsent),
                        ),
                    }
                }
                Err(e) => {
                    let retryable = !matches!(retry, Retry::Unsent) || e.is_connect();
                    (Err(Error::Network(describe(&e))), retryable)
                }
            };
            attempt += 1;
            if !retryable || attempt >= policy.max_attempts {
                return outcome;
            }
            let wait = policy.delay(attempt - 1);
            tokio::time::sleep(wait).await;
        }
    }

    /// Runs a database step off the async threads (a big checkpoint takes seconds).
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Profile) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let profile = self.inner.profile.clone();
        tokio::task::spawn_blocking(move || f(&profile))
            .await
            .map_err(|e| Error::Storage(format!("sync worker: {e}")))?
    }

    fn listener(&self) -> Option<Arc<dyn SyncListener>> {
        self.inner
            .listener
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn progress(&self, p: &SyncProgress) {
        if let Some(l) = self.listener() {
            l.on_progress(p);
        }
    }

    fn rejected(&self, r: &RejectedIntent) {
        if let Some(l) = self.listener() {
            l.on_rejected(r);
        }
    }

    fn quarantined(&self, report: &mut SyncReport, count: usize) {
        if count == 0 {
            return;
        }
        report.catalog_quarantined += count as u64;
        if let Some(l) = self.listener() {
            l.on_quarantined(count as u64);
        }
    }
}

/// Checks a page against its checkpoint: ops in increasing op id above the cursor, the
/// checkpoint at the last op, and the checksum over the ops' JSON text as received.
fn verify_page(page: &Page<Box<RawValue>>, after: u64) -> Result<()> {
    if page.reset {
        return Ok(());
    }
    let sum = page_checksum(page.ops.iter().map(|o| o.get().as_bytes()));
    if sum != page.checkpoint.checksum {
        return Err(Error::SyncIntegrity(format!(
            "page checksum {sum} does not match the checkpoint's {}",
            page.checkpoint.checksum
        )));
    }
    let ids = page_ops(page)?;
    let mut last = after;
    for (id, _) in &ids {
        if *id <= last {
            return Err(Error::SyncIntegrity(format!(
                "op {id} does not follow {last}"
            )));
        }
        last = *id;
    }
    if page.checkpoint.op_id != last {
        return Err(Error::SyncIntegrity(format!(
            "checkpoint {} is not the page's last op {last}",
            page.checkpoint.op_id
        )));
    }
    Ok(())
}

/// `(op_id, JSON text)` of each op of a page.
fn page_ops(page: &Page<Box<RawValue>>) -> Result<Vec<(u64, String)>> {
    #[derive(Deserialize)]
    struct OpId {
        op_id: u64,
    }
    page.ops
        .iter()
        .map(|raw| {
            let id: OpId = serde_json::from_str(raw.get())
                .map_err(|e| Error::SyncIntegrity(format!("op without an op id: {e}")))?;
            Ok((id.op_id, raw.get().to_string()))
        })
        .collect()
}

pub(crate) fn server_error(status: u16, body: &[u8]) -> Error {
    match serde_json::from_slice::<ApiError>(body) {
        Ok(e) => Error::Server {
            status,
            code: e.error.code,
            message: e.error.message,
        },
        Err(_) => Error::Server {
            status,
            code: "http_error".into(),
            message: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        },
    }
}

/// Which failures a request may be repeated after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Sync calls (idempotent by design: intents carry idempotency keys): transport errors,
    /// 5xx, 408 and 429.
    Transient,
    /// Safe to repeat, but a 429 is the caller's answer, not a reason to hammer the server
    /// (identity reads): transport errors, 5xx, 408.
    TransientExcept429,
    /// Not safe to repeat — it sends an SMS, consumes a code or rotates a token: only a
    /// connection that was never made is retried.
    Unsent,
}

impl Retry {
    fn retries_status(self, status: u16) -> bool {
        match self {
            Retry::Transient => status >= 500 || status == 429 || status == 408,
            Retry::TransientExcept429 => status >= 500 || status == 408,
            Retry::Unsent => false,
        }
    }
}

/// A final HTTP answer, any status.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// `Retry-After` in seconds, when given.
    pub retry_after_s: Option<u64>,
    /// The server's clock (`Date` header), when given.
    pub date: Option<time::OffsetDateTime>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// An HTTP `Date` (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn parse_http_date(text: &str) -> Option<time::OffsetDateTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(text.trim(), format)
        .ok()
        .map(|t| t.assume_utc())
}

/// reqwest's Display hides the cause ("error sending request"); include the chain.
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Checkpoint;

    fn page(ops: &[&str], checksum: Option<u32>, last: u64) -> Page<Box<RawValue>> {
        let ops: Vec<Box<RawValue>> = ops
            .iter()
            .map(|s| RawValue::from_string(s.to_string()).unwrap())
            .collect();
        let sum = page_checksum(ops.iter().map(|o| o.get().as_bytes()));
        Page {
            ops,
            checkpoint: Checkpoint {
                op_id: last,
                checksum: checksum.unwrap_or(sum),
            },
            has_more: false,
            reset: false,
            head: last,
            horizon: 0,
            remaining: 0,
        }
    }

    #[test]
    fn pages_are_verified_against_their_checkpoint() {
        let a = r#"{"op_id":5,"op":"remove","kind":"product","id":"p-1"}"#;
        let b = r#"{"op_id":7,"op":"remove","kind":"product","id":"p-2"}"#;
        verify_page(&page(&[a, b], None, 7), 4).unwrap();
        verify_page(&page(&[], None, 4), 4).unwrap();
        // A mangled checksum, a wrong checkpoint, ops at or below the cursor, out of order.
        assert!(matches!(
            verify_page(&page(&[a, b], Some(1), 7), 4),
            Err(Error::SyncIntegrity(_))
        ));
        assert!(verify_page(&page(&[a, b], None, 9), 4).is_err());
        assert!(verify_page(&page(&[a, b], None, 7), 5).is_err());
        assert!(verify_page(&page(&[b, a], None, 5), 4).is_err());
        assert!(verify_page(&page(&[r#"{"op":"x"}"#], None, 4), 4).is_err());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for attempt in 0..40 {
            let d = p.delay(attempt);
            let ceiling = Duration::from_millis(100 * (1u64 << attempt.min(20))).min(p.max);
            assert!(d <= ceiling, "attempt {attempt}: {d:?} > {ceiling:?}");
        }
        // Jitter: not always the ceiling.
        let waits: std::collections::HashSet<_> = (0..20).map(|_| p.delay(10)).collect();
        assert!(waits.len() > 1);
    }

    #[test]
    fn bad_configs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let profile = Profile::open(dir.path().join("p.db"), crate::money::Currency::IDR).unwrap();
        let storage: Arc<dyn SecureStorage> = Arc::new(crate::secrets::MemoryStorage::default());
        let mut c = SyncConfig::new("ftp://x", "cli");
        assert!(SyncClient::new(profile.clone(), storage.clone(), c.clone()).is_err());
        c.server_url = "not a url".into();
        assert!(SyncClient::new(profile.clone(), storage.clone(), c.clone()).is_err());
        let mut c = SyncConfig::new("http://127.0.0.1:1", "cli");
        c.page_limit = 0;
        assert!(SyncClient::new(profile.clone(), storage.clone(), c).is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn unreachable_server_is_a_network_error_after_retries() {
        let dir = tempfile::tempdir().unwrap();
        let profile = Profile::open(dir.path().join("p.db"), crate::money::Currency::IDR).unwrap();
        let storage: Arc<dyn SecureStorage> = Arc::new(crate::secrets::MemoryStorage::default());
        // A port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut c = SyncConfig::new(format!("http://127.0.0.1:{port}"), "cli");
        c.retry = RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(1),
            max: Duration::from_millis(5),
        };
        let client = SyncClient::new(profile, storage, c).unwrap();
        let err = client.sync_now(&CancelFlag::new()).await.unwrap_err();
        assert!(matches!(err, Error::Network(_)), "{err:?}");
        assert_eq!(client.last_error(), Some(err));
        let cancel = CancelFlag::new();
        cancel.cancel();
        assert_eq!(client.sync_now(&cancel).await, Err(Error::Cancelled));
    }
}
