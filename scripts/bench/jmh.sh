#!/usr/bin/env bash
# Every JMH benchmark of the project through its one runner: builds bench/target/drift-bench.jar (the bench module
# and the modules it measures) and runs `java -jar bench/target/drift-bench.jar [regex] [JMH options]`.
#
# usage: scripts/bench/jmh.sh [regex] [JMH options]
#   scripts/bench/jmh.sh -l                                   # list the benchmarks
#   scripts/bench/jmh.sh EvaluateBenchmark -prof gc           # one benchmark, its own warm-up/measurement settings
#   scripts/bench/jmh.sh 'pipeline.bench' -wi 1 -i 1 -r 1s -w 1s
# No regex runs every benchmark. DRIFT_BENCH_SKIP_MAVEN=1 reuses the jar as built; DRIFT_BENCH_MAVEN_ARGS adds Maven
# options (e.g. -o to stay offline).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
jar=$root/bench/target/drift-bench.jar
if [[ ${DRIFT_BENCH_SKIP_MAVEN:-0} != 1 ]]; then
  # shellcheck disable=SC2086 # DRIFT_BENCH_MAVEN_ARGS is a list of options
  (cd "$root" && mvn -B -ntp -q ${DRIFT_BENCH_MAVEN_ARGS:-} -pl bench -am package -DskipTests)
fi
[[ -f $jar ]] || { echo "jmh.sh: $jar is missing (build it: mvn -B -ntp -pl bench -am package -DskipTests)" >&2; exit 1; }
exec java -jar "$jar" "$@"
