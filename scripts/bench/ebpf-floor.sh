#!/usr/bin/env bash
# The floor of eBPF observing on this machine: the exec storm with no agent and with the agent's own BPF program
# drained by ebpf-floor-reader.c (a minimal C reader on a fixed clock), alternated round by round, from the image layer
# of an overlay on a tmpfs of its own, as the Java harness storms. Needs the built program (mvn -o -pl agent -am compile).
# As root, from the repository root:  scripts/bench/ebpf-floor.sh [rounds=20] [clock ms=20] [reader state=2] [execs=20000]
set -euo pipefail
rounds=${1:-20}; clock=${2:-20}; state=${3:-2}; execs=${4:-20000}
obj=agent/target/classes/bpf/exec.bpf.o
[ -f "$obj" ] || { echo "build the agent first: $obj missing" >&2; exit 1; }
work=$(mktemp -d /tmp/drift-ebpf-floor.XXXXXX)
mount -t tmpfs -o size=16m drift-ebpf-floor "$work"
mkdir "$work/lower" "$work/upper" "$work/work" "$work/root" "$work/bin"
reader_pid=
cleanup() {
  [ -n "$reader_pid" ] && kill "$reader_pid" 2>/dev/null
  umount "$work/root" 2>/dev/null || true
  umount "$work"; rmdir "$work"
}
trap cleanup EXIT
gcc -O2 -static -o "$work/lower/storm" agent/src/test/storm/storm.c
gcc -O2 -static -nostdlib -o "$work/lower/noop" agent/src/test/storm/noop.c
gcc -O2 -o "$work/bin/reader" scripts/bench/ebpf-floor-reader.c -lbpf
mount -t overlay drift-ebpf-floor-root -o "lowerdir=$work/lower,upperdir=$work/upper,workdir=$work/work" "$work/root"
storm_ns() { "$work/root/storm" "$work/root/noop" "$execs" 2 | sed 's/.* ns=\([0-9]*\).*/\1/'; }
for i in $(seq "$rounds"); do
  if (( i % 2 )); then sleep 0.5; none=$(storm_ns); fi
  "$work/bin/reader" "$obj" "$clock" "$state" 2>/dev/null & reader_pid=$!
  sleep 0.5
  observed=$(storm_ns)
  kill "$reader_pid"; wait "$reader_pid" 2>/dev/null || true; reader_pid=
  if (( i % 2 == 0 )); then sleep 0.5; none=$(storm_ns); fi
  echo "$none $observed"
done | python3 -c '
import statistics, sys
rounds = [tuple(map(float, l.split())) for l in sys.stdin]
ratios = sorted(n / o for n, o in rounds)
print("rounds %d, clock '"$clock"' ms, reader state '"$state"': median ratio %.4f (cost %.2f %%), p25 %.4f, p75 %.4f" % (
      len(rounds), statistics.median(ratios), (1 - statistics.median(ratios)) * 100,
      ratios[len(ratios) // 4], ratios[3 * len(ratios) // 4]))'
