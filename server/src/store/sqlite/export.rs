//! Dumps every table of a SQLite database for [`crate::store::transfer`], read in one read
//! transaction (a consistent snapshot, even next to a running server).

use super::open_conn;
use crate::store::StoreError;
use crate::store::transfer::{Cell, TABLES, TableDump};
use rusqlite::types::ValueRef;
use std::path::Path;

fn err(e: rusqlite::Error) -> StoreError {
    StoreError::Internal(format!("reading the SQLite database: {e}"))
}

/// Every table of the database at `path` (migrated to this server's schema first), rows in
/// primary-key order.
pub fn dump(path: &Path) -> Result<Vec<TableDump>, StoreError> {
    if !path.exists() {
        return Err(StoreError::Unavailable(format!(
            "no SQLite database at {}",
            path.display()
        )));
    }
    // Opening the store migrates an older file to the current schema.
    drop(super::SqliteStore::open(
        path,
        crate::clock::Clock::system(),
    )?);
    let conn = open_conn(path, true).map_err(err)?;
    conn.execute_batch("BEGIN").map_err(err)?;
    let mut out = Vec::with_capacity(TABLES.len());
    for &table in TABLES {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
            .map_err(err)?;
        let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let n = columns.len();
        let rows = stmt
            .query_map([], |row| {
                (0..n)
                    .map(|i| {
                        Ok(match row.get_ref(i)? {
                            ValueRef::Null => Cell::Null,
                            ValueRef::Integer(v) => Cell::Int(v),
                            ValueRef::Real(v) => Cell::Text(v.to_string()),
                            // Strictly UTF-8 (an error otherwise): copied byte for byte.
                            ValueRef::Text(_) => Cell::Text(row.get(i)?),
                            ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
                        })
                    })
                    .collect::<rusqlite::Result<Vec<Cell>>>()
            })
            .map_err(err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(err)?;
        out.push(TableDump {
            table,
            columns,
            rows,
        });
    }
    conn.execute_batch("COMMIT").map_err(err)?;
    Ok(out)
}
