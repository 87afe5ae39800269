//! End to end through the `warung` binary: the demo journey, a profile that persists between
//! invocations, and bad input turned into clear errors with a non-zero exit.

use std::path::Path;
use std::process::{Command, Output};

fn warung(profile: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warung"))
        .env_remove("WARUNG_SERVER")
        .env_remove("WARUNG_PIN")
        .env_remove("WARUNG_OLD_PIN")
        .env_remove("WARUNG_DEV_TOKEN")
        .env_remove("WARUNG_SMS_INBOUND_SECRET")
        .arg("--profile")
        .arg(profile)
        .args(args)
        .output()
        .expect("run warung")
}

/// `warung` with `input` on stdin (not a terminal: prompts read plain lines).
fn warung_stdin(profile: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_warung"))
        .env_remove("WARUNG_PIN")
        .arg("--profile")
        .arg(profile)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run warung");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().expect("wait for warung")
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
        "1. Sign up with the phone number 0812-3456-7890",
        "code sent by SMS to +6281234567890",
        "the phone received: \"Kode OTP Warung: ",
        "signed in as +6281234567890",
        "new account",
        "to 3345 from the SIM of +6281234567890",
        "from +6281234567890: bound",
        "bound to the SIM",
        "PIN set",
        "a wrong PIN → wrong PIN (4 attempts left)",
        "the right PIN → PIN correct",
        "otpauth://totp/Warung:%2B6281234567890?secret=",
        "accepted by the server (time step",
        "the same code again → TOTP code refused: already used (totp_replayed)",
        "5. Sync the demo catalog",
        "15. The merchant raises a price",
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
    // A QR code is drawn (half-block characters), and the steps come in order.
    assert!(stdout.contains("█▀▀") || stdout.contains("▄▄▄"), "{stdout}");
    let signed_in = stdout.find("signed in as").unwrap();
    let bound = stdout.find("bound to the SIM").unwrap();
    let pin = stdout.find("PIN set").unwrap();
    let totp = stdout.find("accepted by the server").unwrap();
    let synced = stdout.find("synced: 1171").unwrap();
    assert!(signed_in < bound && bound < pin && pin < totp && totp < synced);
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

/// A demo server in-process on an ephemeral port, its runtime, and a temporary directory.
fn demo_server() -> (
    tokio::runtime::Runtime,
    tempfile::TempDir,
    warung_server::RunningServer,
) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = warung_server::Config::new(dir.path().join("server"));
    config.database_url = warung_server::testing::database_url_for(&config.data_dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.demo = true;
    let server = rt.block_on(warung_server::start(config)).unwrap();
    (rt, dir, server)
}

#[test]
fn sync_pulls_from_a_server_and_pushes_the_cart() {
    let (rt, dir, server) = demo_server();
    let url = server.url();
    let p = dir.path().join("p.db");

    let first = ok(&warung(&p, &["sync", "--server", &url, "--quiet"]));
    assert!(first.contains("synced: 1171 catalog ops"), "{first}");
    // The device token is kept beside the profile, readable by its owner only.
    let secrets = dir.path().join("p.db.secrets.json");
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

/// Issue 10: `x.db` and `x.sqlite` once derived the same secrets file, so they were one device
/// to the server and its copy of the cart mixed both carts. Now each is its own device.
#[test]
fn profiles_that_differ_by_extension_are_different_devices() {
    let (rt, dir, server) = demo_server();
    let url = server.url();
    let (a, b) = (dir.path().join("x.db"), dir.path().join("x.sqlite"));
    for p in [&a, &b] {
        ok(&warung(p, &["sync", "--server", &url, "--quiet"]));
    }
    ok(&warung(&a, &["cart", "add", "v-0024-1", "2"]));
    ok(&warung(&b, &["cart", "add", "v-0024-1", "1"]));
    for p in [&a, &b] {
        let out = ok(&warung(p, &["sync", "--server", &url, "--quiet"]));
        // A shared device would make the second profile's seq 1 a replay of the first's.
        assert!(out.contains("intents 1 applied / 0 rejected"), "{out}");
    }
    let read = |p: &Path| std::fs::read_to_string(warung_secrets(p)).unwrap();
    assert_ne!(read(&a), read(&b), "two profiles, one device identity");
    rt.block_on(server.shutdown());
}

fn warung_secrets(profile: &Path) -> std::path::PathBuf {
    let mut name = profile.as_os_str().to_owned();
    name.push(".secrets.json");
    name.into()
}

/// The identity commands against a server started in-process with the dev SMS gateway, a dev
/// token and an inbound secret: every step through the `warung` binary, with `--dev` playing
/// the phone (reading the dev outbox) and the aggregator (signed inbound webhook).
#[test]
fn identity_commands_sign_in_bind_pin_and_totp() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = warung_server::Config::new(dir.path().join("server"));
    config.database_url = warung_server::testing::database_url_for(&config.data_dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.sms.dev_token = Some("dev-token-for-tests".into());
    config.sms.inbound_secret = Some("inbound-secret-for-tests".into());
    // Fast PIN hashing; a 10 s resend cool-down, waited out below by moving the server's clock
    // (system time plus an offset: the CLI's TOTP codes, made from the real time, stay within
    // the server's ±1 step while the offset is under 30 s).
    config.identity.pin_iterations = 1_000;
    config.identity.otp_resend_s = 10;
    let server = rt.block_on(warung_server::start(config)).unwrap();
    let cool_down = || server.clock().advance(std::time::Duration::from_secs(10));
    let url = server.url();
    let p = dir.path().join("p.db");
    let s = ["--server", url.as_str()];
    let dev = ["--dev", "--dev-token", "dev-token-for-tests"];
    let run = |args: &[&str]| warung(&p, args);
    let with = |cmd: &[&str], extra: &[&str]| -> Vec<String> {
        cmd.iter()
            .chain(s.iter())
            .chain(extra.iter())
            .map(|x| x.to_string())
            .collect()
    };
    let go = |cmd: &[&str], extra: &[&str]| {
        let v = with(cmd, extra);
        run(&v.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // Sign in with the code read from the dev outbox.
    let login = ok(&go(&["login", "--phone", "0812-3456-7890"], &dev));
    assert!(
        login.contains("code sent by SMS to +6281234567890"),
        "{login}"
    );
    assert!(
        login.contains("the phone received: \"Kode OTP Warung: "),
        "{login}"
    );
    assert!(login.contains("signed in as +6281234567890"), "{login}");
    assert!(login.contains("new account"), "{login}");
    assert!(login.contains("warung device bind"), "{login}");
    let otp = rt
        .block_on(server.admin().latest_dev_otp("+6281234567890"))
        .unwrap()
        .unwrap();
    assert!(
        login.contains(&otp),
        "the code shown is the one sent: {login}"
    );
    // The session is in the 0600 secrets file beside the profile, not on stdout.
    let secrets = std::fs::read_to_string(dir.path().join("p.db.secrets.json")).unwrap();
    assert!(secrets.contains("warung.session.v1"));
    assert!(!login.contains("wat_") && !login.contains("wrt_"));

    // Asking again within the cool-down: rate limited, with the seconds to wait.
    let err = fails(&go(&["login", "--phone", "081234567890"], &dev));
    assert!(err.contains("rate limited") && err.contains(" s"), "{err}");
    // A malformed number never reaches the server.
    let err = fails(&go(&["login", "--phone", "0812-ABC-7890"], &dev));
    assert!(err.contains("invalid phone number"), "{err}");
    let err = fails(&go(&["login", "--phone", "12"], &[]));
    assert!(err.contains("invalid phone number"), "{err}");
    // A wrong code (another number, so no cool-down): refused with the attempts left.
    let err = fails(&go(
        &["login", "--phone", "+6285712345678", "--code", "000000"],
        &[],
    ));
    assert!(err.contains("wrong code (4 attempts left)"), "{err}");
    let err = fails(&go(
        &["login", "--phone", "+6285712345679", "--code", "12ab"],
        &[],
    ));
    assert!(err.contains("exactly 6 digits"), "{err}");
    // --dev without the token says what is missing.
    let err = fails(&go(&["login", "--phone", "+6285712345670", "--dev"], &[]));
    assert!(err.contains("--dev-token"), "{err}");
    // The failed attempts did not sign anyone else in.
    let account = ok(&go(&["account"], &[]));
    assert!(account.contains("+6281234567890"), "{account}");
    assert!(account.contains("device bound   no"), "{account}");

    // Before binding, the PIN cannot be set.
    let err = fails(&go(&["pin", "set", "--pin", "240517"], &[]));
    assert!(
        err.contains("not bound") && err.contains("warung device bind"),
        "{err}"
    );

    // Binding: an SMS from another SIM is refused; from the account's SIM it binds.
    let err = fails(&go(
        &[
            "device",
            "bind",
            "--dev",
            "--sms-inbound-secret",
            "inbound-secret-for-tests",
            "--sim-number",
            "0813-9999-0000",
        ],
        &[],
    ));
    assert!(err.contains("wrong_sender"), "{err}");
    let err = fails(&go(
        &[
            "device",
            "bind",
            "--dev",
            "--sms-inbound-secret",
            "not-the-secret",
        ],
        &[],
    ));
    assert!(err.contains("aggregator signature"), "{err}");
    let bind = ok(&go(
        &[
            "device",
            "bind",
            "--dev",
            "--sms-inbound-secret",
            "inbound-secret-for-tests",
        ],
        &[],
    ));
    assert!(
        bind.contains("to 3345 from the SIM of +6281234567890"),
        "{bind}"
    );
    assert!(bind.contains("`WRG BIND "), "{bind}");
    assert!(bind.contains(": bound"), "{bind}");
    assert!(bind.contains("bound to the SIM"), "{bind}");

    // PIN: format and weakness refused locally, then set, then checked wrong and right.
    let err = fails(&go(&["pin", "set", "--pin", "2468"], &[]));
    assert!(err.contains("exactly 6 digits"), "{err}");
    let err = fails(&go(&["pin", "set", "--pin", "123456"], &[]));
    assert!(err.contains("too easy"), "{err}");
    assert!(ok(&go(&["pin", "set", "--pin", "240517"], &[])).contains("PIN set"));
    let err = fails(&go(&["pin", "verify", "--pin", "135790"], &[]));
    assert!(err.contains("wrong PIN (4 attempts left)"), "{err}");
    assert!(ok(&go(&["pin", "verify", "--pin", "240517"], &[])).contains("PIN correct"));
    // No PIN given and no terminal: a clear error, not a hang.
    let err = fails(&go(&["pin", "verify"], &[]));
    assert!(err.contains("no PIN"), "{err}");

    // Changing the PIN needs the old one and a step-up code (after the resend cool-down).
    cool_down();
    let err = fails(&go(
        &["pin", "change", "--old-pin", "999888", "--pin", "907153"],
        &dev,
    ));
    assert!(err.contains("wrong PIN"), "{err}");
    // Right after another code: the CLI says how long to wait and what to run then.
    let err = fails(&go(
        &["pin", "change", "--old-pin", "240517", "--pin", "907153"],
        &dev,
    ));
    assert!(
        err.contains("rate limited") && err.contains("again"),
        "{err}"
    );
    cool_down();
    let change = ok(&go(
        &["pin", "change", "--old-pin", "240517", "--pin", "907153"],
        &dev,
    ));
    assert!(change.contains("the phone received"), "{change}");
    assert!(change.contains("PIN changed"), "{change}");
    assert!(fails(&go(&["pin", "verify", "--pin", "240517"], &[])).contains("wrong PIN"));
    assert!(ok(&go(&["pin", "verify", "--pin", "907153"], &[])).contains("PIN correct"));
    // Typed (here: piped) instead of an argument.
    let piped = warung_stdin(&p, &["pin", "verify", "--server", &url], "907153\n");
    assert!(ok(&piped).contains("PIN correct"));
    let piped = warung_stdin(&p, &["pin", "verify", "--server", &url], "111111\n");
    assert!(fails(&piped).contains("wrong PIN (4 attempts left)"));

    // TOTP: enrol once, codes offline, the server accepts a code once.
    let err = fails(&go(&["totp", "code"], &[]));
    assert!(err.contains("warung totp enroll"), "{err}");
    let enrol = ok(&go(&["totp", "enroll", "--no-qr"], &[]));
    assert!(
        enrol.contains("otpauth://totp/Warung:%2B6281234567890?secret="),
        "{enrol}"
    );
    assert!(!enrol.contains('█'), "--no-qr draws no QR: {enrol}");
    let err = fails(&go(&["totp", "enroll"], &[]));
    assert!(err.contains("already enrolled"), "{err}");
    let code_line = ok(&go(&["totp", "code"], &[]));
    let code = code_line.split_whitespace().next().unwrap().to_string();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code_line}"
    );
    assert!(code_line.contains("s more"), "{code_line}");
    let accepted = ok(&go(&["totp", "verify", &code], &[]));
    assert!(accepted.contains("accepted by the server"), "{accepted}");
    let err = fails(&go(&["totp", "verify", &code], &[]));
    assert!(err.contains("totp_replayed"), "{err}");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let err = fails(&go(&["totp", "verify", wrong], &[]));
    assert!(err.contains("refused"), "{err}");
    let err = fails(&go(&["totp", "verify", "12x"], &[]));
    assert!(err.contains("6 to 8 digits"), "{err}");
    // A lost enrolment answer: `totp reset` (PIN + step-up code, after the cool-down), then
    // enrolment works again.
    let err = fails(&go(&["totp", "reset", "--pin", "12x"], &dev));
    assert!(err.contains("exactly 6 digits"), "{err}");
    cool_down();
    let reset = ok(&go(&["totp", "reset", "--pin", "907153"], &dev));
    assert!(reset.contains("the phone received"), "{reset}");
    assert!(reset.contains("soft token removed"), "{reset}");
    let err = fails(&go(&["totp", "code"], &[]));
    assert!(err.contains("warung totp enroll"), "{err}");
    let enrol = ok(&go(&["totp", "enroll", "--no-qr"], &[]));
    assert!(enrol.contains("otpauth://totp/"), "{enrol}");

    // Devices: this one, bound; an unknown id is refused.
    let list = ok(&go(&["device", "list"], &[]));
    assert!(list.contains("yes"), "{list}");
    let account = ok(&go(&["account"], &[]));
    assert!(account.contains("device bound   yes"), "{account}");
    assert!(account.contains("PIN set        yes"), "{account}");
    assert!(account.contains("TOTP enrolled  yes"), "{account}");
    assert!(fails(&go(&["device", "revoke", "no-such-device"], &[])).contains("not_found"));

    // Logout: the session is gone, the soft token stays (offline codes still work).
    assert!(ok(&go(&["logout"], &[])).contains("signed out"));
    let err = fails(&go(&["account"], &[]));
    assert!(
        err.contains("not signed in") && err.contains("warung login"),
        "{err}"
    );
    assert!(ok(&go(&["logout"], &[])).contains("nothing to do"));

    // Without a server: a missing --server is a usage error, a dead one a network error;
    // the soft token's code needs no server.
    let err = fails(&run(&["login", "--phone", "081234567890"]));
    assert!(err.contains("--server"), "{err}");
    rt.block_on(server.shutdown());
    let err = fails(&go(&["login", "--phone", "081234567890"], &[]));
    assert!(err.contains("network"), "{err}");
    let offline = ok(&go(&["totp", "code"], &[]));
    assert!(offline.contains("s more"), "{offline}");
}
