#!/usr/bin/env bash
# The console's idle cost on a wall screen: holds N CLOSE_WAIT sockets on loopback, runs the
# release binary in a detached tmux terminal (200x60) with `--refresh 1s`, lets it settle, then
# samples its CPU time (utime+stime from /proc/PID/stat) and resident memory over SECONDS.
# Prints CPU as % of one core, and RSS at the start and end of the window (flat = bounded).
#
# usage: benches/idle_console.sh [N=10000] [SECONDS=60]
# Needs tmux and python3. Target (issue 2): <= 1.5% of one core at 10k sockets, memory flat.
set -euo pipefail

N="${1:-10000}"
SECS="${2:-60}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
WORK="$(mktemp -d)"
SESSION="ondeck-idle-$$"
cleanup() {
  tmux kill-session -t "$SESSION" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
  [ -n "${HOLDER:-}" ] && wait "$HOLDER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
command -v tmux >/dev/null || { echo "tmux is needed (apt-get install -y tmux)" >&2; exit 1; }

(cd "$ROOT" && cargo build --release --quiet)
BIN="$ROOT/target/release/ondeck"

mkfifo "$WORK/hold"
python3 "$HERE/cw_holder.py" "$N" < "$WORK/hold" > "$WORK/ready" &
HOLDER=$!
exec 3>"$WORK/hold"
for _ in $(seq 1 600); do grep -q READY "$WORK/ready" 2>/dev/null && break; sleep 0.1; done
grep -q READY "$WORK/ready" || { echo "socket holder did not get ready" >&2; exit 1; }

tmux new-session -d -s "$SESSION" -x 200 -y 60 \
  "XDG_STATE_HOME=$WORK/state XDG_CONFIG_HOME=$WORK/config $BIN --refresh 1s"
sleep 5 # start-up and the first owner scan are not idle
PID="$(pgrep -n -f "$BIN --refresh 1s")"
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
HZ="$(getconf CLK_TCK)"
t0="$(ticks)"; r0="$(rss)"; s0="$(date +%s.%N)"
sleep "$SECS"
t1="$(ticks)"; r1="$(rss)"; s1="$(date +%s.%N)"
cw="$(( $(ss -tan state close-wait | wc -l) - 1 ))"
awk -v t0="$t0" -v t1="$t1" -v hz="$HZ" -v s0="$s0" -v s1="$s1" -v r0="$r0" -v r1="$r1" -v cw="$cw" 'BEGIN {
  cpu = (t1 - t0) / hz; wall = s1 - s0;
  printf "CLOSE_WAIT on the machine: %d\n", cw;
  printf "console CPU: %.2f s over %.0f s = %.2f%% of one core (refresh 1s, 200x60)\n", cpu, wall, 100 * cpu / wall;
  printf "console RSS: %.1f MiB at start, %.1f MiB after %.0f s\n", r0 / 1024, r1 / 1024, wall;
}'
