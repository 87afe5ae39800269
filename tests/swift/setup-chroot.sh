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
mkdir -p "$CACHE"
if [ ! -x "$R/usr/bin/apt-get" ]; then
  rm -rf "$R"
  echo "debootstrap trixie into $R…"
  debootstrap --variant=minbase trixie "$R" http://deb.debian.org/debian >/dev/null
fi
mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"
trap 'umount "$R/proc" 2>/dev/null || true' EXIT
echo "installing swiftlang in the chroot…"
chroot "$R" apt-get update -qq >/dev/null
chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq swiftlang >/dev/null
chroot "$R" swiftc --version
