#!/usr/bin/env bash
# Creates N sockets in CLOSE_WAIT on loopback (spread over holder processes: the fd limit is
# 20,000 per process), then times, side by side (medians):
#   ss -tan  state close-wait | wc -l
#   ss -tanp state close-wait | wc -l       (names processes, like ondeck's attribution)
#   ondeck check --only sockets --json     (start-up and process attribution included)
# with hyperfine when installed (apt-get install -y hyperfine), else a timing loop.
#
# usage: benches/close_wait_vs_ss.sh [N=10000] [RUNS=10]
# Until `ondeck check` exists, the bench binary's one-shot mode (ONDECK_BENCH_ONESHOT=1: one cold
# SocketCollector poll with owners, what `check --only sockets` will do) stands in for it; the
# output says which was timed. Needs python3 (the holder) and ss. Targets (issue 2): at 50k,
# ondeck <= 0.4x `ss -tanp state close-wait | wc -l`.
set -euo pipefail

N="${1:-10000}"
RUNS="${2:-10}"
PER_HOLDER=19000
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
WORK="$(mktemp -d)"
FIFO="$WORK/hold"
mkfifo "$FIFO"
PIDS=()

cleanup() {
  exec 3>&- 2>/dev/null || true
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v python3 >/dev/null || { echo "python3 is needed for the socket holders" >&2; exit 1; }
SS="$(command -v ss || echo /usr/bin/ss)"

echo "== building (release)" >&2
(cd "$ROOT" && cargo build --release --quiet)
BENCH_EXE="$(cd "$ROOT" && cargo bench --bench sockets --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)"
case "$BENCH_EXE" in /*) ;; *) BENCH_EXE="$ROOT/$BENCH_EXE" ;; esac

echo "== holding $N CLOSE_WAIT sockets" >&2
left="$N"; i=0
while [ "$left" -gt 0 ]; do
  k=$(( left < PER_HOLDER ? left : PER_HOLDER ))
  python3 "$HERE/cw_holder.py" "$k" < "$FIFO" > "$WORK/ready.$i" &
  PIDS+=("$!")
  left=$(( left - k )); i=$(( i + 1 ))
done
exec 3>"$FIFO" # holders exit when this closes
for j in $(seq 0 $(( i - 1 ))); do
  for _ in $(seq 1 600); do grep -q READY "$WORK/ready.$j" 2>/dev/null && break; sleep 0.1; done
  grep -q READY "$WORK/ready.$j" || { echo "holder $j did not get ready" >&2; exit 1; }
done
have=$(( $("$SS" -tan state close-wait | wc -l) - 1 ))
echo "== CLOSE_WAIT sockets on the machine: $have" >&2

# Which ondeck command to time.
ONDECK_BIN="$ROOT/target/release/ondeck"
if out="$("$ONDECK_BIN" check --only sockets --json 2>/dev/null)"; rc=$?; [ $rc -le 3 ] && grep -q '"sockets"' <<<"$out"; then
  ONDECK_CMD="$ONDECK_BIN check --only sockets --json"
  ONDECK_LABEL="ondeck check --only sockets --json"
else
  ONDECK_CMD="env ONDECK_BENCH_ONESHOT=1 $BENCH_EXE"
  ONDECK_LABEL="collector one-shot (stand-in: 'ondeck check' not built yet)"
fi
echo "== ondeck says: $(eval "$ONDECK_CMD" 2>/dev/null | head -c 300)" >&2

CMDS=("$SS -tan state close-wait | wc -l" "$SS -tanp state close-wait | wc -l" "$ONDECK_CMD > /dev/null")
LABELS=("ss -tan state close-wait | wc -l" "ss -tanp state close-wait | wc -l" "$ONDECK_LABEL")

if command -v hyperfine >/dev/null; then
  hyperfine --style basic --warmup 1 --runs "$RUNS" --ignore-failure \
    --export-json "$WORK/h.json" "${CMDS[@]}" >&2
  mapfile -t MEDIANS < <(python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["results"]: print(r["median"])' "$WORK/h.json")
  TOOL=hyperfine
else
  MEDIANS=()
  for c in "${CMDS[@]}"; do
    MEDIANS+=("$(python3 - "$c" "$RUNS" <<'EOF'
import statistics, subprocess, sys, time
cmd, runs = sys.argv[1], int(sys.argv[2])
subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL)
ts = []
for _ in range(runs):
    t = time.perf_counter(); subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL)
    ts.append(time.perf_counter() - t)
print(statistics.median(ts))
EOF
)")
  done
  TOOL="timing loop"
fi

echo
echo "CLOSE_WAIT sockets: $have (asked $N), $RUNS runs each, medians by $TOOL"
for k in 0 1 2; do
  printf '  %-62s %9.1f ms\n' "${LABELS[$k]}" "$(python3 -c "print(${MEDIANS[$k]}*1000)")"
done
python3 -c "print('  ondeck / ss -tanp = %.2fx   (target at 50k: <= 0.40x)' % (${MEDIANS[2]}/${MEDIANS[1]}))"
python3 -c "print('  ondeck / ss -tan  = %.2fx' % (${MEDIANS[2]}/${MEDIANS[0]}))"
