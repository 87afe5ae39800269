//! Prometheus metrics (`GET /metrics`, OpenMetrics text).
//!
//! Request counts and latencies are labelled by method, *matched route* (the template, never
//! the raw path: ids must not explode the label space) and status. The sync counters say what
//! the server did: ops served per bucket, intents by outcome. The storage backend adds its own
//! gauges through a collector read at each scrape (SQLite: the writer's group-commit factor,
//! `writer_transactions` and `writer_jobs`).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

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
        Metrics {
            registry,
            requests,
            latency,
            ops_served,
            intents,
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

    /// Adds a collector read at each scrape (the storage backend's gauges).
    pub fn with_collector(mut self, collector: Box<dyn Collector>) -> Metrics {
        self.registry.register_collector(collector);
        self
    }

    /// The OpenMetrics text, with every collector read as of now.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        out
    }
}
