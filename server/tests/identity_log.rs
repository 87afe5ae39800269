//! The PIN never reaches the server's log. Its own test binary: the log capture (a global
//! tracing subscriber at TRACE) sees only this test's server.

mod common;

use common::*;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `needle` appears in `hay` as a whole token (not inside a longer run of letters/digits).
fn contains_token(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

#[tokio::test]
async fn the_pin_never_appears_in_the_log() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let s = spawn().await;
    let p = s.login("081277771234").await;
    s.bind(&p).await;
    s.set_and_check_pin(&p, "739154", "862093").await;
    s.signed(&p, "PUT", "/v1/me/pin", Some(json!({"pin": "12x456"})))
        .await
        .expect(422, "invalid_pin");
    s.server.shutdown().await;

    let log = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    // The capture works: the PIN requests and their outcomes are in it.
    assert!(log.contains("/v1/me/pin/verify"), "{log}");
    assert!(log.contains("wrong PIN"), "{log}");
    for pin in ["739154", "862093", "12x456"] {
        assert!(!contains_token(&log, pin), "the PIN {pin} is in the log");
    }
    assert!(contains_token("pin=739154 ", "739154"));
}
