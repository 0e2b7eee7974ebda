#!/usr/bin/env bash
# The floor of fanotify blocking on this machine: the exec storm with no guard and with perm-floor-guard.c (answers
# every permission event FAN_ALLOW at once), alternated round by round, on a tmpfs of its own (never the host root).
# As root, from the repository root:  scripts/bench/perm-floor.sh [rounds=10] [threads=1] [execs=20000]
set -euo pipefail
rounds=${1:-10}; threads=${2:-1}; execs=${3:-20000}
work=$(mktemp -d /tmp/drift-perm-floor.XXXXXX)
mount -t tmpfs -o size=16m drift-perm-floor "$work"
guard_pid=
cleanup() { [ -n "$guard_pid" ] && kill "$guard_pid" 2>/dev/null; umount "$work"; rmdir "$work"; }
trap cleanup EXIT
gcc -O2 -static -o "$work/storm" agent/src/test/storm/storm.c
gcc -O2 -static -nostdlib -o "$work/noop" agent/src/test/storm/noop.c
gcc -O2 -o "$work/guard" scripts/bench/perm-floor-guard.c -lpthread
storm_ns() { "$work/storm" "$work/noop" "$execs" 2 | sed 's/.* ns=\([0-9]*\).*/\1/'; }
for i in $(seq "$rounds"); do
  none=$(storm_ns)
  "$work/guard" "$work" "$threads" & guard_pid=$!
  sleep 0.3
  guarded=$(storm_ns)
  kill "$guard_pid"; wait "$guard_pid" 2>/dev/null || true; guard_pid=
  echo "$none $guarded"
done | python3 -c '
import statistics, sys
rounds = [tuple(map(float, l.split())) for l in sys.stdin]
ratios = sorted(n / g for n, g in rounds)
rate = lambda ns: '"$execs"' * 1e9 / ns
print("rounds %d, threads '"$threads"': no guard %.0f execs/s, floor guard %.0f execs/s (medians)" % (len(rounds),
      statistics.median(rate(n) for n, _ in rounds), statistics.median(rate(g) for _, g in rounds)))
print("median ratio %.4f (cost %.1f %%), min %.4f, max %.4f" % (statistics.median(ratios),
      (1 - statistics.median(ratios)) * 100, ratios[0], ratios[-1]))'
