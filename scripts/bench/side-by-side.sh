#!/usr/bin/env bash
# Side by side, one command: the exec-storm cost, lost events, exec-to-alert p50/p99, CPU and RSS of drift-agent
# (eBPF observe, fanotify observe, fanotify block: allow-all / remembered image binaries) against no watcher, auditd
# with an execve rule and bpftrace with an exec tracepoint, printed as one table (docs/benchmarks.md).
#
# usage (root, repository root): scripts/bench/side-by-side.sh [--rounds N] [--execs N] [--modes a,b] [--json FILE]
# Installs auditd and bpftrace with apt when missing, builds the agent jar when missing (Maven, offline), mounts
# tracefs for bpftrace when it is not mounted; every watcher is started and stopped by the benchmark itself
# (scripts/bench/side_by_side.py, its --help says what each mode is). Afterwards the audit settings (enabled flag,
# backlog limit, the rule) and tracefs are as they were; the packages stay installed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
[[ $EUID -eq 0 ]] || { echo "side-by-side: must run as root" >&2; exit 2; }

missing=()
command -v auditctl >/dev/null || missing+=(auditd)
command -v bpftrace >/dev/null || missing+=(bpftrace)
if ((${#missing[@]})); then
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
if [[ ! -s agent/target/drift-agent.jar ]]; then
  mvn -B -ntp -o -q -pl agent -am package -DskipTests >&2
fi

audit_value() { auditctl -s | awk -v k="$1" '$1 == k { print $2 }'; }
audit_enabled=$(audit_value enabled)
audit_backlog=$(audit_value backlog_limit)
mounted_tracefs=0
if [[ ! -d /sys/kernel/tracing/events ]]; then
  mount -t tracefs tracefs /sys/kernel/tracing
  mounted_tracefs=1
fi
restore() {
  auditctl -d always,exit -F arch=b64 -S execve -k drift_sbs >/dev/null 2>&1 || true
  # auditctl -e 2 (locked) cannot be undone; any other state is put back
  [[ $audit_enabled == 2 ]] || auditctl -e "$audit_enabled" >/dev/null 2>&1 || true
  auditctl -b "$audit_backlog" >/dev/null 2>&1 || true
  if ((mounted_tracefs)); then umount /sys/kernel/tracing || true; fi
}
trap restore EXIT
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); uptime:$(uptime | sed 's/.*up/ up/')" >&2
python3 scripts/bench/side_by_side.py "$@"
