#!/bin/bash
# The observer's kernel programs' own cost per exec in a container-like storm: the storm harness's
# ebpf-observe-provenance mode (exec, library and write programs attached, in a pid and mount namespace of its own)
# with bpf_stats on, `bpftool prog show` sampled while it runs; prints run_time_ns / run_cnt of exec_btf and
# origin_exec (one run each per exec; every exec of the machine meanwhile: run it with nothing else running). A/B: give another classes directory (e.g. a copy of agent/target/classes with
# another build's bpf/exec.bpf.o) and alternate.
# As root, from the repository root, after `mvn -o -q -pl agent -am test-compile` and the storm classpath
# (docs/benchmarks.md, "The machine and the method"):
#   scripts/bench/observer-prog-cost.sh [classes dir=agent/target/classes] [execs=30000] [mode=ebpf-observe-provenance]
# (mode ebpf-observe-agent: the agent's image-exec keeping on, whose fork_btf runs once per fork)
set -eu
classes=$(realpath "${1:-agent/target/classes}")
execs=${2:-30000}
mode=${3:-ebpf-observe-provenance}
cd "$(dirname "$0")/../../agent"
[ -f target/test-classpath.txt ] || { echo "run the storm classpath step first (docs/benchmarks.md)" >&2; exit 2; }
samples=$(mktemp -d)
trap 'sysctl -q kernel.bpf_stats_enabled=0; rm -rf "$samples"' EXIT
sysctl -q kernel.bpf_stats_enabled=1
bpftool prog show -j > "$samples/before" 2>/dev/null || echo '[]' > "$samples/before"
java -Dstorm.modes="$mode" -Dstorm.ownNamespaces=true \
    -cp "target/test-classes:$classes:$(cat target/test-classpath.txt)" \
    io.driftagent.agent.storm.ExecStormBenchmark 1 "$execs" > "$samples/storm.log" 2>&1 &
storm=$!
i=0
while kill -0 "$storm" 2>/dev/null; do
    i=$((i + 1)); bpftool prog show -j > "$samples/$i.json" 2>/dev/null || true; sleep 0.3
done
wait "$storm" || { tail -20 "$samples/storm.log" >&2; exit 1; }
python3 - "$samples" <<'PY'
import glob, json, sys
# only programs loaded after the storm began: other agents on the machine have their own exec_btf (run it alone)
before = {p["id"] for p in json.load(open(sys.argv[1] + "/before"))}
best = {}
for f in glob.glob(sys.argv[1] + "/*.json"):
    try:
        progs = json.load(open(f))
    except ValueError:
        continue
    for p in progs:
        if p.get("name") in ("exec_btf", "origin_exec", "fork_btf") and p["id"] not in before:
            k = (p["id"], p["name"])
            if p.get("run_cnt", 0) > best.get(k, {}).get("run_cnt", -1):
                best[k] = p
print("; ".join("%s %d ns per run (%d runs)" % (n, p["run_time_ns"] / p["run_cnt"], p["run_cnt"])
                for (i, n), p in sorted(best.items()) if p.get("run_cnt", 0) > 1000))
PY
