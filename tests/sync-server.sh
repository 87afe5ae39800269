# Sourced by tests/kotlin/run.sh and tests/swift/run.sh (from the repo root, after building
# warung-server and warung-e2e's plant-op into target/debug).
# A real sync server for the sync tests: the demo catalog on an ephemeral port, a temporary
# data dir, and an API key for the merchant whose price a test changes. Stopped on exit.
# One catalog op no phone can store is planted in its op log (see below): every phone that
# syncs quarantines that variant (WARUNG_TEST_QUARANTINED_VARIANT) until a test fixes it.
# For the identity tests: the development SMS gateway, readable with a random dev token
# (GET /v1/dev/sms), a random inbound-SMS HMAC secret (the tests deliver the phone's binding
# SMS to POST /v1/sms/inbound as an aggregator would) and a cheap PIN hash (10,000 PBKDF2
# iterations instead of 600,000, to keep the debug server quick). Exported to the tests:
# WARUNG_TEST_SMS_SECRET, WARUNG_TEST_DEV_TOKEN, WARUNG_TEST_SHORT_CODE,
# WARUNG_TEST_OTP_RESEND_S.
start_sync_server() {
  SERVER_DIR=$(mktemp -d)
  mkdir -p "$SERVER_DIR/data"
  WARUNG_TEST_SMS_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  WARUNG_TEST_DEV_TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  WARUNG_TEST_SHORT_CODE=3345
  # The resend cool-down is per phone across purposes: the tests see RateLimited when they ask
  # twice, then move the server's clock past it (--dev-clock: POST /v1/dev/clock with the dev
  # token) instead of sleeping; 3 s keeps the total offset far below a TOTP step.
  WARUNG_TEST_OTP_RESEND_S=3
  # Every test asks from 127.0.0.1 for numbers of one block (newPhone counts up): the per-address
  # and per-block send limits are raised here, not in the server's defaults.
  export WARUNG_TEST_SMS_SECRET WARUNG_TEST_DEV_TOKEN WARUNG_TEST_SHORT_CODE WARUNG_TEST_OTP_RESEND_S
  # Secrets through the environment, not argv (visible in ps); the flags read these variables.
  WARUNG_SMS_INBOUND_SECRET="$WARUNG_TEST_SMS_SECRET" WARUNG_DEV_TOKEN="$WARUNG_TEST_DEV_TOKEN" \
    target/debug/warung-server --listen 127.0.0.1:0 --data-dir "$SERVER_DIR/data" --demo \
    --sms-gateway dev --sms-short-code "$WARUNG_TEST_SHORT_CODE" --pin-iterations 10000 \
    --otp-resend-s "$WARUNG_TEST_OTP_RESEND_S" --dev-clock \
    --otp-per-address-hour 10000 --otp-per-prefix-hour 10000 \
    >"$SERVER_DIR/stdout" 2>"$SERVER_DIR/server.log" &
  SERVER_PID=$!
  local url="" i
  for i in $(seq 150); do
    url=$(sed -n 's/^listening on //p' "$SERVER_DIR/stdout")
    [ -n "$url" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "warung-server did not start:"; cat "$SERVER_DIR/server.log"; exit 1
  fi
  export WARUNG_TEST_SERVER_URL="$url"
  export WARUNG_TEST_MERCHANT_ID=m-kopi-nusantara
  WARUNG_TEST_MERCHANT_KEY=$(target/debug/warung-server merchant rotate-key \
    --id "$WARUNG_TEST_MERCHANT_ID" --data-dir "$SERVER_DIR/data" | sed -n 's/^api key: *//p')
  [ -n "$WARUNG_TEST_MERCHANT_KEY" ] || { echo "no merchant key"; exit 1; }
  export WARUNG_TEST_MERCHANT_KEY
  # A price past what a phone stores (i64::MAX + 1 rupiah), which the server's API refuses
  # (422), written to the op log directly as an older server could have published it. A
  # variant of the merchant above (so a test can set a valid price) that no other test uses.
  export WARUNG_TEST_QUARANTINED_VARIANT=v-0125-2
  target/debug/plant-op "$SERVER_DIR/data" --variant-price "$WARUNG_TEST_QUARANTINED_VARIANT" \
    9223372036854775808 >/dev/null || { echo "cannot plant the bad catalog op"; exit 1; }
  # A port nothing listens on (bound, then released), for the unreachable-server test.
  export WARUNG_TEST_DEAD_URL="http://127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  echo "sync server $url (pid $SERVER_PID)"
}
stop_sync_server() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  [ -n "${SERVER_DIR:-}" ] && rm -rf "$SERVER_DIR"
  return 0
}
