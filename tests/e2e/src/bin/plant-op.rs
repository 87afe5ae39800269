//! Writes a catalog op straight into a warung-server's op log, as an older server or a bug
//! would have published it (the server refuses such data through its API), for test harnesses
//! such as tests/sync-server.sh. Safe while the server runs. Prints the new op id.
//!
//!     plant-op DATA_DIR_OR_DB OP_JSON                     # a catalog op without op_id
//!     plant-op DATA_DIR_OR_DB --variant-price ID AMOUNT   # the variant as served, one amount changed
//!
//! A directory is a server's `--data-dir` (its default `warung.db`, or its PostgreSQL schema
//! when `WARUNG_TEST_DATABASE_URL` is set); a file is the SQLite database.

use std::path::Path;
use std::process::ExitCode;
use warung_e2e::ServerDb;

const USAGE: &str = "usage: plant-op DATA_DIR_OR_DB OP_JSON\n       plant-op DATA_DIR_OR_DB --variant-price VARIANT_ID AMOUNT";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let planted = match args.as_slice() {
        [target, flag, variant, amount] if flag == "--variant-price" => {
            warung_e2e::plant_variant_price(&database(target), variant, amount)
        }
        [target, op] if !op.starts_with("--") => serde_json::from_str(op)
            .map_err(|e| format!("OP_JSON: {e}").into())
            .and_then(|op| warung_e2e::plant_catalog_op(&database(target), &op)),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match planted {
        Ok(op_id) => {
            println!("{op_id}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plant-op: {e}");
            ExitCode::FAILURE
        }
    }
}

fn database(target: &str) -> ServerDb {
    let path = Path::new(target);
    if path.is_dir() {
        warung_e2e::server_database(path)
    } else {
        ServerDb::Sqlite(path.to_path_buf())
    }
}
