#!/usr/bin/env python3
"""Side by side: the cost of watching execs on this node, drift-agent against the ways people already do it.

Run through scripts/bench/side-by-side.sh (which installs auditd and bpftrace and restores the machine); as root, from
the repository root, after `mvn -q -o -pl agent -am package -DskipTests`:

    scripts/bench/side_by_side.py [--rounds 5] [--execs 20000] [--modes none,ebpf-observe,...] [--json FILE]

One containerd container (namespace drift-sbs, a one-layer image: busybox-static, the storm driver, a static no-libc
`noop`) holds every storm. A round runs every mode once, the order rotating from round to round; a mode starts its
watcher, waits until it is ready, runs a warm-up storm, then the timed storm, and stops the watcher. The timed storm:
the driver fork+execs `noop` --execs times from 2 workers as fast as the machine allows (the image's /usr/bin/noop,
or in `fanotify-block-allow-all` a copy dropped into /tmp, so that every exec must be asked), while a probe in the
same container execs a dropped copy (/tmp/dropped: ADDED drift) every 5 ms, 200 times: the drift-agent modes alert on
those, and the pipeline's exec-to-alert histogram gives p50/p99 (interpolated inside its buckets).

The cost of a mode is the median over rounds of 1 - (its execs/s / the same round's no-agent execs/s, same target):
ratios within one run, so the machine's load cancels. The watcher's CPU is utime+stime of its processes (auditd with
the kernel's kauditd thread) over storm and drain, per storm exec and as % of a core; memory is its VmRSS (VmHWM)
at the end of the storm. Lost: the tool's own loss counter over the storm (drift-agent: source lost + pipeline
dropped + guard answers by default; auditd: `auditctl -s` lost; bpftrace: its "Lost N events" lines), and for the
two that print every exec, the storm's execs it never printed.

Modes:
  none                          no watcher (target /usr/bin/noop); none-dropped: the same with /tmp/dropped
  ebpf-observe                  drift-agent, --source ebpf, a policy alerting on every drift kind
  fanotify-observe              drift-agent, --source fanotify, the same policy
  fanotify-block-allow-all      drift-agent, --source fanotify, a block rule (scoped, like the next mode's, to the
                                benchmark's container: other containers on the node are never guarded, their drift
                                never denied) on every drift kind whose allow list
                                holds /tmp/* (where the storm's and the probe's binaries are; an allow list that also
                                holds "/" would leave the container unguarded, nothing in it being blockable): every
                                exec of the dropped storm binary is asked and allowed
  fanotify-block-remembered     drift-agent, --source fanotify, a block rule on every drift kind: the image's
                                binary is allowed once and then remembered by the kernel; the probe's execs are denied
  auditd                        auditd (Debian's auditd.conf, its log in a temp dir) with
                                `auditctl -a always,exit -F arch=b64 -S execve -k drift_sbs`, backlog 8192
  bpftrace                      bpftrace printing pid and comm at tracepoint:sched:sched_process_exec to a file

drift-agent runs as `java <the image's JVM flags> -jar agent/target/drift-agent.jar run --standalone`, the flags read
from the Dockerfile (the ENTRYPOINT's -X flags, ENV JAVA_TOOL_OPTIONS and MALLOC_ARENA_MAX), on the host's JDK 17:
the jar rather than the image, for speed; the image's own JRE is a jlink'd subset of the same JDK. The image's class
data sharing archive is made again for the host's JDK the way the Dockerfile makes it (a training start, then a
static dump), once per run before the rounds.
"""
import argparse
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
_spec = importlib.util.spec_from_file_location("agent_storm", os.path.join(HERE, "agent-storm.py"))
storm_lib = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(storm_lib)
sh, quiet, samples, total = storm_lib.sh, storm_lib.quiet, storm_lib.samples, storm_lib.total

NS = "drift-sbs"
IMAGE = storm_lib.IMAGE
CONTAINER = "drift-sbs-storm"  # block rules are scoped to it: the node's other containers are never guarded
CLK_TCK = os.sysconf("SC_CLK_TCK")
PROBE_EXECS, PROBE_INTERVAL_US = 200, 5000
AUDIT_KEY = "drift_sbs"

OBSERVE_POLICY = storm_lib.POLICY
ALLOW_ALL_POLICY = """apiVersion: drift.agent/v1
kind: DriftPolicy
rules:
  - name: block-but-allow-the-storm
    priority: 10
    action: block
    resourceScope:
      - field: containerName
        operator: equals
        values: [drift-sbs-storm]
    driftKinds: [ADDED, MODIFIED, MOUNT, FILELESS, UNRESOLVED]
    allowList: ["glob:/tmp/*"]
defaultRule:
  action: ignore
"""
BLOCK_POLICY = """apiVersion: drift.agent/v1
kind: DriftPolicy
rules:
  - name: block-drift
    priority: 10
    action: block
    resourceScope:
      - field: containerName
        operator: equals
        values: [drift-sbs-storm]
    driftKinds: [ADDED, MODIFIED, MOUNT, FILELESS, UNRESOLVED]
defaultRule:
  action: ignore
"""

ALL_MODES = ["none", "none-dropped", "ebpf-observe", "fanotify-observe", "fanotify-block-allow-all",
             "fanotify-block-remembered", "auditd", "bpftrace"]
AGENT_MODES = {  # mode: (source, policy, storm target)
    "ebpf-observe": ("ebpf", OBSERVE_POLICY, "/usr/bin/noop"),
    "fanotify-observe": ("fanotify", OBSERVE_POLICY, "/usr/bin/noop"),
    "fanotify-block-allow-all": ("fanotify", ALLOW_ALL_POLICY, "/tmp/dropped"),
    "fanotify-block-remembered": ("fanotify", BLOCK_POLICY, "/usr/bin/noop"),
}


def target_of(mode):
    if mode in AGENT_MODES:
        return AGENT_MODES[mode][2]
    return "/tmp/dropped" if mode == "none-dropped" else "/usr/bin/noop"


def baseline_of(mode):
    return "none-dropped" if target_of(mode) == "/tmp/dropped" else "none"


def image_jvm_flags():
    """The image's JVM flags: the ENTRYPOINT's -X options and ENV JAVA_TOOL_OPTIONS, as the Dockerfile has them."""
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        text = f.read()
    tool = re.search(r'^ENV JAVA_TOOL_OPTIONS="([^"]*)"', text, re.M)
    entry = re.search(r'^ENTRYPOINT \[(.*?)\]', text, re.M | re.S)
    flags = []
    for name, value in re.findall(r'^ENV (MALLOC_ARENA_MAX)=(\S+)', text, re.M):
        os.environ[name] = value  # inherited by the agent processes this script starts
    if entry:
        flags += [a for a in re.findall(r'"([^"]*)"', entry.group(1)) if a.startswith("-X")]
    if tool:
        flags += tool.group(1).split()
    return " ".join(flags)


def host_cds_archive(jar, flags, work, port):
    """The image's class data sharing archive made the same way for the host's JDK and this jar (the image's own
    archive matches only the image's JRE): the classes a start loads (here: a start to Ready, stopped there), dumped
    as a static archive. Returns the flags with the image's archive path replaced by it (dropped if making it fails)."""
    m = re.search(r"-XX:SharedArchiveFile=(\S+)", flags)
    if not m:
        return flags
    classlist, archive = os.path.join(work, "agent.classlist"), os.path.join(work, "agent.jsa")
    training = [a for a in flags.split() if not a.startswith("-XX:SharedArchiveFile=")]
    saved = storm_lib.POLICY
    agent = None
    try:
        agent = storm_lib.Agent(jar, " ".join(training + ["-Xshare:off", f"-XX:DumpLoadedClassList={classlist}"]),
                                port, tempfile.mkdtemp(prefix="cds-", dir=work), "auto")
        agent.await_ready()
        time.sleep(2)
    finally:
        if agent:
            agent.stop()
        storm_lib.POLICY = saved
    r = subprocess.run(["java", "-Xshare:dump", f"-XX:SharedClassListFile={classlist}",
                        f"-XX:SharedArchiveFile={archive}", "-cp", jar], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, env={k: v for k, v in os.environ.items()
                                                                 if k != "JAVA_TOOL_OPTIONS"})
    if r.returncode != 0 or not os.path.exists(archive):
        print(f"class data sharing archive not made, running without: {r.stdout[-2000:]}", file=sys.stderr)
        return " ".join(training)
    return flags.replace(m.group(0), f"-XX:SharedArchiveFile={archive}")


def proc_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def proc_memory(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
    return out


def wait_quiet(size_fn, settle=1.0, limit=60):
    """Waits until size_fn() has not changed for `settle` seconds (a watcher draining its backlog)."""
    deadline = time.monotonic() + limit
    last, since = size_fn(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = size_fn()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= settle:
            return
    return


# ---------------------------------------------------------------- watchers

class NoWatcher:
    pids = ()

    def start(self):
        pass

    def before(self):
        pass

    def after(self, expected):
        return {}

    def stop(self):
        pass


class AgentWatcher:
    def __init__(self, jar, flags, port, work, mode):
        self.jar, self.flags, self.port, self.work, self.mode = jar, flags, port, work, mode
        self.agent = None

    def start(self):
        source, policy, _ = AGENT_MODES[self.mode]
        work = tempfile.mkdtemp(prefix=f"agent-{self.mode}-", dir=self.work)
        saved = storm_lib.POLICY
        storm_lib.POLICY = policy  # the harness's Agent writes this policy
        try:
            t0 = time.monotonic()
            self.agent = storm_lib.Agent(self.jar, self.flags, self.port, work, source)
            self.agent.await_ready()
            self.ready_s = time.monotonic() - t0
        finally:
            storm_lib.POLICY = saved
        self.pids = (self.agent.pid,)

    def before(self):
        self.m0 = self.agent.metrics()

    def after(self, expected):
        # drain: every probe exec timed, or nothing moved for a second
        before = self.m0
        wait_quiet(lambda: total(self.agent.metrics(), "drift_exec_to_alert_latency_seconds_count")
                   + total(self.agent.metrics(), "drift_source_delivered_total"))
        m1 = self.agent.metrics()
        lost = 0.0
        for name in ("drift_source_lost_total", "drift_pipeline_dropped_total", "drift_guard_defaulted_total"):
            lost += total(m1, name) - total(before, name)
        lat = storm_lib.latency(before, m1)
        return {"lost": int(lost), "ready_s": self.ready_s,
                "alerts_timed": lat["count"], "p50_ms": lat["p50_ms"] if lat["count"] else None,
                "p99_ms": lat["p99_ms"] if lat["count"] else None,
                "delivered": int(total(m1, "drift_source_delivered_total") - total(before, "drift_source_delivered_total")),
                "guard_asked": int(total(m1, "drift_guard_permission_events_total")
                                   - total(before, "drift_guard_permission_events_total")),
                "guard_remembered": int(total(m1, "drift_guard_remembered_total")
                                        - total(before, "drift_guard_remembered_total"))}

    def stop(self):
        if self.agent:
            self.agent.stop()
            self.agent = None


class AuditdWatcher:
    RULE = ["-a", "always,exit", "-F", "arch=b64", "-S", "execve", "-k", AUDIT_KEY]

    def __init__(self, work):
        self.work = work
        self.proc = None

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="auditd-", dir=self.work)
        os.chmod(self.dir, 0o750)
        self.log = os.path.join(self.dir, "audit.log")
        with open("/etc/audit/auditd.conf") as f:
            conf = f.read()
        conf = re.sub(r"^log_file = .*$", f"log_file = {self.log}", conf, flags=re.M)
        conf = re.sub(r"^max_log_file_action = .*$", "max_log_file_action = IGNORE", conf, flags=re.M)
        conf_path = os.path.join(self.dir, "auditd.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        os.chmod(conf_path, 0o640)
        # -n: stay in the foreground (our child, our pid); -c: this config directory
        self.proc = subprocess.Popen(["auditd", "-n", "-c", self.dir], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "auditd.err"), "w"))
        for _ in range(100):
            st = audit_status()
            if st.get("pid") == self.proc.pid:
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"auditd exited {self.proc.returncode}: "
                                   f"{open(os.path.join(self.dir, 'auditd.err')).read()}")
            time.sleep(0.1)
        else:
            raise RuntimeError("auditd did not register with the kernel")
        sh("auditctl", "-b", "8192")
        sh("auditctl", *self.RULE)
        sh("auditctl", "-e", "1")
        kaudit = subprocess.run(["pgrep", "-x", "kauditd"], stdout=subprocess.PIPE, text=True).stdout.split()
        self.pids = (self.proc.pid,) + tuple(int(p) for p in kaudit[:1])

    def size(self):
        try:
            return os.path.getsize(self.log)
        except FileNotFoundError:
            return 0

    def before(self):
        self.lost0 = audit_status().get("lost", 0)
        self.offset = self.size()

    def after(self, expected):
        wait_quiet(self.size)
        seen = 0
        with open(self.log, "rb") as f:
            f.seek(self.offset)
            for line in f:
                if line.startswith(b"type=SYSCALL") and f'key="{AUDIT_KEY}"'.encode() in line and \
                        (b'exe="/usr/bin/noop"' in line or b'exe="/tmp/dropped"' in line):
                    seen += 1
        return {"lost": audit_status().get("lost", 0) - self.lost0, "missing": max(0, expected - seen)}

    def stop(self):
        quiet("auditctl", "-d", *self.RULE[1:])
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


class BpftraceWatcher:
    SCRIPT = 'tracepoint:sched:sched_process_exec { printf("%d %s\\n", pid, comm); }'

    def __init__(self, work):
        self.work = work
        self.proc = None

    def start(self):
        self.out = os.path.join(self.work, "bpftrace.out")
        self.f = open(self.out, "w")
        self.proc = subprocess.Popen(["bpftrace", "-B", "line", "-e", self.SCRIPT], stdout=self.f,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bpftrace exited {self.proc.returncode}: {open(self.out).read()}")
            if "Attaching 1 probe" in open(self.out).read():
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("bpftrace did not attach")
        time.sleep(0.5)
        self.pids = (self.proc.pid,)

    def size(self):
        return os.path.getsize(self.out)

    def before(self):
        self.offset = self.size()

    def after(self, expected):
        wait_quiet(self.size)
        seen, lost = 0, 0
        with open(self.out, "rb") as f:
            f.seek(self.offset)
            for line in f:
                if line.endswith(b" noop\n") or line.endswith(b" dropped\n"):
                    seen += 1
                m = re.match(rb"Lost (\d+) events", line)
                if m:
                    lost += int(m.group(1))
        return {"lost": lost, "missing": max(0, expected - seen)}

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.f.close()
        os.unlink(self.out)


def audit_status():
    out = subprocess.run(["auditctl", "-s"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    st = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].lstrip("-").isdigit():
            st[parts[0]] = int(parts[1])
    return st


# ---------------------------------------------------------------- storms

def run_storm(target, execs, probe=True):
    probe_cmd = (f"/usr/bin/storm /tmp/dropped {PROBE_EXECS} 1 {PROBE_INTERVAL_US} > /tmp/probe.out & P=$!; "
                 if probe else "")
    script = probe_cmd + f"/usr/bin/storm {target} {execs} 2" + ("; wait $P; cat /tmp/probe.out" if probe else "")
    r = subprocess.run(["ctr", "-n", NS, "task", "exec", "--exec-id", f"storm-{time.time_ns()}", CONTAINER,
                        "/bin/sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=900)
    runs = re.findall(r"execs=(\d+) failed=(\d+) ns=(\d+)", r.stdout)
    if r.returncode != 0 or len(runs) != (2 if probe else 1):
        raise RuntimeError(f"storm failed ({r.returncode}): {r.stdout}")
    ok, failed, ns = (int(x) for x in runs[0])
    result = {"execs": ok, "failed": failed, "execs_per_s": (ok + failed) * 1e9 / ns}
    if probe:
        pok, pfailed, _ = (int(x) for x in runs[1])
        result.update(probe_ok=pok, probe_failed=pfailed)
    return result


def one(mode, watcher, execs, warmup):
    watcher.start()
    try:
        run_storm(target_of(mode), warmup, probe=False)
        time.sleep(0.5)
        watcher.before()
        pids = watcher.pids
        c0 = sum(proc_ticks(p) for p in pids)
        t0 = time.monotonic()
        st = run_storm(target_of(mode), execs)
        expected = st["execs"] + st["failed"] + st["probe_ok"] + st["probe_failed"]
        extra = watcher.after(expected)
        elapsed = time.monotonic() - t0
        cpu_s = (sum(proc_ticks(p) for p in pids) - c0) / CLK_TCK
        mem = proc_memory(pids[0]) if pids else {}
        return {**st, **extra, "cpu_s": cpu_s, "cpu_pct": 100 * cpu_s / elapsed if pids else None,
                "cpu_us_per_exec": 1e6 * cpu_s / expected if pids else None,
                "rss_mib": mem.get("VmRSS", 0) / 1024 if pids else None,
                "hwm_mib": mem.get("VmHWM", 0) / 1024 if pids else None,
                "threads": mem.get("Threads")}
    finally:
        watcher.stop()


# ---------------------------------------------------------------- main

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def quartiles(values):
    values = sorted(v for v in values if v is not None)
    if len(values) < 4:
        return None
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def fmt(v, spec, dash="–"):
    return dash if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jar", default=os.path.join(ROOT, "agent", "target", "drift-agent.jar"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--execs", type=int, default=20000, help="execs per timed storm")
    ap.add_argument("--warmup", type=int, default=2000, help="execs of the warm-up storm after each watcher start")
    ap.add_argument("--modes", default=",".join(ALL_MODES))
    ap.add_argument("--port", type=int, default=19745)
    ap.add_argument("--jvm-flags", default=None, help="default: the image's, read from the Dockerfile")
    ap.add_argument("--json", help="also write every round's figures as JSON to this file")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (containerd, eBPF, fanotify, audit)")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        if m not in ALL_MODES:
            sys.exit(f"unknown mode {m}; known: {', '.join(ALL_MODES)}")
    for m in list(modes):
        if m != baseline_of(m) and baseline_of(m) not in modes:
            modes.insert(0, baseline_of(m))
    flags = args.jvm_flags if args.jvm_flags is not None else image_jvm_flags()
    work = tempfile.mkdtemp(prefix="drift-sbs-")
    report = {"argv": sys.argv[1:], "jvm_flags": flags, "load_before": open("/proc/loadavg").read().strip(),
              "rounds": []}
    started = time.monotonic()
    try:
        start_storm_container(work)
        flags = host_cds_archive(args.jar, flags, work, args.port)
        report["jvm_flags"] = flags
        for r in range(args.rounds):
            order = modes[r % len(modes):] + modes[:r % len(modes)]
            row = {}
            for mode in order:
                if mode.startswith("none"):
                    watcher = NoWatcher()
                elif mode in AGENT_MODES:
                    watcher = AgentWatcher(args.jar, flags, args.port, work, mode)
                elif mode == "auditd":
                    watcher = AuditdWatcher(work)
                else:
                    watcher = BpftraceWatcher(work)
                try:
                    row[mode] = one(mode, watcher, args.execs, args.warmup)
                except Exception as e:  # a watcher that did not start, a storm that failed: counted, shown, not fatal
                    report.setdefault("failures", []).append({"round": r + 1, "mode": mode, "error": str(e)[-500:]})
                    print(f"round {r + 1}/{args.rounds} {mode}: FAILED {e}", file=sys.stderr, flush=True)
                    continue
                print(f"round {r + 1}/{args.rounds} {mode}: {json.dumps(row[mode])}", file=sys.stderr, flush=True)
            report["rounds"].append(row)
    finally:
        remove_storm_container()
        shutil.rmtree(work, ignore_errors=True)
    report["load_after"] = open("/proc/loadavg").read().strip()
    report["minutes"] = (time.monotonic() - started) / 60
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    print_table(report, modes, args)


def print_table(report, modes, args):
    rounds = report["rounds"]
    print(f"# side by side: {len(rounds)} rounds x {args.execs} execs (2 workers, flat out) + a probe of "
          f"{PROBE_EXECS} drift execs every {PROBE_INTERVAL_US // 1000} ms, one containerd container; "
          f"{report['minutes']:.1f} min")
    print(f"# load: {report['load_before']} -> {report['load_after']}; drift-agent JVM flags: {report['jvm_flags']}"
          f"; MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', 'unset')}")
    print("| watcher | execs/s (median) | cost vs no agent: median (p25–p75) | lost (own counter) / not printed "
          "| exec-to-alert p50 / p99 ms | watcher CPU % of a core (µs/exec) | RSS MiB (peak) |")
    print("|---|---|---|---|---|---|---|")
    for mode in modes:
        runs = [r[mode] for r in rounds if mode in r]
        if not runs:
            print(f"| {mode} | every round failed | | | | | |")
            continue
        rate = median([x["execs_per_s"] for x in runs])
        base = baseline_of(mode)
        ratios = [r[mode]["execs_per_s"] / r[base]["execs_per_s"] for r in rounds if mode in r and base in r]
        if mode == base:
            cost = "– (baseline" + (", dropped binary)" if mode == "none-dropped" else ")")
        else:
            q = quartiles([1 - x for x in ratios])
            cost = f"{100 * (1 - median(ratios)):.1f} %" + (f" ({100 * q[0]:.1f} … {100 * q[1]:.1f})" if q else "")
        lost = sum(x.get("lost", 0) for x in runs) if "lost" in runs[0] else None
        missing = sum(x.get("missing", 0) for x in runs) if "missing" in runs[0] else None
        lost_s = "–" if lost is None else f"{lost}" + ("" if missing is None else f" / {missing}")
        p50, p99 = median([x.get("p50_ms") for x in runs]), median([x.get("p99_ms") for x in runs])
        lat = "–" if p50 is None else f"{p50:.2f} / {p99:.2f}"
        cpu = median([x.get("cpu_pct") for x in runs])
        us = median([x.get("cpu_us_per_exec") for x in runs])
        cpu_s = "–" if cpu is None else f"{cpu:.1f} ({us:.1f})"
        rss, hwm = median([x.get("rss_mib") for x in runs]), median([x.get("hwm_mib") for x in runs])
        rss_s = "–" if rss is None else f"{rss:.1f} ({hwm:.1f})"
        print(f"| {mode} | {rate:,.0f} | {cost} | {lost_s} | {lat} | {cpu_s} | {rss_s} |")
    for f in report.get("failures", []):
        print(f"# round {f['round']} {f['mode']} FAILED (left out of its row): {f['error'].strip().splitlines()[-1]}")
    ready = [r[m].get("ready_s") for r in rounds for m in r if r[m].get("ready_s") is not None]
    if ready:
        print(f"# drift-agent start to /readyz: median {median(ready):.2f} s, max {max(ready):.2f} s "
              f"over {len(ready)} starts (under the storm rounds' load)")


def start_storm_container(work):
    """The storm's container, started from its one-layer image, with the probe's dropped copy of noop in /tmp."""
    storm_bin, noop = storm_lib.build_binaries(work)
    remove_storm_container()
    sh("ctr", "-n", NS, "images", "import", storm_lib.write_oci_tar(work, storm_bin, noop))
    sh("ctr", "-n", NS, "run", "-d", IMAGE, CONTAINER, "/bin/sleep", "36000")
    sh("ctr", "-n", NS, "task", "exec", "--exec-id", "prep", CONTAINER, "/bin/cp", "/usr/bin/noop", "/tmp/dropped")


def remove_storm_container():
    cleanup_containers()
    quiet("ctr", "-n", NS, "images", "rm", IMAGE)


def cleanup_containers():
    quiet("ctr", "-n", NS, "task", "kill", "-s", "SIGKILL", CONTAINER)
    for _ in range(50):
        if subprocess.run(["ctr", "-n", NS, "task", "rm", "-f", CONTAINER], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            break
        time.sleep(0.1)
    quiet("ctr", "-n", NS, "containers", "rm", CONTAINER)


if __name__ == "__main__":
    main()
