# Sourced by tests/kotlin/run.sh and tests/swift/run.sh (from the repo root, after building
# warung-server into target/debug).
# A real sync server for the sync tests: the demo catalog on an ephemeral port, a temporary
# data dir, and an API key for the merchant whose price a test changes. Stopped on exit.
start_sync_server() {
  SERVER_DIR=$(mktemp -d)
  mkdir -p "$SERVER_DIR/data"
  target/debug/warung-server --listen 127.0.0.1:0 --data-dir "$SERVER_DIR/data" --demo \
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
