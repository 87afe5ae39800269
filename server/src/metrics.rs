//! Prometheus metrics (`GET /metrics`, OpenMetrics text).
//!
//! Request counts and latencies are labelled by method, *matched route* (the template, never
//! the raw path: ids must not explode the label space) and status. The sync counters say what
//! the server did: ops served per bucket, intents by outcome, and the writer's group-commit
//! factor (jobs per transaction).

use crate::store::WriterStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BucketLabels {
    pub bucket: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RequestLabels, Histogram>,
    pub ops_served: Family<BucketLabels, Counter>,
    pub intents: Family<OutcomeLabels, Counter>,
    writer_transactions: Gauge<u64, AtomicU64>,
    writer_jobs: Gauge<u64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("warung");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.0005, 2.0, 16))) as fn() -> Histogram,
        );
        let ops_served = Family::<BucketLabels, Counter>::default();
        let intents = Family::<OutcomeLabels, Counter>::default();
        let writer_transactions = Gauge::<u64, AtomicU64>::default();
        let writer_jobs = Gauge::<u64, AtomicU64>::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            latency.clone(),
        );
        registry.register(
            "ops_served",
            "Ops sent in pulls, by bucket",
            ops_served.clone(),
        );
        registry.register(
            "intents",
            "Intents processed, by outcome (applied, rejected, retry_later)",
            intents.clone(),
        );
        registry.register(
            "writer_transactions",
            "Write transactions committed by the writer (group commits)",
            writer_transactions.clone(),
        );
        registry.register(
            "writer_jobs",
            "Write jobs run by the writer; jobs / transactions is the group-commit factor",
            writer_jobs.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            ops_served,
            intents,
            writer_transactions,
            writer_jobs,
        }
    }

    pub fn intent(&self, outcome: &str, n: u64) {
        if n > 0 {
            self.intents
                .get_or_create(&OutcomeLabels {
                    outcome: outcome.to_owned(),
                })
                .inc_by(n);
        }
    }

    /// The OpenMetrics text, with the writer's counters as of now.
    pub fn encode(&self, writer: WriterStats) -> String {
        self.writer_transactions.set(writer.transactions);
        self.writer_jobs.set(writer.jobs);
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        out
    }
}
