# Sourced by tests/run and the suites that run against PostgreSQL.
# A private PostgreSQL cluster on loopback for the tests: installed from Debian's packages when
# missing, created in a temporary directory (initdb runs as the postgres user: it refuses
# root), started on a free port with trust authentication for the `warung` role, stopped and
# removed by stop_postgres (callers trap it on EXIT). Exports WARUNG_TEST_DATABASE_URL, a
# database of its own per start (postgres://warung@127.0.0.1:PORT/warung?sslmode=disable).
#   ensure_postgres    installs PostgreSQL if needed (idempotent)
#   start_postgres     initdb + start; sets PG_DIR, PG_PORT, WARUNG_TEST_DATABASE_URL and
#                      WARUNG_TEST_DATABASE_CA (the cluster also speaks TLS, with a server
#                      certificate for 127.0.0.1 signed by a throwaway CA, that PEM file)
#   new_test_database NAME   creates another empty database, prints its URL
#   stop_postgres      stops the cluster and removes its directory
pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

ensure_postgres() {
  pg_bin >/dev/null && return 0
  echo "installing PostgreSQL (Debian's postgresql)…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null \
    || return 1
  # Debian's package starts a system cluster on port 5432: the tests use their own.
  if command -v pg_ctlcluster >/dev/null; then
    for c in $(pg_lsclusters -h 2>/dev/null | awk '{print $1 "/" $2}'); do
      pg_ctlcluster "${c%/*}" "${c#*/}" stop 2>/dev/null || true
    done
  fi
  pg_bin >/dev/null
}

start_postgres() {
  ensure_postgres || return 1
  local bin
  bin=$(pg_bin)
  PG_DIR=$(mktemp -d /tmp/warung-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_DIR"
    PG_AS="runuser -u postgres --"
  else
    PG_AS=""
  fi
  PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  $PG_AS "$bin/initdb" -D "$PG_DIR/data" -A trust -U warung -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; return 1; }
  # TLS for the tests of sslmode=require: a throwaway CA and a server certificate for 127.0.0.1.
  local tls=""
  if command -v openssl >/dev/null; then
    (
      cd "$PG_DIR" &&
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=warung test CA" \
        -keyout ca.key -out ca.pem 2>/dev/null &&
      openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null &&
      printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > san.ext &&
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile san.ext -out server.pem 2>/dev/null &&
      chmod 600 server.key && { [ -z "$PG_AS" ] || chown postgres server.key server.pem; }
    ) && tls="-c ssl=on -c ssl_cert_file=$PG_DIR/server.pem -c ssl_key_file=$PG_DIR/server.key"
  fi
  # Enough connections for three server processes with their pools plus the tests' own.
  $PG_AS "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-k $PG_DIR -c listen_addresses=127.0.0.1 -p $PG_PORT -c max_connections=200 -c fsync=off $tls" start >/dev/null \
    || { cat "$PG_DIR/log"; return 1; }
  [ -n "$tls" ] && export WARUNG_TEST_DATABASE_CA="$PG_DIR/ca.pem"
  "$bin/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U warung -d postgres -c 'CREATE DATABASE warung' >/dev/null || return 1
  export PG_DIR PG_PORT
  # Plain TCP on loopback: the cluster's TLS (a private CA) is for the TLS test, which asks
  # for sslmode=require and trusts WARUNG_TEST_DATABASE_CA.
  export WARUNG_TEST_DATABASE_URL="postgres://warung@127.0.0.1:$PG_PORT/warung?sslmode=disable"
  echo "postgres $WARUNG_TEST_DATABASE_URL"
}

new_test_database() {
  local bin
  bin=$(pg_bin)
  "$bin/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U warung -d postgres -c "CREATE DATABASE $1" >/dev/null || return 1
  echo "postgres://warung@127.0.0.1:$PG_PORT/$1?sslmode=disable"
}

stop_postgres() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    local bin
    bin=$(pg_bin)
    ${PG_AS:-} "$bin/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
  PG_DIR=""
  return 0
}
