#!/usr/bin/env bash
# The agent image's start-up and idle footprint, run as the chart runs it (host pids, the chart's capabilities and
# JAVA_TOOL_OPTIONS from deploy/helm/drift-agent/values.yaml, a read-only root), standalone with the eBPF source:
# seconds from `docker run` to /readyz answering 200, then after --settle seconds idle the java process's VmRSS
# (VmHWM, RssAnon, RssFile), its threads, and its CPU over --idle seconds (utime+stime from /proc/PID/stat).
#
# usage (root): scripts/bench/image-footprint.sh [--image drift-agent:dev] [--idle 60] [--settle 20] [--nmt]
#               [--jvm "extra JVM flags, appended to the chart's"] [--values FILE (another values.yaml)] [--runs N]
#               [--smaps] [--threads] [--profile] [--env NAME=VALUE (repeatable)]
# --nmt adds -XX:NativeMemoryTracking=summary and prints the JVM's native memory summary as it exits (docker stop).
# --smaps also prints the largest mappings by resident size (Rss and Size, KiB). --threads also prints each thread's
# CPU over the idle window (ms, from /proc/PID/task/*/schedstat): what is periodic work and what is the host's execs.
# --profile runs the JVM with -XX:NativeMemoryTracking=detail and prints, after the idle window, its resident memory by
# what each mapping holds and the container's memory cgroup (scripts/bench/rss-profile.py; NMT's bookkeeping adds to
# malloc: take VmRSS from runs without it). --env sets an environment variable in the container (e.g. MALLOC_*).
# Each line also gives the CPU the start took until Ready (user+sys, the work behind "start to Ready" on a loaded
# machine) and the execs the source delivered during the idle window (every exec on the host reaches the agent).
# Prints one line per run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
image=drift-agent:dev idle=60 settle=20 nmt=0 smaps=0 threads=0 profile=0 extra="" runs=1 envs=() values=$root/deploy/helm/drift-agent/values.yaml
while (($#)); do
  case $1 in
    --image) image=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    --nmt) nmt=1; shift ;;
    --smaps) smaps=1; shift ;;
    --threads) threads=1; shift ;;
    --profile) profile=1; shift ;;
    --env) envs+=(-e "$2"); shift 2 ;;
    --jvm) extra=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --values) values=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $EUID -eq 0 ]] || { echo "image-footprint: must run as root" >&2; exit 2; }
chart_jvm=$(awk '/^jvmOptions: >-/ {on = 1; next} on && /^  / {sub(/^ +/, ""); printf "%s ", $0; next} {on = 0}' \
  "$values")
jvm="$chart_jvm $extra"
((nmt)) && jvm="$jvm -XX:NativeMemoryTracking=summary -XX:+UnlockDiagnosticVMOptions -XX:+PrintNMTStatistics"
((profile)) && ! ((nmt)) && jvm="$jvm -XX:NativeMemoryTracking=detail"
port=$((19700 + $$ % 250))
container=drift-agent-footprint-$$
trap 'docker rm -f "$container" >/dev/null 2>&1 || true' EXIT
ticks=$(getconf CLK_TCK)
for ((r = 1; r <= runs; r++)); do
  t0=$(date +%s%N)
  docker run -d --name "$container" --network host --pid=host --read-only \
    --cap-drop ALL --cap-add SYS_ADMIN --cap-add SYS_PTRACE --cap-add DAC_READ_SEARCH \
    --security-opt no-new-privileges --security-opt seccomp=unconfined \
    --tmpfs /tmp:rw,noexec,nosuid,size=16m -e JAVA_TOOL_OPTIONS="$jvm" ${envs[@]+"${envs[@]}"} \
    "$image" run --standalone --source ebpf --http-port $port >/dev/null
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do
    [[ $(docker inspect -f '{{.State.Running}}' "$container") == true ]] || { docker logs "$container" >&2; exit 1; }
    (( ($(date +%s%N) - t0) < 120000000000 )) || { echo "not ready in 120 s" >&2; exit 1; }
    sleep 0.05
  done
  t1=$(date +%s%N)
  pid=$(docker inspect -f '{{.State.Pid}}' "$container")
  ready_cpu=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep "$settle"
  delivered() { curl -s "http://127.0.0.1:$port/metrics" | awk '/^drift_source_delivered_total/ {n += $2} END {printf "%d", n}'; }
  per_thread() { for t in /proc/"$pid"/task/*; do echo "$(basename "$t") $(cut -d' ' -f1 "$t/schedstat") $(tr ' ' '_' < "$t/comm")"; done | sort; }
  ((threads)) && per_thread > "/tmp/image-footprint-$$.t0"
  e0=$(delivered)
  c0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); s0=$(date +%s%N)
  sleep "$idle"
  c1=$(awk '{print $14 + $15}' "/proc/$pid/stat"); s1=$(date +%s%N)
  e1=$(delivered)
  st() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }
  printf 'run %d: ready %.2f s (CPU to Ready %d ms); idle: VmRSS %.1f MiB (VmHWM %.1f, RssAnon %.1f, RssFile %.1f), %d threads, CPU %.3f %% of a core over %d s (%d execs delivered); load %s\n' \
    "$r" "$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$((ready_cpu * 1000 / ticks))" "$(echo "$(st VmRSS) / 1024" | bc -l)" \
    "$(echo "$(st VmHWM) / 1024" | bc -l)" "$(echo "$(st RssAnon) / 1024" | bc -l)" \
    "$(echo "$(st RssFile) / 1024" | bc -l)" "$(st Threads)" \
    "$(echo "($c1 - $c0) * 100 * 1000000000 / $ticks / ($s1 - $s0)" | bc -l)" "$idle" "$((e1 - e0))" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
  if ((threads)); then
    per_thread | join "/tmp/image-footprint-$$.t0" - | awk '{d = $4 - $2; if (d > 0) printf "  %9.1f ms %s\n", d / 1e6, $3}' \
      | sort -rn | head -12
    rm -f "/tmp/image-footprint-$$.t0"
  fi
  if ((smaps)); then
    awk '/^[0-9a-f]+-[0-9a-f]+ / {name = $6; if (name == "") name = "[anon]"} /^Rss:/ {rss[name] += $2}
         /^Size:/ {size[name] += $2} END {for (n in rss) if (rss[n] >= 256) printf "  %8d %8d %s\n", rss[n], size[n], n}' \
      "/proc/$pid/smaps" | sort -rn | head -12
  fi
  ((profile)) && "$root/scripts/bench/rss-profile.py" "$pid" | sed 's/^/  /'
  if ((nmt)); then
    docker stop -t 30 "$container" >/dev/null
    docker logs "$container" 2>&1 | grep -E '^Total|^-  ' || true
  fi
  docker rm -f "$container" >/dev/null
done
