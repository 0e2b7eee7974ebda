#!/bin/bash
# The eBPF observer's cost per container exec by its parts, as the agent runs it: the kernel programs' own time
# (observer-prog-cost.sh: bpf_stats of exec_btf and origin_exec in a storm in its own pid and mount namespaces) and
# the reading JVM's CPU above the idle harness (the storm harness's ebpf-observe-provenance mode: write tracking and
# the process tree, under the chart's JVM options from deploy/helm/drift-agent/values.yaml), over the storm's own CPU
# per exec with no observer. Also prints the harness's paired CPU cost (95 % interval). Run with nothing else running.
# As root, from the repository root, after `mvn -o -q -pl agent -am test-compile` and the storm classpath
# (docs/benchmarks.md, "The machine and the method"):
#   scripts/bench/observer-by-parts.sh [classes dir=agent/target/classes] [rounds=12] [execs per round=20000] \
#       [mode=ebpf-observe-agent]
# mode ebpf-observe-agent is the agent's default: known image execs kept in the kernel until their process forks
# (fork_btf, counted per exec: its runs over exec_btf's); ebpf-observe-provenance sends every exec, as before keeping.
set -eu
classes=$(realpath "${1:-agent/target/classes}")
rounds=${2:-12}
execs=${3:-20000}
mode=${4:-ebpf-observe-agent}
root=$(realpath "$(dirname "$0")/../..")
jvm=$(awk '/^jvmOptions: >-/{f=1; next} f && /^  /{printf "%s ", $0; next} f{exit}' \
    "$root/deploy/helm/drift-agent/values.yaml")
[ -n "$jvm" ] || { echo "no jvmOptions in the chart's values.yaml" >&2; exit 1; }
progs=$("$root/scripts/bench/observer-prog-cost.sh" "$classes" 30000 "$mode")
harness=$(cd "$root/agent" && java $jvm -Dstorm.modes="$mode" -Dstorm.ownNamespaces=true \
    -cp "target/test-classes:$classes:$(cat target/test-classpath.txt)" \
    io.driftagent.agent.storm.ExecStormBenchmark "$rounds" "$execs" 2>/dev/null | sed -n '/^mode /,$p')
python3 - "$progs" "$harness" "$jvm" "$mode" <<'PY'
import re, sys
progs, harness, jvm, mode = sys.argv[1:5]
ns, runs = {}, {}
for n, v, r in re.findall(r"(\w+) (\d+) ns per run \((\d+) runs\)", progs):
    ns[n], runs[n] = int(v), int(r)
# fork_btf runs once per fork: its cost per exec is its time over exec_btf's runs
fork_us = ns.get("fork_btf", 0) * runs.get("fork_btf", 0) / runs["exec_btf"] / 1000 if "exec_btf" in runs else 0.0
rows = {}
for line in harness.splitlines()[1:]:
    f = line.split()
    if len(f) >= 17:
        rows[f[0]] = f
idle, obs = rows["no-agent"], rows[mode]
storm_us = float(idle[13])
jvm_us = float(obs[12]) - float(idle[12])
reader_us = float(obs[16])
parts = ns["exec_btf"] / 1000 + ns["origin_exec"] / 1000 + fork_us + jvm_us
print("JVM options (the chart's): " + jvm.strip() + "; mode " + mode)
print("exec_btf %.2f us + origin_exec %.2f us + fork_btf %.2f us per exec + the reading JVM %.2f us above idle (its "
      "reader thread %.2f us) = %.2f us per exec over %.1f us of storm CPU per exec with no observer: %.2f %%"
      % (ns["exec_btf"] / 1000, ns["origin_exec"] / 1000, fork_us, jvm_us, reader_us, parts, storm_us,
         100 * parts / storm_us))
print("the harness's paired CPU cost over %s rounds: %s %% (95 %% interval %s), throughput cost %s %% (%s), "
      "delivered %s, lost %s" % (obs[1], obs[14], obs[15], obs[8], obs[9], obs[10], obs[11]))
PY
