//! End to end through the `warung` binary: the demo journey, a profile that persists between
//! invocations, and bad input turned into clear errors with a non-zero exit.

use std::path::Path;
use std::process::{Command, Output};

fn warung(profile: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warung"))
        .arg("--profile")
        .arg(profile)
        .args(args)
        .output()
        .expect("run warung")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(out: &Output) -> String {
    assert!(!out.status.success(), "expected failure: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn demo_runs_the_journey() {
    let out = Command::new(env!("CARGO_BIN_EXE_warung"))
        .arg("demo")
        .output()
        .unwrap();
    let stdout = ok(&out);
    for expected in [
        "synced: 1171 catalog ops (cursor 1171)",
        "synced again: 0 new ops",
        "intents 4 applied / 0 rejected",
        "price changed (was Rp118.000)",
        "**Kopi**",
        "expired on 2025-04-30",
        "HEMAT10 applied",
        "one shipment",
        "TOTAL Rp",
        "TOTAL IDR ",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

#[test]
fn a_profile_persists_between_invocations() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("profile.db");
    ok(&warung(&p, &["import"]));
    let found = ok(&warung(&p, &["search", "kopi", "gayo"]));
    assert!(found.contains("Gayo"), "{found}");
    let detail = ok(&warung(&p, &["product", "p-0024"]));
    assert!(detail.contains("v-0024-1"));
    ok(&warung(&p, &["cart", "add", "v-0024-1", "2"]));
    let cart = ok(&warung(&p, &["cart", "show", "--locale", "en"]));
    assert!(cart.contains("IDR 236,000"), "{cart}");
    let applied = ok(&warung(&p, &["voucher", "apply", "hemat10"]));
    assert!(applied.contains("HEMAT10"), "{applied}");
    let outbox = ok(&warung(&p, &["outbox"]));
    assert!(outbox.contains("cart.set_line") && outbox.contains("voucher.apply"));
    assert!(outbox.contains("pending: 2"), "{outbox}");
    let cats = ok(&warung(&p, &["categories"]));
    assert!(cats.contains("Kopi & Minuman"));
    let vouchers = ok(&warung(&p, &["voucher", "list"]));
    assert!(vouchers.contains("HEMAT10") && vouchers.contains("(platform)"));
    let removed = ok(&warung(&p, &["voucher", "remove", "HEMAT10"]));
    assert!(!removed.contains("platform voucher"), "{removed}");
    let cleared = ok(&warung(&p, &["cart", "clear"]));
    assert!(cleared.contains("the cart is empty"), "{cleared}");
}

#[test]
fn import_reads_ops_from_a_file_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("profile.db");
    let ops = dir.path().join("ops.json");
    std::fs::write(
        &ops,
        r#"[
          {"op_id":1,"op":"put","entity":{"type":"merchant","id":"m","name":"Toko","kind":"seller","city":"Solo","contact":{},"policies":{"shipping":"","warranty":"","returns":""}}},
          {"op_id":2,"op":"put","entity":{"type":"category","id":"c","parent_id":null,"name":"Jamu"}},
          {"op_id":3,"op":"put","entity":{"type":"product","id":"p","merchant_id":"m","category_id":"c","title":"Jamu kunyit asam","description":"Segar","brand":null,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}},
          {"op_id":4,"op":"put","entity":{"type":"variant","id":"v","product_id":"p","sku":"J1","prices":[{"amount":{"amount":"15000","currency":"IDR"},"compare_at":null}],"stock":"in_stock","weight_grams":250}}
        ]"#,
    )
    .unwrap();
    let out = ok(&warung(&p, &["import", ops.to_str().unwrap()]));
    assert!(out.contains("applied 4 ops"), "{out}");
    assert!(ok(&warung(&p, &["search", "kunyit"])).contains("Rp15.000"));
    // A fractional rupiah price is refused with the money error, and nothing is written.
    std::fs::write(
        &ops,
        r#"[{"op_id":5,"op":"put","entity":{"type":"variant","id":"v2","product_id":"p","sku":"J2","prices":[{"amount":{"amount":"15000.5","currency":"IDR"},"compare_at":null}],"stock":"in_stock","weight_grams":250}}]"#,
    )
    .unwrap();
    let err = fails(&warung(&p, &["import", ops.to_str().unwrap()]));
    assert!(err.contains("decimal places"), "{err}");
}

#[test]
fn bad_input_gets_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("profile.db");
    ok(&warung(&p, &["import"]));
    for (args, expected) in [
        (
            &["cart", "add", "v-0024-1", "0"][..],
            "quantity 0 is out of range",
        ),
        (
            &["cart", "add", "v-0024-1", "100"][..],
            "quantity 100 is out of range",
        ),
        (
            &["cart", "set", "v-0024-1", "-3"][..],
            "quantity -3 is out of range",
        ),
        (&["cart", "add", "v-nope"][..], "unknown variant v-nope"),
        (&["cart", "remove", "v-0024-1"][..], "not in the cart"),
        (
            &["search", "kopi", "--min", "12.5"][..],
            "at most 0 decimal places",
        ),
        (&["search", "kopi", "--min", "1e3"][..], "exponent"),
        (&["product", "p-nope"][..], "unknown product"),
        (&["voucher", "apply", "LEBARAN2025"][..], "expired"),
        (&["voucher", "apply", "NOSUCH"][..], "no such voucher"),
    ] {
        let err = fails(&warung(&p, args));
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    // FTS syntax is searched as words, never an error.
    ok(&warung(
        &p,
        &["search", "\"kopi", "NEAR(", "-", "title:x", "*"],
    ));
    // A corrupt file is reported, not a crash.
    let bad = dir.path().join("corrupt.db");
    std::fs::write(&bad, vec![7u8; 4096]).unwrap();
    let err = fails(&warung(&bad, &["cart", "show"]));
    assert!(err.contains("corrupt"), "{err}");
}

#[test]
fn sync_pulls_from_a_server_and_pushes_the_cart() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = warung_server::Config::new(dir.path().join("server"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.demo = true;
    let server = rt.block_on(warung_server::start(config)).unwrap();
    let url = server.url();
    let p = dir.path().join("p.db");

    let first = ok(&warung(&p, &["sync", "--server", &url, "--quiet"]));
    assert!(first.contains("synced: 1171 catalog ops"), "{first}");
    // The device token is kept beside the profile, readable by its owner only.
    let secrets = dir.path().join("p.secrets.json");
    assert!(secrets.exists());
    ok(&warung(&p, &["cart", "add", "v-0024-1", "2"]));
    let second = ok(&warung(
        &p,
        &["sync", "--server", &url, "--page-limit", "7"],
    ));
    assert!(
        second.contains("intents 1 applied / 0 rejected"),
        "{second}"
    );
    assert!(second.contains("0 catalog ops"), "{second}");
    let outbox = ok(&warung(&p, &["outbox"]));
    assert!(outbox.contains("Applied"), "{outbox}");

    // Bad input: a malformed URL, an out-of-range page limit, nothing listening.
    assert!(fails(&warung(&p, &["sync", "--server", "not a url"])).contains("server URL"));
    assert!(
        fails(&warung(
            &p,
            &["sync", "--server", &url, "--page-limit", "0"]
        ))
        .contains("page limit")
    );
    rt.block_on(server.shutdown());
    let down = fails(&warung(&p, &["sync", "--server", &url, "--quiet"]));
    assert!(down.contains("network"), "{down}");
}
