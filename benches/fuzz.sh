#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 60), one after another, one
# process each, and prints executions and crashes per target.
#
#   benches/fuzz.sh [SECONDS]            all targets
#   FUZZ_TARGETS="netlink kube_pods" benches/fuzz.sh 600
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Builds with debug
# assertions and overflow checks on (an overflow is a crash) and without a sanitizer (the code
# under test is safe Rust; panics are what we look for). Each target starts from its committed
# seed corpus (fuzz/corpus/<target>, read only) and grows a working corpus under
# fuzz/target/corpus/<target>. A crash, timeout (10 s per input) or out-of-memory input is saved
# under fuzz/artifacts/<target>/; libFuzzer stops that target at its first one. Logs go to
# fuzz/target/logs/<target>.log. Exit status: 1 if any target crashed.
set -uo pipefail
secs="${1:-60}"
cd "$(dirname "$0")/../fuzz" || exit 2
flags=(-a -s none)

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz on the nightly toolchain is needed: cargo install cargo-fuzz" >&2
  exit 2
fi
targets="${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"
echo "building fuzz targets ..." >&2
cargo +nightly fuzz build "${flags[@]}" >&2 || exit 2

mkdir -p target/logs
printf '%-16s %8s %12s %10s %8s  %s\n' target seconds executions exec/s crashes artifact
failed=0
for t in $targets; do
  work="target/corpus/$t"
  mkdir -p "$work" "artifacts/$t" "corpus/$t"
  before="$(find "artifacts/$t" -type f | sort)"
  log="target/logs/$t.log"
  start=$(date +%s)
  cargo +nightly fuzz run "${flags[@]}" "$t" "$work" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1
  rc=$?
  took=$(($(date +%s) - start))
  execs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')"
  rate="$(grep -o 'stat::average_exec_per_sec: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')"
  new="$(comm -13 <(echo "$before") <(find "artifacts/$t" -type f | sort) | grep -v '^$' || true)"
  crashes=$(printf '%s' "$new" | grep -c . || true)
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    crashes="?"   # failed without an artifact (build or libFuzzer error): see the log
  fi
  if [ "$crashes" != 0 ]; then failed=1; fi
  printf '%-16s %8s %12s %10s %8s  %s\n' "$t" "$took" "${execs:-?}" "${rate:-?}" "$crashes" \
    "$(printf '%s' "$new" | head -n 1)"
done
exit "$failed"
