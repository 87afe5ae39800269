//! The `warung-server` binary: admin subcommands, the `listening on` line test scripts read,
//! and graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_warung-server");

/// The binary on `dir` (and on its PostgreSQL schema when the run uses PostgreSQL).
fn server_cmd(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(dir);
    if let Some(url) = warung_server::testing::database_url_for(dir) {
        cmd.env("WARUNG_DATABASE_URL", url);
    }
    cmd
}

fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = server_cmd(dir)
        .args(args)
        .env("WARUNG_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn admin_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(
        dir.path(),
        &[
            "merchant",
            "create",
            "--name",
            "Toko Budi",
            "--kind",
            "seller",
        ],
    );
    assert!(ok, "{err}");
    let key = out
        .split_whitespace()
        .find(|w| w.starts_with("wmk_"))
        .unwrap()
        .to_owned();
    let id = out
        .split_whitespace()
        .find(|w| w.starts_with("m-"))
        .unwrap()
        .to_owned();
    let (ok, list, _) = run(dir.path(), &["merchant", "list"]);
    assert!(ok);
    assert!(list.contains(&id) && list.contains("Toko Budi") && list.contains("seller"));
    assert!(list.contains(&key[..10]), "key prefix listed");
    assert!(!list.contains(&key), "never the whole key");
    let (ok, rotated, _) = run(dir.path(), &["merchant", "rotate-key", "--id", &id]);
    assert!(ok);
    assert!(!rotated.contains(&key));
    let (ok, _, err) = run(dir.path(), &["merchant", "rotate-key", "--id", "m-nope"]);
    assert!(!ok);
    assert!(err.contains("m-nope"), "{err}");
    let (ok, out, _) = run(dir.path(), &["compact", "--horizon-ops", "0"]);
    assert!(ok);
    assert!(out.contains("removed 0 tombstones"));
    let (ok, _, err) = run(
        dir.path(),
        &["--database", "mysql://db/warung", "merchant", "list"],
    );
    assert!(!ok);
    assert!(
        err.contains("expected sqlite://<path> or postgres://"),
        "{err}"
    );
}

#[test]
fn serve_prints_address_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = server_cmd(dir.path())
        .args(["--listen", "127.0.0.1:0", "--demo"])
        .env("WARUNG_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = rt.block_on(async {
        reqwest::get(format!("{url}/v1/buckets/catalog/ops?limit=1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(body.contains("\"head\":1171"), "{body}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful exit: {status:?}");
}
