//! The single writer: every write of the process goes through one thread and one connection.
//!
//! SQLite allows one writer at a time anyway; doing it in one thread removes `SQLITE_BUSY`
//! between our own requests and enables **group commit**: the thread takes every job waiting in
//! its queue, runs them in ONE transaction, each inside its own `SAVEPOINT` (a failing job rolls
//! back alone and gets its own error), and commits once. Under load the cost of a commit (the
//! WAL fsync) is shared by many requests. Results are delivered only after the commit, so no
//! caller ever sees a success that was not durable.

use crate::store::StoreError;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

/// Jobs waiting beyond this are refused with [`StoreError::Overloaded`].
const QUEUE_CAPACITY: usize = 4096;
/// The most jobs one transaction takes.
const MAX_GROUP: usize = 256;

/// Called with the commit's result once the transaction ends.
type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A job runs on the writer's connection and tells whether it succeeded (its savepoint is
/// released) or failed (rolled back), plus how to deliver its result.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Deliver) + Send>;

/// Group-commit counters of the writer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Write transactions committed (or attempted).
    pub transactions: u64,
    /// Jobs run inside them; `jobs / transactions` is the batching factor.
    pub jobs: u64,
}

#[derive(Debug, Default)]
struct Counters {
    transactions: AtomicU64,
    jobs: AtomicU64,
}

/// The handle to the writer thread. Cloning shares the thread; it stops when every handle is
/// dropped (after finishing the jobs it has).
#[derive(Clone)]
pub struct Writer {
    queue: SyncSender<Job>,
    counters: Arc<Counters>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub fn spawn(conn: Connection) -> std::io::Result<Writer> {
        let (queue, rx) = sync_channel(QUEUE_CAPACITY);
        let counters = Arc::new(Counters::default());
        let thread_counters = counters.clone();
        std::thread::Builder::new()
            .name("warung-writer".into())
            .spawn(move || run(conn, rx, &thread_counters))?;
        Ok(Writer { queue, counters })
    }

    /// Runs `f` in the next group transaction and returns its result after the commit.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let deliver: Deliver = Box::new(move |commit| {
                let _ = tx.send(commit.and(result));
            });
            (ok, deliver)
        });
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(StoreError::Overloaded),
            Err(TrySendError::Disconnected(_)) => {
                return Err(StoreError::Unavailable("the writer has stopped".into()));
            }
        }
        rx.await
            .map_err(|_| StoreError::Internal("a write job panicked".into()))?
    }

    pub fn stats(&self) -> WriterStats {
        stats(&self.counters)
    }

    /// The counters as Prometheus gauges, read at each scrape.
    pub fn collector(&self) -> WriterCollector {
        WriterCollector(self.counters.clone())
    }
}

fn stats(counters: &Counters) -> WriterStats {
    WriterStats {
        transactions: counters.transactions.load(Ordering::Relaxed),
        jobs: counters.jobs.load(Ordering::Relaxed),
    }
}

/// `writer_transactions` and `writer_jobs`: the group-commit factor on `/metrics`.
#[derive(Debug)]
pub struct WriterCollector(Arc<Counters>);

impl Collector for WriterCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = stats(&self.0);
        let gauges = [
            (
                "writer_transactions",
                "Write transactions committed by the writer (group commits)",
                s.transactions,
            ),
            (
                "writer_jobs",
                "Write jobs run by the writer; jobs / transactions is the group-commit factor",
                s.jobs,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            let metric = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}

fn run(conn: Connection, rx: Receiver<Job>, counters: &Counters) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let jobs = group.len() as u64;
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Dropping the jobs drops their senders: every caller gets an error.
            tracing::error!(error = %e, "writer could not begin a transaction");
            continue;
        }
        let mut delivers = Vec::with_capacity(group.len());
        for job in group {
            if let Err(e) = conn.execute_batch("SAVEPOINT job") {
                tracing::error!(error = %e, "writer could not open a savepoint");
                continue;
            }
            match catch_unwind(AssertUnwindSafe(|| job(&conn))) {
                Ok((true, deliver)) => {
                    release(&conn, false);
                    delivers.push(deliver);
                }
                Ok((false, deliver)) => {
                    release(&conn, true);
                    delivers.push(deliver);
                }
                Err(_) => {
                    tracing::error!("a write job panicked; its changes are rolled back");
                    release(&conn, true);
                }
            }
        }
        let commit = conn.execute_batch("COMMIT").map_err(|e| {
            tracing::error!(error = %e, "group commit failed");
            let _ = conn.execute_batch("ROLLBACK");
            StoreError::Internal(format!("commit failed: {e}"))
        });
        counters.transactions.fetch_add(1, Ordering::Relaxed);
        counters.jobs.fetch_add(jobs, Ordering::Relaxed);
        for deliver in delivers {
            deliver(commit.clone());
        }
    }
}

fn release(conn: &Connection, rollback: bool) {
    let sql = if rollback {
        "ROLLBACK TO job; RELEASE job"
    } else {
        "RELEASE job"
    };
    if let Err(e) = conn.execute_batch(sql) {
        tracing::error!(error = %e, "writer savepoint release failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_rolls_back_alone_and_jobs_share_commits() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("w.db")).unwrap();
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (n INTEGER PRIMARY KEY);")
            .unwrap();
        let writer = Writer::spawn(conn).unwrap();
        let mut tasks = Vec::new();
        for n in 0..200i64 {
            let w = writer.clone();
            tasks.push(tokio::spawn(async move {
                w.write(move |c| {
                    c.execute("INSERT INTO t (n) VALUES (?1)", [n])
                        .map_err(super::super::db_error)?;
                    if n % 3 == 0 {
                        // Fails after writing: its insert must not survive.
                        return Err(StoreError::invalid("odd", "refused"));
                    }
                    Ok(n)
                })
                .await
            }));
        }
        for (n, t) in tasks.into_iter().enumerate() {
            let r = t.await.unwrap();
            assert_eq!(r.is_err(), n % 3 == 0);
        }
        let count = writer
            .write(|c| {
                c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
                    .map_err(super::super::db_error)
            })
            .await
            .unwrap();
        assert_eq!(count, 200 - 67);
        let stats = writer.stats();
        assert_eq!(stats.jobs, 201);
        assert!(stats.transactions < stats.jobs, "{stats:?}");
    }
}
