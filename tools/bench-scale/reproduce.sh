#!/usr/bin/env bash
# Every figure of BENCHMARKS.md in one go: the whole-ledger benches (bench-scale), the
# peer (cqrs-es + postgres-es, a separate workspace), the criterion micro-benches, and
# the load test of `planledger serve` (benches/serve_load.rs).
#
#   tools/bench-scale/reproduce.sh            # the scale of BENCHMARKS.md
#   tools/bench-scale/reproduce.sh --small    # a smoke run of everything, a few minutes
#
# Generated ledgers are cached under $CARGO_TARGET_DIR/bench-scale (target/bench-scale
# by default), so a second run starts measuring at once. The PostgreSQL parts need the
# server binaries (apt-get install postgresql-15).
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
out="${BENCH_OUT:-$target/bench-scale-results}"
mkdir -p "$out"

if [ "${1:-}" = "--small" ]; then
  scale=(--small)
  peer=(--commands 500 --writers 4)
  crit=(--warm-up-time 1 --measurement-time 1)
  load_secs=4
else
  scale=(--records 1000000 --query-clients 100000 --import-commands 100000)
  peer=(--commands 10000 --writers 8)
  crit=(--warm-up-time 1 --measurement-time 3)
  load_secs=20
fi

cargo build --release -p planledger -p planledger-bench-scale
"$target/release/bench-scale" "${scale[@]}" --out "$out/scale.md"
cargo run --release --manifest-path benches/peer/Cargo.toml -- "${peer[@]}" | tee "$out/peer.md"
cargo bench --bench ledger --bench store --bench postgres -- "${crit[@]}" 2>&1 | tee "$out/criterion.txt"
# The load test of `planledger serve` beside the library (issue 17).
PLANLEDGER_LOAD_SECS="$load_secs" cargo bench --bench serve_load 2>&1 | tee "$out/serve-load.md"
echo "results in $out"
