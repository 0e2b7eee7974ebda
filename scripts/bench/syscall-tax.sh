#!/bin/sh
# The agent's tax on every process's system calls (docs/benchmarks.md, "System call tax"). The eBPF source attaches
# system call tracepoints (sys_enter_mmap for library drift; sys_exit_openat and its siblings for write tracking),
# and while any is attached every system call of the node takes the kernel's tracepoint path, whatever the programs
# then filter. Times a host loop (scripts/bench/syscall-tax.c: getppid, open+close, mmap+munmap) with the agent jar
# running (standalone, eBPF, the chart's JVM flags) and not, alternated, and prints each round and the medians.
#   scripts/bench/syscall-tax.sh [rounds] [iterations]      (root; build first: mvn -o -q package -DskipTests)
set -eu
rounds=${1:-5}
iterations=${2:-2000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
jar=$root/agent/target/drift-agent.jar
port=19749
work=$(mktemp -d /tmp/syscall-tax.XXXXXX)
agent=
trap 'test -n "$agent" && kill "$agent" 2>/dev/null; rm -rf "$work"' EXIT
test -f "$jar" || { echo "no $jar: mvn -o -q package -DskipTests" >&2; exit 2; }
cc -O2 -o "$work/syscall-tax" "$root/scripts/bench/syscall-tax.c"
printf 'apiVersion: drift.agent/v1\nkind: DriftPolicy\nrules: []\ndefaultRule:\n  action: alert\n' > "$work/policy.yaml"
flags=$(sed -n '/^jvmOptions: >-/,/^$/p' "$root/deploy/helm/drift-agent/values.yaml" | tail -n +2 | tr -s ' \n' ' ')

start_agent() {
    DRIFT_STANDALONE=true DRIFT_SOURCE=ebpf DRIFT_POLICY_FILE=$work/policy.yaml DRIFT_ALERTS_TARGET=$work/alerts.jsonl \
        DRIFT_HTTP_BIND=127.0.0.1 DRIFT_HTTP_PORT=$port java $flags -jar "$jar" run > "$work/agent.log" 2>&1 &
    agent=$!
    i=0
    until curl -sf "http://127.0.0.1:$port/readyz" > /dev/null; do
        i=$((i + 1))
        if [ $i -gt 600 ] || ! kill -0 "$agent" 2>/dev/null; then
            echo "the agent did not become Ready:" >&2; tail -20 "$work/agent.log" >&2; exit 1
        fi
        sleep 0.1
    done
    grep -o 'library drift detection [a-z]*\|write tracking [a-z]*' "$work/agent.log" | sort -u | tr '\n' ' ' >&2 || true
}

stop_agent() {
    kill "$agent"; wait "$agent" 2>/dev/null || true; agent=
}

for r in $(seq "$rounds"); do
    off=$("$work/syscall-tax" "$iterations")
    start_agent
    sleep 2
    on=$("$work/syscall-tax" "$iterations")
    stop_agent
    echo "round $r off: $off"
    echo "round $r on:  $on"
done | tee "$work/rounds.txt"
awk -f "$root/scripts/bench/syscall-medians.awk" "$work/rounds.txt"
