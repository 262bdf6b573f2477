#!/usr/bin/env bash
# `ondeck check -A --only pods` against `ondeck sim serve` with the `large` scenario regenerated
# for N pods: its wall time and peak RSS (GNU time's "Maximum resident set size"), next to
# `kubectl get pods -A -o json` on the same server (best of RUNS each).
#
# usage: benches/check_pods.sh [N=20000] [RUNS=3]
# Targets (issue 9): at 20k pods peak RSS <= 60 MiB; wall <= 0.07x kubectl's.
# Needs /usr/bin/time (GNU) and kubectl. ONDECK_BIN overrides the binary (default:
# target/release/ondeck, built if missing).
set -euo pipefail

PODS="${1:-20000}"
RUNS="${2:-3}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
WORK="$(mktemp -d)"
SIM_PID=""
cleanup() {
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
  [ -n "$SIM_PID" ] && wait "$SIM_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
[ -x /usr/bin/time ] || { echo "GNU time is needed (apt-get install -y time)" >&2; exit 1; }
command -v kubectl >/dev/null || { echo "kubectl is needed" >&2; exit 1; }

BIN="${ONDECK_BIN:-$ROOT/target/release/ondeck}"
if [ -z "${ONDECK_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
fi

sed -e "s/^  pods: .*/  pods: $PODS/" -e "s/^name: .*/name: large-$PODS/" \
  "$ROOT/assets/scenarios/large.yaml" > "$WORK/scenario.yaml"
"$BIN" sim serve --scenario "$WORK/scenario.yaml" --kubeconfig-out "$WORK/kubeconfig" \
  > "$WORK/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 1 1200); do [ -s "$WORK/kubeconfig" ] && break; sleep 0.1; done
[ -s "$WORK/kubeconfig" ] || { echo "the simulated cluster did not start:" >&2; cat "$WORK/sim.log" >&2; exit 1; }
export KUBECONFIG="$WORK/kubeconfig"

# One run: prints "WALL_SECONDS MAX_RSS_KIB".
measure() {
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2>"$WORK/err" || true
  tail -n 1 "$WORK/time"
}
best() { sort -n | head -n 1; }

for _ in $(seq 1 "$RUNS"); do measure kubectl get pods -A -o json; done > "$WORK/kubectl"
kubectl_bytes="$(wc -c < "$WORK/out")"
for _ in $(seq 1 "$RUNS"); do measure "$BIN" check -A --only pods; done > "$WORK/ondeck"
head -c 300 "$WORK/out" > "$WORK/ondeck_head"
k_wall="$(cut -d' ' -f1 "$WORK/kubectl" | best)"
k_rss="$(cut -d' ' -f2 "$WORK/kubectl" | sort -n | tail -n 1)"
o_wall="$(cut -d' ' -f1 "$WORK/ondeck" | best)"
o_rss="$(cut -d' ' -f2 "$WORK/ondeck" | sort -n | tail -n 1)"
echo "check -A --only pods against $PODS simulated pods (best of $RUNS, peak RSS the highest)"
echo "  ondeck output starts: $(head -n 1 "$WORK/ondeck_head")"
awk -v kw="$k_wall" -v kr="$k_rss" -v ow="$o_wall" -v orss="$o_rss" -v kb="$kubectl_bytes" 'BEGIN {
  printf "  kubectl get pods -A -o json: %6.2f s  peak RSS %6.1f MiB  (%d bytes of JSON)\n", kw, kr / 1024, kb;
  printf "  ondeck check -A --only pods: %6.2f s  peak RSS %6.1f MiB\n", ow, orss / 1024;
  if (kw > 0) printf "  ondeck / kubectl wall: %.3fx\n", ow / kw;
}'
