//! Helpers for the end-to-end tests in `tests/`: a server on loopback (in-process or as a
//! child process that can be SIGKILLed), phones (core profiles with sync clients), a
//! file-backed secure storage that survives a killed process, catalog snapshots to
//! compare what a phone holds with what the server serves, and [`plant_catalog_op`], which
//! writes an op the server itself would refuse straight into a server's op log.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use warung_core::Profile;
use warung_core::catalog::SearchQuery;
use warung_core::money::Currency;
use warung_core::secrets::SecureStorage;
use warung_core::sync::{RetryPolicy, SyncClient, SyncConfig};

/// One file per key in a directory: survives the process, like the Keychain.
pub struct DirStorage(pub PathBuf);

impl SecureStorage for DirStorage {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        match std::fs::read(self.0.join(key)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), String> {
        std::fs::create_dir_all(&self.0).map_err(|e| e.to_string())?;
        let tmp = self.0.join(format!("{key}.tmp"));
        std::fs::write(&tmp, value).map_err(|e| e.to_string())?;
        std::fs::rename(tmp, self.0.join(key)).map_err(|e| e.to_string())
    }

    fn delete(&self, key: &str) -> Result<(), String> {
        match std::fs::remove_file(self.0.join(key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
            _ => Ok(()),
        }
    }
}

/// A phone: a profile in `dir` and its sync client, with its secure storage in `dir/keys`.
pub struct Phone {
    pub profile: Profile,
    pub sync: SyncClient,
}

impl Phone {
    pub fn open(dir: &Path, server_url: &str, page_limit: u32) -> Phone {
        Phone::open_with(dir, &dir.join("keys"), server_url, page_limit)
    }

    /// A phone whose secure storage lives elsewhere (a reinstall keeps the Keychain).
    pub fn open_with(dir: &Path, keys: &Path, server_url: &str, page_limit: u32) -> Phone {
        std::fs::create_dir_all(dir).unwrap();
        let profile = Profile::open(dir.join("profile.db"), Currency::IDR).unwrap();
        let mut config = SyncConfig::new(server_url, "cli");
        config.page_limit = page_limit;
        config.retry = RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(20),
            max: Duration::from_millis(200),
        };
        let storage: Arc<dyn SecureStorage> = Arc::new(DirStorage(keys.to_path_buf()));
        let sync = SyncClient::new(profile.clone(), storage, config).unwrap();
        Phone { profile, sync }
    }
}

/// product id → (title, variant prices and bands) as a phone sees it, for comparisons.
pub fn snapshot(profile: &Profile) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut cursor = None;
    loop {
        let page = profile
            .catalog()
            .search(&SearchQuery {
                limit: 100,
                cursor,
                ..SearchQuery::default()
            })
            .unwrap();
        for hit in &page.hits {
            let d = profile.catalog().product(&hit.product_id).unwrap();
            let variants: Vec<String> = d
                .variants
                .iter()
                .map(|v| format!("{}:{:?}:{:?}", v.id, v.prices, v.stock))
                .collect();
            let prev = out.insert(
                hit.product_id.clone(),
                format!("{}|{}", d.product.title, variants.join(",")),
            );
            assert!(prev.is_none(), "product {} listed twice", hit.product_id);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// What planting an op can fail on: the database, or an op that is not a catalog op's shape.
pub type PlantResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The database of a test server: its SQLite file, or its PostgreSQL schema when the test
/// run uses PostgreSQL (`warung_server::testing::database_url_for`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerDb {
    Sqlite(PathBuf),
    Postgres(String),
}

/// The database of a test server run on `data_dir`.
pub fn server_database(data_dir: &Path) -> ServerDb {
    match warung_server::testing::database_url_for(data_dir) {
        Some(url) => ServerDb::Postgres(url),
        None => ServerDb::Sqlite(
            warung_server::Config::new(data_dir)
                .database_path()
                .expect("the default database is SQLite"),
        ),
    }
}

/// Runs `f` with a PostgreSQL client on a runtime of its own (on a thread: callers may be
/// inside another runtime).
fn with_pg<T: Send + 'static>(
    url: &str,
    f: impl AsyncFnOnce(&mut tokio_postgres::Client) -> PlantResult<T> + Send + 'static,
) -> PlantResult<T> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let (mut client, connection) =
                tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            let task = tokio::spawn(connection);
            let out = f(&mut client).await;
            drop(client);
            let _ = task.await;
            out
        })
    })
    .join()
    .map_err(|_| "the PostgreSQL thread panicked")?
}

/// Opens the server's database next to the running server (WAL): waits up to 10 s for its
/// writer instead of failing with "database is locked".
fn open_server_db(db: &Path) -> PlantResult<rusqlite::Connection> {
    if !db.is_file() {
        return Err(format!("no server database at {}", db.display()).into());
    }
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

/// The catalog op the server serves now for an entity (`kind` as on the wire: `variant`,
/// `product`, …), without its `op_id`: a starting point for a bad op. `None` if it has none.
pub fn current_catalog_op(
    db: &ServerDb,
    kind: &str,
    id: &str,
) -> PlantResult<Option<serde_json::Value>> {
    const SQL: &str =
        "SELECT json FROM op_log WHERE bucket = 'catalog' AND kind = $1 AND entity_id = $2";
    let json: Option<String> = match db {
        ServerDb::Sqlite(path) => open_server_db(path)?
            .query_row(&SQL.replace('$', "?"), [kind, id], |r| r.get(0))
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })?,
        ServerDb::Postgres(url) => {
            let (kind, id) = (kind.to_owned(), id.to_owned());
            with_pg(url, async move |c| {
                Ok(c.query_opt(SQL, &[&kind, &id]).await?.map(|r| r.get(0)))
            })?
        }
    };
    let Some(json) = json else {
        return Ok(None);
    };
    let mut op: serde_json::Value = serde_json::from_str(&json)?;
    op.as_object_mut()
        .ok_or("a stored op is not a JSON object")?
        .remove("op_id");
    Ok(Some(op))
}

/// Appends `op` (a catalog op's JSON without `op_id`: `{"op":"put","entity":{…}}` or
/// `{"op":"remove","kind":…,"id":…}`) to the catalog bucket of the server whose database is
/// `db`, exactly as the server's own publish does (`server/src/store/rules/oplog.rs`): the
/// next op id from `op_sequence`, the entity's previous op in the bucket deleted, the op
/// stored with its checksum, the bucket head moved — in one transaction (SQLite: immediate;
/// PostgreSQL: the `op_sequence` row lock orders it with the server's own), so it is safe
/// while the server runs. Returns the op id.
///
/// Only the op log changes, not the server's own catalog tables: this is how tests simulate
/// an op from an older server or a bug (a price the server now refuses with 422, a field that
/// does not parse), which no API call can produce. The op is not checked beyond the fields
/// that key it (`op` and the entity's `type` and `id`/`code`, or `kind` and `id`).
pub fn plant_catalog_op(db: &ServerDb, op: &serde_json::Value) -> PlantResult<u64> {
    let fields = op.as_object().ok_or("the op must be a JSON object")?;
    if fields.contains_key("op_id") {
        return Err("the op must come without op_id (the server's sequence gives it)".into());
    }
    let text = |v: Option<&serde_json::Value>, what: &str| -> PlantResult<String> {
        v.and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("the op has no {what}").into())
    };
    let (kind, entity_id, tombstone) = match fields.get("op").and_then(|v| v.as_str()) {
        Some("put") => {
            let entity = fields.get("entity").ok_or("a put op has no entity")?;
            let kind = text(entity.get("type"), "entity.type")?;
            let id = match kind.as_str() {
                "voucher" => text(entity.get("code"), "entity.code")?,
                _ => text(entity.get("id"), "entity.id")?,
            };
            (kind, id, false)
        }
        Some("remove") => (
            text(fields.get("kind"), "kind")?,
            text(fields.get("id"), "id")?,
            true,
        ),
        _ => return Err("op must be \"put\" or \"remove\"".into()),
    };
    // The server writes op_id first; the rest of the object follows as given.
    let rest = serde_json::to_string(op)?;
    let rest = &rest[1..rest.len() - 1];

    let path = match db {
        ServerDb::Sqlite(path) => path,
        ServerDb::Postgres(url) => {
            let rest = rest.to_owned();
            return with_pg(url, async move |c| {
                let tx = c.transaction().await?;
                let op_id: i64 = tx
                    .query_one(
                        "UPDATE op_sequence SET last = last + 1 WHERE id = 1 RETURNING last",
                        &[],
                    )
                    .await?
                    .get(0);
                let json = with_op_id(op_id, &rest);
                tx.execute(
                    "DELETE FROM op_log WHERE bucket = 'catalog' AND kind = $1 AND entity_id = $2",
                    &[&kind, &entity_id],
                )
                .await?;
                tx.execute(
                    "INSERT INTO op_log (op_id, bucket, kind, entity_id, tombstone, json, checksum)
                     VALUES ($1, 'catalog', $2, $3, $4, $5, $6)",
                    &[
                        &op_id,
                        &kind,
                        &entity_id,
                        &tombstone,
                        &json,
                        &i64::from(warung_core::protocol::op_checksum(json.as_bytes())),
                    ],
                )
                .await?;
                tx.execute(
                    "INSERT INTO bucket (name, head) VALUES ('catalog', $1)
                     ON CONFLICT (name) DO UPDATE SET head = excluded.head",
                    &[&op_id],
                )
                .await?;
                tx.commit().await?;
                Ok(op_id as u64)
            });
        }
    };
    let mut conn = open_server_db(path)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let op_id: i64 = tx.query_row(
        "UPDATE op_sequence SET last = last + 1 WHERE id = 1 RETURNING last",
        [],
        |r| r.get(0),
    )?;
    let json = with_op_id(op_id, rest);
    tx.execute(
        "DELETE FROM op_log WHERE bucket = 'catalog' AND kind = ?1 AND entity_id = ?2",
        rusqlite::params![kind, entity_id],
    )?;
    tx.execute(
        "INSERT INTO op_log (op_id, bucket, kind, entity_id, tombstone, json, checksum)
         VALUES (?1, 'catalog', ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            op_id,
            kind,
            entity_id,
            tombstone,
            json,
            warung_core::protocol::op_checksum(json.as_bytes())
        ],
    )?;
    tx.execute(
        "INSERT INTO bucket (name, head) VALUES ('catalog', ?1)
         ON CONFLICT (name) DO UPDATE SET head = excluded.head",
        [op_id],
    )?;
    tx.commit()?;
    Ok(op_id as u64)
}

/// The op's stored text: `op_id` first, then the rest of the object as given.
fn with_op_id(op_id: i64, rest: &str) -> String {
    if rest.is_empty() {
        format!("{{\"op_id\":{op_id}}}")
    } else {
        format!("{{\"op_id\":{op_id},{rest}}}")
    }
}

/// Plants a PUT of variant `variant_id` as the server serves it now, with its first price's
/// amount text replaced by `amount` (e.g. `"9223372036854775808"`, past what a phone can
/// store). Returns the op id.
pub fn plant_variant_price(db: &ServerDb, variant_id: &str, amount: &str) -> PlantResult<u64> {
    let mut op = current_catalog_op(db, "variant", variant_id)?
        .ok_or_else(|| format!("the catalog has no op of variant {variant_id}"))?;
    let slot = op
        .pointer_mut("/entity/prices/0/amount/amount")
        .ok_or_else(|| format!("variant {variant_id} has no price"))?;
    *slot = amount.into();
    plant_catalog_op(db, &op)
}
