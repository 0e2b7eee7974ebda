#!/usr/bin/env bash
# CPU of the eBPF reader thread and of the whole agent per exec, while the agent jar observes a host exec storm.
# As root, from the repository root:  scripts/bench/reader-cpu.sh JAR [JAR...]   (e.g. two builds, alternated)
# Prints per jar: the storm's result, the reader thread's and the process's CPU ticks (10 ms each) over the storm.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 JAR [JAR...]" >&2; exit 2; }
work=$(mktemp -d /tmp/drift-reader-cpu.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -O2 -static -o "$work/storm" agent/src/test/storm/storm.c
gcc -O2 -static -nostdlib -o "$work/noop" agent/src/test/storm/noop.c
printf 'apiVersion: drift.agent/v1\nkind: DriftPolicy\nrules: []\ndefaultRule:\n  action: ignore\n' > "$work/policy.yaml"
port=${PORT:-19744}
execs=${EXECS:-60000}
for jar in "$@"; do
  java -XX:+UseSerialGC -Xmx48m -jar "$jar" run --standalone --alerts "$work/alerts.jsonl" --http-port "$port" \
      --policy "$work/policy.yaml" --source ebpf > "$work/agent.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do curl -sf "localhost:$port/readyz" > /dev/null && break; sleep 0.5; done
  sleep 3
  task=$(dirname "$(grep -l ebpf-exec-read /proc/$pid/task/*/comm | head -1)")
  r0=$(awk '{print $14+$15}' "$task/stat"); p0=$(awk '{print $14+$15}' /proc/$pid/stat)
  out=$("$work/storm" "$work/noop" "$execs" 2)
  sleep 1
  r1=$(awk '{print $14+$15}' "$task/stat"); p1=$(awk '{print $14+$15}' /proc/$pid/stat)
  echo "$jar $out reader_ticks=$((r1 - r0)) process_ticks=$((p1 - p0))"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
