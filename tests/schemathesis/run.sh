#!/usr/bin/env bash
# Property-based API tests of the real sync server with Schemathesis: builds warung-server
# (debug), starts it on a free port with a temporary data dir and the demo catalog, creates a
# merchant API key and registers a device, then runs every Schemathesis check against
# GET /openapi.json (config: tests/schemathesis/schemathesis.toml, which gives each security
# scheme its token). A user is signed in by SMS OTP (read from the dev outbox) for the
# access-token endpoints; signed and HMAC endpoints can only be refused (Schemathesis cannot sign). Schemathesis is installed once into a venv cached outside the repo
# (${WARUNG_CACHE:-~/.cache/warung}/schemathesis-venv).
#
# Prints, last, "schemathesis: N operations, M failures"; exits non-zero on any failure.
#   ST_MAX_EXAMPLES (default 30), ST_WORKERS (default 1), ST_SEED (optional) tune the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

ST_VERSION=4.32.5
CACHE=${WARUNG_CACHE:-$HOME/.cache/warung}
VENV=$CACHE/schemathesis-venv
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-30}
# One worker: with two, CPython 3.11's ast.parse (Hypothesis describes lambdas with it) crashed once
# here with "SystemError: AST constructor recursion depth mismatch" — a thread-safety bug of the
# interpreter, not a finding about the server.
WORKERS=${ST_WORKERS:-1}

# --- install -------------------------------------------------------------------------------
if [ "$("$VENV/bin/st" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' || true)" != "$ST_VERSION" ]; then
  echo "installing schemathesis $ST_VERSION into $VENV"
  command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
  mkdir -p "$CACHE"
  if ! python3 -m venv --clear "$VENV" >/dev/null 2>&1; then
    echo "python3 -m venv failed; on Debian/Ubuntu: apt-get install -y python3-venv python3-pip" >&2
    exit 1
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

# --- build ---------------------------------------------------------------------------------
cargo build --quiet -p warung-server
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps \
  | "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
SERVER=$TARGET_DIR/debug/warung-server
[ -x "$SERVER" ] || { echo "no $SERVER after the build" >&2; exit 1; }

# --- start the server ----------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/warung-st.XXXXXX")
SERVER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -s "$WORK/server.log" ]; then
    echo "--- server log (last 40 lines)"
    tail -n 40 "$WORK/server.log"
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DATA=$WORK/data
mkdir -p "$DATA"
# The merchant whose key the merchant API is tested with (the key is printed once).
MERCHANT_KEY=$("$SERVER" merchant create --name "Schemathesis Shop" --kind shop --data-dir "$DATA" 2>>"$WORK/server.log" \
  | sed -n 's/^api key: *//p')
[ -n "$MERCHANT_KEY" ] || { echo "merchant create printed no API key" >&2; exit 1; }

# The inbound SMS webhook and the dev outbox exist only when configured; the dev outbox is how
# this script signs a user in (the OTP's SMS) for the access_token scheme.
DEV_TOKEN=st-dev-$RANDOM$RANDOM
# Every request comes from 127.0.0.1: the per-address, per-block and global OTP send limits are
# raised so that generated cases keep reaching the code paths behind them (the limits
# themselves are tested in server/tests/identity.rs; their 429 stays documented).
WARUNG_LOG=${WARUNG_LOG:-warn} "$SERVER" --listen 127.0.0.1:0 --data-dir "$DATA" --demo \
  --sms-inbound-secret "st-inbound-$RANDOM$RANDOM" --dev-token "$DEV_TOKEN" \
  --otp-per-address-hour 100000 --otp-per-prefix-hour 100000 --otp-global-hour 100000 \
  >"$WORK/server.out" 2>>"$WORK/server.log" &
SERVER_PID=$!
ADDR=""
for _ in $(seq 1 600); do
  ADDR=$(sed -n 's/^listening on //p' "$WORK/server.out")
  [ -n "$ADDR" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "warung-server exited before listening" >&2; exit 1; }
  sleep 0.1
done
[ -n "$ADDR" ] || { echo "warung-server did not print its address" >&2; exit 1; }
echo "warung-server at $ADDR"

# A registered device for the device_token scheme.
DEVICE_ID=$("$VENV/bin/python" -c 'import uuid; print(uuid.uuid4())')
DEVICE_TOKEN=$(curl -sS --fail-with-body -X POST "$ADDR/v1/devices" \
  -H 'Content-Type: application/json' \
  -d "{\"device_id\":\"$DEVICE_ID\",\"platform\":\"cli\",\"app_version\":\"schemathesis\"}" \
  | "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["device_token"])')
[ -n "$DEVICE_TOKEN" ] || { echo "device registration returned no token" >&2; exit 1; }

# A signed-in user for the access_token scheme: OTP by SMS (read from the dev outbox), verified.
PY="$VENV/bin/python"
PHONE=+628123$(printf '%07d' $((RANDOM * RANDOM % 10000000)))
CHALLENGE=$(curl -sS --fail-with-body -X POST "$ADDR/v1/auth/otp" -H 'Content-Type: application/json' \
  -d "{\"phone\":\"$PHONE\",\"purpose\":\"login\",\"device_id\":\"$DEVICE_ID\"}" \
  | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["challenge_id"])')
CODE=$(curl -sS --fail-with-body "$ADDR/v1/dev/sms?to=$(printf %s "$PHONE" | sed 's/+/%2B/')&limit=1" \
  -H "Authorization: Bearer $DEV_TOKEN" \
  | "$PY" -c 'import json, re, sys; print(re.search(r"\b\d{6}\b", json.load(sys.stdin)["messages"][0]["text"]).group(0))')
ACCESS_TOKEN=$(curl -sS --fail-with-body -X POST "$ADDR/v1/auth/otp/verify" -H 'Content-Type: application/json' \
  -d "{\"challenge_id\":\"$CHALLENGE\",\"code\":\"$CODE\",\"device_id\":\"$DEVICE_ID\"}" \
  | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
[ -n "$ACCESS_TOKEN" ] || { echo "could not sign a user in" >&2; exit 1; }

# --- run -----------------------------------------------------------------------------------
export WARUNG_ST_MERCHANT_KEY=$MERCHANT_KEY WARUNG_ST_DEVICE_TOKEN=$DEVICE_TOKEN
export WARUNG_ST_ACCESS_TOKEN=$ACCESS_TOKEN WARUNG_ST_DEV_TOKEN=$DEV_TOKEN
ST_ARGS=(
  --config-file "$ROOT/tests/schemathesis/schemathesis.toml"
  run "$ADDR/openapi.json"
  --checks all
  --max-examples "$MAX_EXAMPLES"
  --workers "$WORKERS"
  --generation-database none
  --report json --report-json-path "$WORK/report.json"
  --no-color
)
[ -n "${ST_SEED:-}" ] && ST_ARGS+=(--seed "$ST_SEED")
summarize() {
  "$VENV/bin/python" - "$WORK/report.json" <<'EOF' || true
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"? operations, ? failures (no report: {e})")
    sys.exit(0)
ops = report.get("operations", {})
failures = sum(g.get("count", 0) for g in report.get("failures", []))
errors = sum(e.get("count", 0) for e in report.get("errors", []))
line = f"{ops.get('tested', '?')} operations, {failures} failures"
if errors:
    line += f", {errors} errors"
print(line)
EOF
}

# An internal error of Schemathesis itself (exit 2 with no failure found; seen once: its
# response-URL inference crashed in urllib on an "http://[" value it had generated) is not a
# finding about the server: that run is repeated once with another seed. Failures never are.
for ATTEMPT in 1 2; do
  rm -f "$WORK/report.json"
  set +e
  # From the temporary directory: Hypothesis keeps its files in the working directory.
  (cd "$WORK" && "$VENV/bin/st" "${ST_ARGS[@]}")
  ST_RC=$?
  set -e
  SUMMARY=$(summarize)
  if [ "$ST_RC" -eq 2 ] && [ "$ATTEMPT" -eq 1 ] && [ -z "${ST_SEED:-}" ] \
     && [[ "$SUMMARY" == *" 0 failures, "*errors ]]; then
    echo
    echo "schemathesis: $SUMMARY: an internal error of the tool, not a finding; running once more"
    continue
  fi
  break
done
echo
if [ "$ST_RC" -ne 0 ]; then
  echo "schemathesis: $SUMMARY (st exited with $ST_RC)"
  exit 1
fi
echo "schemathesis: $SUMMARY"
