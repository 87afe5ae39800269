#!/usr/bin/env bash
# A Debian trixie chroot with Swift (swiftlang), for running the Swift suite on Linux.
# Idempotent; kept outside the repo in $WARUNG_CACHE (default ~/.cache/warung): ≈3.4 GB.
set -euo pipefail
CACHE="${WARUNG_CACHE:-$HOME/.cache/warung}"
R="$CACHE/trixie"
if [ -x "$R/usr/bin/swiftc" ]; then
  exit 0
fi
command -v debootstrap >/dev/null || {
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap) >/dev/null
}
# The Debian mirror this machine's apt already uses (WARUNG_DEBIAN_MIRROR overrides): the first
# enabled `deb` source that is not a security suite, from deb822 `.sources` files or one-line
# `.list` files. A machine behind its own mirror or proxy then works as apt does.
debian_mirror() {
  if [ -n "${WARUNG_DEBIAN_MIRROR:-}" ]; then echo "$WARUNG_DEBIAN_MIRROR"; return; fi
  local m
  m=$(awk '
    function flush() {
      if (types ~ /(^| )deb( |$)/ && suites !~ /-security/ && enabled != "no" && uri != "" && !done) {
        print uri; done = 1
      }
      types = ""; suites = ""; uri = ""; enabled = ""
    }
    /^[ \t]*$/ { flush(); next }
    /^[ \t]*#/ { next }
    tolower($1) == "types:" { types = substr($0, index($0, ":") + 1); sub(/^[ \t]+/, "", types) }
    tolower($1) == "suites:" { suites = $0 }
    tolower($1) == "uris:" { uri = $2 }
    tolower($1) == "enabled:" { enabled = tolower($2) }
    END { flush() }
  ' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
  if [ -z "$m" ]; then
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | sed -nE 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+([^[:space:]]+).*/\2 \3/p' \
      | awk '$2 !~ /-security/ { print $1; exit }')
  fi
  [ -n "$m" ] || { echo "no Debian mirror in /etc/apt/sources*; set WARUNG_DEBIAN_MIRROR" >&2; return 1; }
  echo "$m"
}

mkdir -p "$CACHE"
if [ ! -x "$R/usr/bin/apt-get" ]; then
  rm -rf "$R"
  MIRROR=$(debian_mirror)
  echo "debootstrap trixie into $R from $MIRROR…"
  debootstrap --variant=minbase trixie "$R" "$MIRROR" >/dev/null
fi
mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"
trap 'umount "$R/proc" 2>/dev/null || true' EXIT
echo "installing swiftlang in the chroot…"
chroot "$R" apt-get update -qq >/dev/null
chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq swiftlang >/dev/null
chroot "$R" swiftc --version
