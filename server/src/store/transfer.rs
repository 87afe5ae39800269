//! Moving a whole database from one backend to another (SQLite → PostgreSQL, "moving up").
//!
//! A backend dumps every table as rows of [`Cell`]s ([`TableDump`]); the other loads them as
//! they are — op ids, sequences, hashes and stored op JSON byte for byte — so phones keep
//! syncing from their cursors after the move, without a reset and without duplicates. The
//! tables, in an order that satisfies their foreign keys, are [`TABLES`]; both schemas (the
//! SQLite and PostgreSQL migrations) define exactly these tables and columns.

/// One value of a row, in the few storage classes the schemas use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// Every row of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDump {
    pub table: &'static str,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// The tables of the schema, parents before children.
pub const TABLES: &[&str] = &[
    "merchant",
    "category",
    "product",
    "variant",
    "voucher",
    "device",
    "intent",
    "op_log",
    "bucket",
    "op_sequence",
    "user_account",
    "otp_challenge",
    "session_family",
    "session_token",
    "user_device",
    "binding",
    "request_nonce",
    "inbound_sms",
    "dev_sms",
];

/// What a move copied: rows per table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferReport {
    pub tables: Vec<(&'static str, u64)>,
}

impl TransferReport {
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}
