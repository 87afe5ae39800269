//! Loads a [`crate::store::transfer`] dump into an empty PostgreSQL database, in ONE
//! transaction (a failed move leaves the target as it was), with binary `COPY` per table.
//! Identity sequences are moved past the copied rows, so new rows continue after them.

use super::connect::{migrate, pg_error, pool_error};
use crate::store::StoreError;
use crate::store::transfer::{Cell, TableDump, TransferReport};
use deadpool_postgres::Pool;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

/// Columns filled from an identity sequence, moved past the copied values afterwards.
const IDENTITY_COLUMNS: &[(&str, &str)] =
    &[("category", "seq"), ("variant", "seq"), ("dev_sms", "seq")];

/// Migrates the target, checks that it holds no data, and copies every table.
pub async fn load(pool: &Pool, dumps: Vec<TableDump>) -> Result<TransferReport, StoreError> {
    migrate(pool).await?;
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await.map_err(pg_error)?;
    for dump in &dumps {
        // op_sequence holds its seed row from the migration; it is replaced below.
        if dump.table == "op_sequence" {
            continue;
        }
        let n: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {}", dump.table), &[])
            .await
            .map_err(pg_error)?
            .get(0);
        if n > 0 {
            return Err(StoreError::conflict(
                "target_not_empty",
                format!(
                    "the PostgreSQL database is not empty ({} holds {n} rows): move into a new, \
                     empty database (no server may have started on it)",
                    dump.table
                ),
            ));
        }
    }
    tx.execute("DELETE FROM op_sequence", &[])
        .await
        .map_err(pg_error)?;
    let mut report = TransferReport::default();
    for dump in &dumps {
        let types = column_types(&tx, dump).await?;
        let columns = dump.columns.join(", ");
        let sink = tx
            .copy_in(&format!(
                "COPY {} ({columns}) FROM STDIN (FORMAT binary)",
                dump.table
            ))
            .await
            .map_err(pg_error)?;
        let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &types));
        for row in &dump.rows {
            let values = row
                .iter()
                .zip(&types)
                .map(|(cell, ty)| to_sql(cell, ty, dump.table))
                .collect::<Result<Vec<_>, _>>()?;
            let refs: Vec<&(dyn ToSql + Sync)> = values
                .iter()
                .map(|v| v.as_ref() as &(dyn ToSql + Sync))
                .collect();
            writer.as_mut().write(&refs).await.map_err(pg_error)?;
        }
        let copied = writer.finish().await.map_err(pg_error)?;
        report.tables.push((dump.table, copied));
    }
    for (table, column) in IDENTITY_COLUMNS {
        tx.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                 coalesce(max({column}), 0) + 1, false) FROM {table}"
            ),
            &[],
        )
        .await
        .map_err(pg_error)?;
    }
    tx.commit().await.map_err(pg_error)?;
    Ok(report)
}

async fn column_types(
    tx: &deadpool_postgres::Transaction<'_>,
    dump: &TableDump,
) -> Result<Vec<Type>, StoreError> {
    let rows = tx
        .query(
            "SELECT column_name, data_type FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1",
            &[&dump.table],
        )
        .await
        .map_err(pg_error)?;
    dump.columns
        .iter()
        .map(|c| {
            let data_type: String = rows
                .iter()
                .find(|r| r.get::<_, String>(0) == *c)
                .map(|r| r.get(1))
                .ok_or_else(|| {
                    StoreError::Internal(format!(
                        "{}.{c} is not in the PostgreSQL schema",
                        dump.table
                    ))
                })?;
            Ok(match data_type.as_str() {
                "bigint" => Type::INT8,
                "integer" => Type::INT4,
                "text" => Type::TEXT,
                "bytea" => Type::BYTEA,
                "boolean" => Type::BOOL,
                other => {
                    return Err(StoreError::Internal(format!(
                        "{}.{c}: unexpected column type {other}",
                        dump.table
                    )));
                }
            })
        })
        .collect()
}

fn to_sql(cell: &Cell, ty: &Type, table: &str) -> Result<Box<dyn ToSql + Sync + Send>, StoreError> {
    let mismatch = || StoreError::Internal(format!("{table}: {cell:?} does not fit {ty}"));
    Ok(match (cell, ty) {
        (Cell::Null, &Type::INT8) => Box::new(None::<i64>),
        (Cell::Null, &Type::INT4) => Box::new(None::<i32>),
        (Cell::Null, &Type::TEXT) => Box::new(None::<String>),
        (Cell::Null, &Type::BYTEA) => Box::new(None::<Vec<u8>>),
        (Cell::Null, &Type::BOOL) => Box::new(None::<bool>),
        (Cell::Int(v), &Type::INT8) => Box::new(*v),
        (Cell::Int(v), &Type::INT4) => Box::new(i32::try_from(*v).map_err(|_| mismatch())?),
        (Cell::Int(v), &Type::BOOL) => Box::new(*v != 0),
        (Cell::Text(v), &Type::TEXT) => Box::new(v.clone()),
        (Cell::Bytes(v), &Type::BYTEA) => Box::new(v.clone()),
        _ => return Err(mismatch()),
    })
}
