//! The local store: one SQLite file per app profile.
//!
//! * WAL mode, foreign keys on, schema applied by `user_version` migrations from `.sql` files.
//! * One writer connection (behind a mutex) and a small pool of readers: in WAL mode readers see
//!   the last committed state and are never blocked by the writer.
//! * No transaction outlives a call, and [`Store::suspend`] closes every idle connection, so an
//!   app going to the background holds no file lock (iOS kills suspended apps that do).

use crate::error::{Error, Result};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The migrations, in order; migration `i` brings the schema to `user_version = i + 1`.
/// Hand-rolled (≈30 lines) rather than a crate: it only needs `user_version` and one
/// transaction per step, and it must refuse a newer schema with our own typed error.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_sync.sql"),
    include_str!("../migrations/0003_quarantine.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const MAX_IDLE_READERS: usize = 4;

pub struct Store {
    path: PathBuf,
    writer: Mutex<Option<Connection>>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the profile database at `path` and migrates it.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let mut conn = open_connection(&path, false)?;
        migrate(&mut conn)?;
        Ok(Store {
            path,
            writer: Mutex::new(Some(conn)),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// Runs `f` in one IMMEDIATE transaction on the single writer; commits if `f` succeeds,
    /// rolls back (nothing half-written) if it fails.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(open_connection(&self.path, false)?);
        }
        let conn = guard
            .as_mut()
            .ok_or_else(|| Error::Storage("writer connection unavailable".into()))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` on a pooled reader inside a read transaction (one consistent snapshot).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = {
            let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
            pool.pop()
        };
        let mut conn = match conn {
            Some(c) => c,
            None => open_connection(&self.path, true)?,
        };
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let out = f(&tx)?;
            tx.finish()?;
            Ok(out)
        })();
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        result
    }

    /// Closes every idle connection (call when the app goes to the background). The next call
    /// reopens what it needs.
    pub fn suspend(&self) {
        self.readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        *self.writer.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// `PRAGMA integrity_check` and `foreign_key_check`: `Ok(())` when the file is sound.
    pub fn check_integrity(&self) -> Result<()> {
        self.read(|c| {
            let status: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            if status != "ok" {
                return Err(Error::Corrupt(status));
            }
            let mut stmt = c.prepare("PRAGMA foreign_key_check")?;
            let violations = stmt.query_map([], |r| r.get::<_, String>(0))?.count();
            if violations > 0 {
                return Err(Error::Corrupt(format!(
                    "{violations} foreign key violations"
                )));
            }
            Ok(())
        })
    }
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    // A concurrent writer (another process on the same profile) waits instead of failing.
    conn.busy_timeout(Duration::from_secs(5))?;
    // The first statement that reads the header: a corrupt or foreign file fails here.
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !read_only && !mode.eq_ignore_ascii_case("wal") {
        let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    }
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// A value of the `meta` key-value table.
pub(crate) fn meta_get(c: &Connection, key: &str) -> Result<Option<String>> {
    Ok(c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// A `meta` value parsed as a number (0 when absent).
pub(crate) fn meta_u64(c: &Connection, key: &str) -> Result<u64> {
    Ok(meta_get(c, key)?.and_then(|s| s.parse().ok()).unwrap_or(0))
}

/// Sets a `meta` value inside the caller's transaction.
pub(crate) fn meta_set(tx: &Transaction<'_>, key: &str, value: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_database_is_migrated_and_sound() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("p.db")).unwrap();
        let v: i64 = store
            .read(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let mode: String = store
            .read(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(mode, "wal");
        store.check_integrity().unwrap();
        // Reopening is a no-op migration.
        drop(store);
        Store::open(dir.path().join("p.db")).unwrap();
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        drop(Store::open(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(c);
        assert_eq!(
            Store::open(&path).unwrap_err(),
            Error::SchemaTooNew {
                found: SCHEMA_VERSION + 1,
                supported: SCHEMA_VERSION
            }
        );
    }

    #[test]
    fn garbage_file_is_corrupt_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
        assert!(matches!(Store::open(&path), Err(Error::Corrupt(_))));
    }

    #[test]
    fn truncated_database_is_corrupt_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let store = Store::open(&path).unwrap();
        store.suspend();
        drop(store);
        let bytes = std::fs::read(&path).unwrap();
        // Keep the header, scramble the schema page.
        let mut broken = bytes.clone();
        for b in broken.iter_mut().skip(100).take(3000) {
            *b = 0xFF;
        }
        std::fs::write(&path, &broken).unwrap();
        let _ = std::fs::remove_file(dir.path().join("p.db-wal"));
        match Store::open(&path) {
            Err(Error::Corrupt(_)) => {}
            Ok(s) => assert!(matches!(s.check_integrity(), Err(Error::Corrupt(_)))),
            Err(other) => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("p.db")).unwrap();
        let r: Result<()> = store.write(|tx| {
            tx.execute("INSERT INTO meta(key, value) VALUES ('a', '1')", [])?;
            Err(Error::Storage("boom".into()))
        });
        assert!(r.is_err());
        let n: i64 = store
            .read(|c| Ok(c.query_row("SELECT count(*) FROM meta", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn readers_are_not_blocked_by_an_open_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(Store::open(dir.path().join("p.db")).unwrap());
        store
            .write(|tx| Ok(tx.execute("INSERT INTO meta VALUES ('k', 'old')", [])?))
            .unwrap();
        let s2 = store.clone();
        store
            .write(|tx| {
                tx.execute("UPDATE meta SET value = 'new' WHERE key = 'k'", [])?;
                // While this write transaction is open, another thread reads the old value.
                let seen = std::thread::spawn(move || {
                    s2.read(|c| {
                        Ok(
                            c.query_row("SELECT value FROM meta WHERE key='k'", [], |r| {
                                r.get::<_, String>(0)
                            })?,
                        )
                    })
                })
                .join()
                .unwrap()?;
                assert_eq!(seen, "old");
                Ok(())
            })
            .unwrap();
    }
}

#[cfg(test)]
mod lock_tests {
    use super::*;

    fn open_fds_to(path: &Path) -> usize {
        let target = std::fs::canonicalize(path.parent().unwrap()).unwrap();
        std::fs::read_dir("/proc/self/fd")
            .map(|fds| {
                fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                    .filter(|p| p.starts_with(&target))
                    .count()
            })
            .unwrap_or(0)
    }

    #[test]
    fn no_lock_is_held_between_calls_and_suspend_closes_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let store = Store::open(&path).unwrap();
        store
            .write(|tx| Ok(tx.execute("INSERT INTO meta VALUES ('a', '1')", [])?))
            .unwrap();
        store
            .read(|c| Ok(c.query_row("SELECT count(*) FROM meta", [], |r| r.get::<_, i64>(0))?))
            .unwrap();
        // Between calls another connection (another process, an extension) can write at once:
        // no transaction and no write lock is left behind.
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(Duration::from_millis(0)).unwrap();
        other
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO meta VALUES ('b', '2'); COMMIT;")
            .unwrap();
        drop(other);
        // After suspend() the profile holds no file open at all (WAL shared memory included).
        if cfg!(target_os = "linux") {
            assert!(open_fds_to(&path) > 0);
            store.suspend();
            assert_eq!(open_fds_to(&path), 0, "files still open after suspend");
        }
        // And it reopens what it needs on the next call.
        let n: i64 = store
            .read(|c| Ok(c.query_row("SELECT count(*) FROM meta", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(n, 2);
    }
}
