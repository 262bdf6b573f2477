#!/usr/bin/env bash
# The console's idle cost on a wall screen. Runs the release binary in a detached tmux terminal
# (200x60) with `--refresh 1s`, waits until it has settled, then samples its CPU time
# (utime+stime from /proc/PID/stat) and resident memory (/proc/PID/status) over SECONDS.
# Prints CPU as % of one core, RSS at the start and end of the window (flat = bounded), and
# the median, min and max of RSS sampled every second over the window.
#
# usage:
#   benches/idle_console.sh [N=10000] [SECONDS=60]
#       sockets alone: holds N CLOSE_WAIT sockets on loopback, no cluster.
#       Target (issue 2 / issue 9): <= 1.5% of one core at 10k sockets, ~22 MiB, memory flat.
#   benches/idle_console.sh --pods N [SECONDS=60]
#       against `ondeck sim serve` with the `large` scenario regenerated for N pods (the
#       scenario's `generate.pods`), nothing changing in the cluster. Also reports the time
#       from start to the first full pods list on screen (the header's pods meter adds up to
#       N), and samples only after it.
#       Targets (issue 9): 5k pods <= 1.0% and <= 45 MiB; 20k pods <= 1.0% and <= 80 MiB;
#       first full pane <= 1.5 s.
# Needs tmux and python3 (and ss for the sockets mode). ONDECK_BIN overrides the binary
# (default: target/release/ondeck, built if missing). EXTRA_ENV (e.g. "MALLOC_ARENA_MAX=2")
# sets environment for the console in --pods mode, to compare allocator settings.
set -euo pipefail

PODS=""
if [ "${1:-}" = "--pods" ]; then
  PODS="${2:?--pods needs a number}"
  shift 2
  SECS="${1:-60}"
else
  N="${1:-10000}"
  SECS="${2:-60}"
fi
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
WORK="$(mktemp -d)"
SESSION="ondeck-idle-$$"
SIM_PID=""
HOLDER=""
cleanup() {
  tmux kill-session -t "$SESSION" 2>/dev/null || true
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
  [ -n "$SIM_PID" ] && wait "$SIM_PID" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
  [ -n "$HOLDER" ] && wait "$HOLDER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
command -v tmux >/dev/null || { echo "tmux is needed (apt-get install -y tmux)" >&2; exit 1; }

BIN="${ONDECK_BIN:-$ROOT/target/release/ondeck}"
if [ -z "${ONDECK_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet)
fi

ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$PID/status"; }
screen() { tmux capture-pane -p -t "$SESSION" 2>/dev/null || true; }

if [ -n "$PODS" ]; then
  # The large scenario with N pods (and PVCs, namespaces and nodes scaled with it).
  sed -e "s/^  pods: .*/  pods: $PODS/" \
      -e "s/^name: .*/name: large-$PODS/" \
      "$ROOT/assets/scenarios/large.yaml" > "$WORK/scenario.yaml"
  "$BIN" sim serve --scenario "$WORK/scenario.yaml" --kubeconfig-out "$WORK/kubeconfig" \
    > "$WORK/sim.log" 2>&1 &
  SIM_PID=$!
  for _ in $(seq 1 1200); do [ -s "$WORK/kubeconfig" ] && break; sleep 0.1; done
  [ -s "$WORK/kubeconfig" ] || { echo "the simulated cluster did not start:" >&2; cat "$WORK/sim.log" >&2; exit 1; }
  kubectl --kubeconfig "$WORK/kubeconfig" get --raw /version >/dev/null 2>&1 || true
  START="$(date +%s.%N)"
  tmux new-session -d -s "$SESSION" -x 200 -y 60 \
    "${EXTRA_ENV:-} XDG_STATE_HOME=$WORK/state XDG_CONFIG_HOME=$WORK/config KUBECONFIG=$WORK/kubeconfig $BIN --ascii --refresh 1s -A"
  PID=""
  for _ in $(seq 1 100); do PID="$(pgrep -n -f "$BIN --ascii --refresh 1s -A" || true)"; [ -n "$PID" ] && break; sleep 0.05; done
  [ -n "$PID" ] || { echo "the console did not start" >&2; exit 1; }
  # The first full list: the header's pods meter (critical, warning, ok) adds up to N.
  FULL=""
  for _ in $(seq 1 2400); do
    if screen | python3 -c '
import re, sys
n = int(sys.argv[1])
for line in sys.stdin:
    m = re.search(r"Pods\D{0,6}(\d+)\D{1,6}(\d+)\D{1,6}(\d+)", line)
    if m and sum(map(int, m.groups())) == n:
        sys.exit(0)
sys.exit(1)' "$PODS"; then
      FULL="$(date +%s.%N)"
      break
    fi
    sleep 0.05
  done
  if [ -n "$FULL" ]; then
    awk -v a="$START" -v b="$FULL" 'BEGIN { printf "first full pods list on screen: %.2f s after start\n", b - a }'
  else
    echo "first full pods list: not seen on screen within 120 s (header changed?); sampling anyway"
  fi
  sleep 5 # the first full list's work (rows, rules, alerts) is not idle
else
  command -v ss >/dev/null || { echo "ss is needed" >&2; exit 1; }
  mkfifo "$WORK/hold"
  python3 "$HERE/cw_holder.py" "$N" < "$WORK/hold" > "$WORK/ready" &
  HOLDER=$!
  exec 3>"$WORK/hold"
  for _ in $(seq 1 600); do grep -q READY "$WORK/ready" 2>/dev/null && break; sleep 0.1; done
  grep -q READY "$WORK/ready" || { echo "socket holder did not get ready" >&2; exit 1; }
  tmux new-session -d -s "$SESSION" -x 200 -y 60 \
    "XDG_STATE_HOME=$WORK/state XDG_CONFIG_HOME=$WORK/config KUBECONFIG=$WORK/none $BIN --refresh 1s"
  sleep 5 # start-up and the first owner scan are not idle
  PID="$(pgrep -n -f "$BIN --refresh 1s")"
fi

HZ="$(getconf CLK_TCK)"
t0="$(ticks)"; r0="$(rss)"; s0="$(date +%s.%N)"
# Resident memory once a second over the window: transient work (a periodic re-evaluation)
# shows as short peaks, so the median says what the console holds and the max its peaks.
: > "$WORK/rss"
for _ in $(seq 1 "$SECS"); do sleep 1; rss >> "$WORK/rss"; done
t1="$(ticks)"; r1="$(rss)"; s1="$(date +%s.%N)"; peak="$(hwm)"
anon="$(awk '/RssAnon/ {print $2}' "/proc/$PID/status")"; file="$(awk '/RssFile/ {print $2}' "/proc/$PID/status")"
if [ -n "$PODS" ]; then
  what="$PODS pods (scenario large, generate.pods=$PODS), nothing changing"
else
  what="$(( $(ss -tan state close-wait | wc -l) - 1 )) CLOSE_WAIT sockets on the machine, no cluster"
fi
awk -v t0="$t0" -v t1="$t1" -v hz="$HZ" -v s0="$s0" -v s1="$s1" -v r0="$r0" -v r1="$r1" -v peak="$peak" -v what="$what" -v anon="$anon" -v file="$file" 'BEGIN {
  cpu = (t1 - t0) / hz; wall = s1 - s0;
  printf "%s\n", what;
  printf "console CPU: %.2f s over %.0f s = %.2f%% of one core (refresh 1s, 200x60)\n", cpu, wall, 100 * cpu / wall;
  printf "console RSS: %.1f MiB at start, %.1f MiB after %.0f s (peak %.1f MiB)\n", r0 / 1024, r1 / 1024, wall, peak / 1024;
  printf "  of which heap and stacks (RssAnon) %.1f MiB, the binary and libraries (RssFile) %.1f MiB\n", anon / 1024, file / 1024;
}'
sort -n "$WORK/rss" | awk '{ v[NR] = $1 } END {
  if (NR == 0) exit;
  printf "console RSS sampled every second over the window: median %.1f MiB, min %.1f, max %.1f\n", v[int((NR + 1) / 2)] / 1024, v[1] / 1024, v[NR] / 1024;
}'
