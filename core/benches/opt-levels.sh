#!/usr/bin/env bash
# What opt-level does to size and speed, for the release profile's choice.
# For each level: the stripped size of the `warung` binary (LTO, one codegen unit, as shipped)
# and the catalog benchmark on a 20k-product store. Slow (a full LTO build per level).
#   core/benches/opt-levels.sh [levels…]      default: 3 2 s z
set -euo pipefail
cd "$(dirname "$0")/../.."
levels=("$@")
[ ${#levels[@]} -eq 0 ] && levels=(3 2 s z)
for lvl in "${levels[@]}"; do
  dir="target/opt-$lvl"
  CARGO_PROFILE_RELEASE_OPT_LEVEL=$lvl cargo build -q --release -p warung-cli --target-dir "$dir"
  size=$(stat -c %s "$dir/release/warung")
  line=$(CARGO_PROFILE_BENCH_OPT_LEVEL=$lvl WARUNG_BENCH_PRODUCTS=20000 \
    cargo bench -q -p warung-core --bench catalog --target-dir "$dir" 2>/dev/null | tail -1)
  echo "opt-level=$lvl warung_bytes=$size ${line#catalog: }"
done
