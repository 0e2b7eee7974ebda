#!/usr/bin/env python3
"""Whole-agent benchmark: exec-to-alert latency, RSS and CPU of the agent jar running as its own process.

As root, from the repository root, after `mvn -q -o package -DskipTests`:

    scripts/bench/agent-storm.py [--containers 50] [--storm-containers 10] [--execs 2000]
                                 [--interval-us 2000 0] [--idle-seconds 30] [--jvm-flags "..."] [--source auto]
                                 [--image drift-agent:dev]

--image runs the agent image as scripts/bench/image-footprint.sh runs it (the chart's capabilities, host pids, a
read-only root, JAVA_TOOL_OPTIONS = --jvm-flags, the image's own java command line with its class data archive),
with the containerd state and root mounted read-only as the chart mounts them, instead of the jar on the host's JDK.

Phases (the agent's CPU is utime+stime from /proc/<pid>/stat over each phase; RSS from /proc/<pid>/status):
  1. start the agent (`run --standalone`, a policy that alerts on every drift kind), wait for /readyz;
  2. idle: --idle-seconds with no containers and no activity from this script;
  3. start --containers busybox containers in containerd namespace drift-perf (`ctr run -d`, each `sleep`);
  4. idle with the containers running (--idle-seconds);
  5. storm: in --storm-containers of them at once, a static storm driver (an image binary) fork+execs --execs times
     a binary: in half of them a copy dropped into /tmp (ADDED drift: one alert per exec reaches the reporter, the
     dedup window folds the JSON lines), in the other half the image's own copy (IMAGE: no alert);
     one storm per --interval-us value: each driver starts at most one exec per interval (0 = as fast as the
     machine allows: the storm then saturates both CPUs and the latency measures the pipeline's queue);
  6. latency from the pipeline's drift_exec_to_alert_latency_seconds histogram (delta over the storm), p50/p99
     interpolated inside the Prometheus buckets (the first bucket is 1 ms: values below show as "<= 1 ms").
Everything started is removed afterwards (containers, tasks, image, the agent process, temp dirs).
"""
import argparse
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

NS = "drift-perf"
IMAGE = "docker.io/drift-perf/busybox:bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

POLICY = """apiVersion: drift.agent/v1
kind: DriftPolicy
rules:
  - name: alert-on-drift
    priority: 10
    action: alert
    driftKinds: [ADDED, MODIFIED, MOUNT, FILELESS, UNRESOLVED]
defaultRule:
  action: ignore
"""


def sh(*argv, check=True, timeout=300):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stdout}")
    return r.stdout


def quiet(*argv):
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


# ---------------------------------------------------------------- image

def build_binaries(work):
    src = os.path.join(ROOT, "agent", "src", "test", "storm")
    storm = os.path.join(work, "storm")
    noop = os.path.join(work, "noop")
    sh("gcc", "-O2", "-static", "-o", storm, os.path.join(src, "storm.c"))
    sh("gcc", "-O2", "-static", "-nostdlib", "-o", noop, os.path.join(src, "noop.c"))
    return storm, noop


def layer_tar(files):
    """files: list of (path, kind, data_or_target, mode); returns the tar bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, kind, data, mode in files:
            info = tarfile.TarInfo(path)
            info.mtime = 0
            info.mode = mode
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "link":
                info.type = tarfile.SYMTYPE
                info.linkname = data
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_oci_tar(work, storm, noop):
    with open("/bin/busybox", "rb") as f:
        busybox = f.read()
    files = [(d, "dir", None, 0o755) for d in ("bin", "usr", "usr/bin", "etc", "proc", "sys", "dev", "run")]
    files.append(("tmp", "dir", None, 0o1777))
    files.append(("bin/busybox", "file", busybox, 0o755))
    files += [(f"bin/{a}", "link", "busybox", 0o777) for a in ("sh", "sleep", "cp", "chmod", "cat", "true")]
    for name, path in (("storm", storm), ("noop", noop)):
        with open(path, "rb") as f:
            files.append((f"usr/bin/{name}", "file", f.read(), 0o755))
    layer = layer_tar(files)
    blobs = {}

    def blob(data):
        digest = hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return digest

    layer_digest = blob(layer)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sleep", "3600"]},
                         "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]}}).encode()
    config_digest = blob(config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": f"sha256:{config_digest}",
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": f"sha256:{layer_digest}",
                    "size": len(layer)}]}).encode()
    manifest_digest = blob(manifest)
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{manifest_digest}",
        "size": len(manifest), "annotations": {"io.containerd.image.name": IMAGE,
                                               "org.opencontainers.image.ref.name": "bench"}}]}).encode()
    out = os.path.join(work, "image.tar")
    with tarfile.open(out, "w") as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", index)
        for digest, data in blobs.items():
            add(f"blobs/sha256/{digest}", data)
    return out


# ---------------------------------------------------------------- agent process

class Agent:
    def __init__(self, jar, jvm_flags, port, work, source):
        policy = self._prepare(port, work)
        argv = ["java"] + jvm_flags.split() + ["-jar", jar, "run", "--standalone", "--alerts", self.alerts,
                                              "--http-port", str(port), "--policy", policy, "--source", source]
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def _prepare(self, port, work):
        """The agent's port, alert file, log and policy file (POLICY) in work; returns the policy file's path."""
        self.port = port
        self.alerts = os.path.join(work, "alerts.jsonl")
        policy = os.path.join(work, "policy.yaml")
        with open(policy, "w") as f:
            f.write(POLICY)
        self.log = open(os.path.join(work, "agent.log"), "w")
        return policy

    def await_ready(self, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.alive():
                raise RuntimeError(f"agent exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except Exception:
                pass
            time.sleep(0.5)
        raise RuntimeError("agent not ready in time")

    def cpu_ticks(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)

    def thread_ticks(self):
        out = {}
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{tid}/stat") as f:
                    head, _, rest = f.read().rpartition(")")
                fields = rest.split()
                out[tid] = (head.partition("(")[2], int(fields[11]) + int(fields[12]))
            except FileNotFoundError:
                pass
        return out

    def thread_run_delay_ns(self):
        """Per thread name: nanoseconds spent runnable but waiting for a CPU (/proc/<pid>/task/<tid>/schedstat)."""
        out = {}
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{tid}/comm") as f:
                    name = f.read().strip()
                with open(f"/proc/{self.pid}/task/{tid}/schedstat") as f:
                    out[tid] = (name, int(f.read().split()[1]))
            except (FileNotFoundError, IndexError, ValueError):
                pass
        return out

    def memory(self):
        out = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                    out[key] = int(value.split()[0])
        # the BPF ring buffer's data pages are mapped twice (wrap-around): VmRSS counts them twice
        bpf = 0
        with open(f"/proc/{self.pid}/smaps") as f:
            current = ""
            for line in f:
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    current = line
                elif line.startswith("Rss:") and "anon_inode:bpf" in current:
                    bpf += int(line.split()[1])
        out["BpfMapRss"] = bpf
        return out

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as r:
            return r.read().decode()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class ImageAgent(Agent):
    """The agent image in Docker, as the chart runs it (see scripts/bench/image-footprint.sh)."""

    def __init__(self, image, jvm_flags, port, work, source):
        policy = self._prepare(port, work)
        self.container = f"drift-agent-storm-{os.getpid()}"
        argv = ["docker", "run", "-d", "--name", self.container, "--network", "host", "--pid=host", "--read-only",
                "--cap-drop", "ALL", "--cap-add", "SYS_ADMIN", "--cap-add", "SYS_PTRACE",
                "--cap-add", "DAC_READ_SEARCH", "--security-opt", "no-new-privileges",
                "--security-opt", "seccomp=unconfined", "--tmpfs", "/tmp:rw,noexec,nosuid,size=16m",
                "-v", f"{work}:{work}", "-v", "/run/containerd:/run/containerd:ro",
                "-v", "/var/lib/containerd:/var/lib/containerd:ro", "-e", f"JAVA_TOOL_OPTIONS={jvm_flags}",
                image, "run", "--standalone", "--alerts", self.alerts, "--http-port", str(port), "--policy", policy,
                "--source", source]
        self.argv = argv
        sh(*argv)
        self.pid = int(sh("docker", "inspect", "-f", "{{.State.Pid}}", self.container).strip())

    def alive(self):
        return sh("docker", "inspect", "-f", "{{.State.Running}}", self.container, check=False).strip() == "true"

    def stop(self):
        self.log.write(sh("docker", "logs", self.container, check=False))
        quiet("docker", "rm", "-f", self.container)
        self.log.close()


def measure(agent, seconds):
    """CPU over a quiet phase, by thread too, and what the pipeline handled meanwhile: the machine is shared, other
    people's builds and containers exec too, and every exec on the host reaches the agent."""
    m0 = agent.metrics()
    th0 = agent.thread_ticks()
    t0, c0 = time.monotonic(), agent.cpu_ticks()
    time.sleep(seconds)
    t1, c1 = time.monotonic(), agent.cpu_ticks()
    th1 = agent.thread_ticks()
    m1 = agent.metrics()
    e = total(m1, "drift_source_delivered_total") - total(m0, "drift_source_delivered_total")
    threads = {}
    for tid, (name, ticks) in th1.items():
        d = ticks - th0.get(tid, (name, 0))[1]
        if d > 0:
            threads[name] = threads.get(name, 0) + d
    stages = {}
    for labels, c in samples(m1, "drift_stage_latency_seconds_count").items():
        d = c - samples(m0, "drift_stage_latency_seconds_count").get(labels, 0.0)
        if d:
            stages[re.search(r'stage="([^"]+)"', labels).group(1)] = int(d)
    return {"seconds": t1 - t0, "cpu_percent_of_core": 100.0 * (c1 - c0) / CLK_TCK / (t1 - t0),
            "host_execs_seen": int(e), "host_execs_per_s": e / (t1 - t0), "items_per_stage": stages,
            "cpu_percent_by_thread": {k: round(100.0 * v / CLK_TCK / (t1 - t0), 2)
                                      for k, v in sorted(threads.items(), key=lambda kv: -kv[1])},
            **agent.memory()}


# ---------------------------------------------------------------- metrics parsing

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


def samples(text, name):
    out = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m and m.group(1) == name:
            out[m.group(2) or ""] = float(m.group(3))
    return out


def total(text, name):
    return sum(samples(text, name).values())


def latency(before, after):
    name = "drift_exec_to_alert_latency_seconds"
    b = samples(before, name + "_bucket")
    a = samples(after, name + "_bucket")
    buckets = []
    for labels, value in a.items():
        le = re.search(r'le="([^"]+)"', labels).group(1)
        buckets.append((float("inf") if le == "+Inf" else float(le), value - b.get(labels, 0.0)))
    buckets.sort()
    count = buckets[-1][1] if buckets else 0
    s = total(after, name + "_sum") - total(before, name + "_sum")

    def q(p):
        rank = p * count
        prev_le, prev_c = 0.0, 0.0
        for le, c in buckets:
            if c >= rank:
                if le == float("inf"):
                    return prev_le
                return prev_le + (le - prev_le) * ((rank - prev_c) / (c - prev_c) if c > prev_c else 1.0)
            prev_le, prev_c = le, c
        return float("nan")

    first = buckets[0][0] if buckets else 0
    return {"count": int(count), "mean_ms": 1000 * s / count if count else float("nan"),
            "p50_ms": 1000 * q(0.5), "p99_ms": 1000 * q(0.99), "first_bucket_ms": 1000 * first,
            "at_or_below_first_bucket": int(buckets[0][1]) if buckets else 0,
            "max_ms_window": 1000 * total(after, name + "_max")}


# ---------------------------------------------------------------- containers

def start_containers(n):
    names = []
    for i in range(n):
        name = f"perf-{i:02d}"
        sh("ctr", "-n", NS, "run", "-d", IMAGE, name, "/bin/sleep", "3600")
        names.append(name)
    return names


def remove_all_containers():
    listed = subprocess.run(["ctr", "-n", NS, "containers", "ls", "-q"], stdout=subprocess.PIPE, text=True,
                            stderr=subprocess.DEVNULL).stdout.split()
    for name in listed:
        quiet("ctr", "-n", NS, "task", "kill", "-s", "SIGKILL", name)
    for name in listed:
        for _ in range(50):
            if subprocess.run(["ctr", "-n", NS, "task", "rm", "-f", name], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode != 0:
                break  # no task (any more)
            time.sleep(0.1)
        quiet("ctr", "-n", NS, "containers", "rm", name)


def storm(names, execs, interval_us):
    procs = []
    for i, name in enumerate(names):
        dropped = i % 2 == 0
        target = "/tmp/dropped" if dropped else "/usr/bin/noop"
        script = (f"cp /usr/bin/noop {target} && " if dropped else "") + \
                 f"exec /usr/bin/storm {target} {execs} 1 {interval_us}"
        procs.append((name, dropped, subprocess.Popen(
            ["ctr", "-n", NS, "task", "exec", "--exec-id", f"storm-{time.time_ns()}", name, "/bin/sh", "-c", script],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    results = []
    for name, dropped, p in procs:
        out, _ = p.communicate(timeout=900)
        m = re.search(r"execs=(\d+) failed=(\d+) ns=(\d+)", out)
        if p.returncode != 0 or not m:
            raise RuntimeError(f"storm in {name} failed: {out}")
        results.append({"container": name, "dropped": dropped, "execs": int(m.group(1)),
                        "execs_per_s": int(m.group(1)) * 1e9 / int(m.group(3))})
    return results


def storm_phase(agent, names, execs, interval_us):
    """One storm in the given containers; the agent's CPU, memory and the pipeline's counters over it."""
    before = agent.metrics()
    load_before = open("/proc/loadavg").read().strip()
    th0 = agent.thread_ticks()
    rd0 = agent.thread_run_delay_ns()
    t0, c0 = time.monotonic(), agent.cpu_ticks()
    runs = storm(names, execs, interval_us)
    storm_seconds = time.monotonic() - t0
    # let the pipeline drain: every dropped-binary exec timed, or (some were dropped and counted) nothing moved for
    # a second with the queues empty; the drain time is up to the last change
    dropped_execs = sum(r["execs"] for r in runs if r["dropped"])
    deadline = time.monotonic() + 60
    last_count, last_change = -1.0, time.monotonic()
    while time.monotonic() < deadline:
        now = agent.metrics()
        count = total(now, "drift_exec_to_alert_latency_seconds_count")
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        if count - total(before, "drift_exec_to_alert_latency_seconds_count") >= dropped_execs:
            break
        if time.monotonic() - last_change > 1.0 and total(now, "drift_pipeline_queue_depth") == 0:
            break
        time.sleep(0.1)
    drain_seconds = max(0.0, last_change - t0 - storm_seconds)
    after = agent.metrics()
    cpu_s = (agent.cpu_ticks() - c0) / CLK_TCK
    th1 = agent.thread_ticks()
    rd1 = agent.thread_run_delay_ns()
    elapsed = time.monotonic() - t0
    run_delay = {}
    for tid, (tname, ns) in rd1.items():
        d = ns - rd0.get(tid, (tname, 0))[1]
        if d > 0:
            run_delay[tname] = run_delay.get(tname, 0) + d
    execs_total = max(1, sum(r["execs"] for r in runs))
    threads = {}
    for tid, (tname, ticks) in th1.items():
        d = ticks - th0.get(tid, (tname, 0))[1]
        if d > 0:
            threads[tname] = threads.get(tname, 0) + d
    phase = {
        "containers": len(names), "execs_per_container": execs, "interval_us": interval_us,
        "seconds": storm_seconds, "drain_after_storm_s": drain_seconds,
        "execs_total": sum(r["execs"] for r in runs), "dropped_binary_execs": dropped_execs,
        "execs_per_s_total": sum(r["execs"] for r in runs) / storm_seconds,
        "agent_cpu_s": cpu_s, "cpu_percent_of_core": 100.0 * cpu_s / elapsed,
        "agent_cpu_us_per_exec": 1e6 * cpu_s / execs_total, "memory": agent.memory(), "latency": latency(before, after),
        "load_before": load_before, "load_after": open("/proc/loadavg").read().strip(),
        # threads of one name (the proc readers, the JVM's GC) are summed
        "cpu_us_per_exec_by_thread": {k: round(1e6 * v / CLK_TCK / execs_total, 1)
                                      for k, v in sorted(threads.items(), key=lambda kv: -kv[1])},
        # runnable but not running (waiting for a CPU), over storm + drain, by thread
        "run_queue_wait_ms_by_thread": {k: round(v / 1e6, 1)
                                        for k, v in sorted(run_delay.items(), key=lambda kv: -kv[1])},
    }
    counters = {}
    for name in ("drift_source_delivered_total", "drift_source_lost_total", "drift_pipeline_dropped_total",
                 "drift_pipeline_errors_total", "drift_pipeline_published_total", "drift_alerts_total",
                 "drift_dedup_suppressed_total", "drift_alerts_dropped_total", "drift_sink_dropped_total"):
        counters[name] = total(after, name) - total(before, name)
    phase["counters"] = counters
    stages = {}
    for labels, c in samples(after, "drift_stage_latency_seconds_count").items():
        n = c - samples(before, "drift_stage_latency_seconds_count").get(labels, 0.0)
        t = samples(after, "drift_stage_latency_seconds_sum").get(labels, 0.0) - \
            samples(before, "drift_stage_latency_seconds_sum").get(labels, 0.0)
        if n:
            stages[re.search(r'stage="([^"]+)"', labels).group(1)] = {"items": int(n), "mean_us": 1e6 * t / n}
    phase["stages"] = stages
    for name in ("drift_verdicts_total", "drift_pipeline_stopped_early_total",
                 "drift_pipeline_process_snapshots_total",
                 "drift_pipeline_late_metadata_total", "drift_pipeline_dropped_total", "drift_source_lost_total"):
        deltas = {}
        for labels, v in samples(after, name).items():
            d = v - samples(before, name).get(labels, 0.0)
            if d:
                deltas[labels] = d
        phase[name] = deltas
    return phase


# ---------------------------------------------------------------- main

def profile(args, agent, report, phase):
    if args.profile:
        text = sh(os.path.join(ROOT, "scripts", "bench", "rss-profile.py"), str(agent.pid), check=False)
        report.setdefault("profiles", {})[phase] = text
        print(f"profile after {phase}:\n{text}", file=sys.stderr)


def chart_jvm_options():
    """deploy/helm/drift-agent/values.yaml's jvmOptions (a folded block scalar), as the pod gets them."""
    lines, on = [], False
    with open(os.path.join(ROOT, "deploy", "helm", "drift-agent", "values.yaml")) as f:
        for line in f:
            if line.startswith("jvmOptions: >-"):
                on = True
            elif on and line.startswith("  "):
                lines.append(line.strip())
            elif on:
                break
    return " ".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jar", default=os.path.join(ROOT, "agent", "target", "drift-agent.jar"))
    ap.add_argument("--containers", type=int, default=50)
    ap.add_argument("--storm-containers", type=int, default=10)
    ap.add_argument("--execs", type=int, default=2000, help="execs per storm container")
    ap.add_argument("--interval-us", type=int, nargs="+", default=[2000, 0],
                    help="one storm per value, in order: at most one exec per interval per container (0: flat out)")
    ap.add_argument("--idle-seconds", type=float, default=30)
    ap.add_argument("--port", type=int, default=19743)
    ap.add_argument("--source", default="auto")
    ap.add_argument("--jvm-flags", default=chart_jvm_options(),
                    help="the agent's JVM flags (default: the Helm chart's jvmOptions, read from its values.yaml; "
                         "the image's class data archive is not among them: scripts/bench/side_by_side.py makes one "
                         "for the host's JDK)")
    ap.add_argument("--image", help="run this agent image in Docker (as the chart runs it) instead of --jar")
    ap.add_argument("--profile", action="store_true",
                    help="resident memory by mapping after each phase (scripts/bench/rss-profile.py; add "
                         "-XX:NativeMemoryTracking=detail to --jvm-flags to split the anonymous memory)")
    ap.add_argument("--json", help="also write the report as JSON to this file")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (containerd, eBPF/fanotify)")
    if not 0 < args.storm_containers <= args.containers:
        sys.exit("--storm-containers must be within 1..--containers")

    work = tempfile.mkdtemp(prefix="drift-agent-storm-")
    agent = None
    report = {"argv": sys.argv[1:], "jvm_flags": args.jvm_flags, "load_before": open("/proc/loadavg").read().strip()}
    try:
        storm_bin, noop = build_binaries(work)
        remove_all_containers()  # leftovers of an interrupted run
        quiet("ctr", "-n", NS, "images", "rm", IMAGE)
        sh("ctr", "-n", NS, "images", "import", write_oci_tar(work, storm_bin, noop))

        agent = ImageAgent(args.image, args.jvm_flags, args.port, work, args.source) if args.image else \
            Agent(args.jar, args.jvm_flags, args.port, work, args.source)
        t_start = time.monotonic()
        agent.await_ready()
        report["ready_after_s"] = time.monotonic() - t_start
        report["after_start"] = agent.memory()
        time.sleep(5)  # the self-test and start-up work settle
        report["idle_no_containers"] = measure(agent, args.idle_seconds)
        profile(args, agent, report, "idle_no_containers")

        t0, c0 = time.monotonic(), agent.cpu_ticks()
        names = start_containers(args.containers)
        report["start_containers"] = {"seconds": time.monotonic() - t0,
                                      "agent_cpu_s": (agent.cpu_ticks() - c0) / CLK_TCK, **agent.memory()}
        time.sleep(5)
        report["idle_with_containers"] = measure(agent, args.idle_seconds)
        profile(args, agent, report, "idle_with_containers")

        report["storms"] = []
        for interval_us in args.interval_us:
            report["storms"].append(storm_phase(agent, names[:args.storm_containers], args.execs, interval_us))
            profile(args, agent, report, f"storm_{interval_us}us")
        report["alert_lines"] = sum(1 for _ in open(agent.alerts)) if os.path.exists(agent.alerts) else 0
        report["load_after"] = open("/proc/loadavg").read().strip()
        if os.environ.get("DRIFT_BENCH_NMT"):
            report["nmt"] = sh("jcmd", str(agent.pid), "VM.native_memory", "summary", check=False)
    finally:
        if agent:
            agent.stop()
        remove_all_containers()
        quiet("ctr", "-n", NS, "images", "rm", IMAGE)
        if os.environ.get("DRIFT_BENCH_KEEP"):
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
    idle, busy = report["idle_no_containers"], report["idle_with_containers"]
    lines = [f"SUMMARY load {report['load_before']} -> {report['load_after']}; JVM flags: {args.jvm_flags}",
             f"  idle, no containers ({idle['seconds']:.0f} s): CPU {idle['cpu_percent_of_core']:.2f}% of a core "
             f"with {idle['host_execs_per_s']:.1f} host execs/s seen; VmRSS {idle['VmRSS'] / 1024:.1f} MiB "
             f"(BPF ring mapping {idle['BpfMapRss'] / 1024:.1f} MiB of it), VmHWM {idle['VmHWM'] / 1024:.1f} MiB",
             f"  idle, {args.containers} containers ({busy['seconds']:.0f} s): CPU {busy['cpu_percent_of_core']:.2f}% "
             f"with {busy['host_execs_per_s']:.1f} host execs/s; VmRSS {busy['VmRSS'] / 1024:.1f} MiB"]
    for st in report["storms"]:
        lat, mem = st["latency"], st["memory"]
        lines.append(
            f"  storm interval {st['interval_us']} us in {st['containers']} containers: {st['execs_total']} execs in "
            f"{st['seconds']:.1f} s ({st['execs_per_s_total']:.0f}/s); exec-to-alert over {lat['count']} of "
            f"{st['dropped_binary_execs']} dropped-binary execs: p50 {lat['p50_ms']:.2f} ms, p99 {lat['p99_ms']:.2f} ms, "
            f"mean {lat['mean_ms']:.2f} ms ({lat['at_or_below_first_bucket']} <= {lat['first_bucket_ms']:.0f} ms); "
            f"agent CPU {st['cpu_percent_of_core']:.1f}% of a core over storm+drain "
            f"({st['agent_cpu_us_per_exec']:.0f} us per exec); VmRSS {mem['VmRSS'] / 1024:.1f} MiB, "
            f"VmHWM {mem['VmHWM'] / 1024:.1f} MiB; lost {st['counters']['drift_source_lost_total']:.0f}, "
            f"pipeline dropped {st['counters']['drift_pipeline_dropped_total']:.0f}; load {st['load_before']} -> "
            f"{st['load_after']}")
        lines.append("    CPU us per exec by thread: " + ", ".join(
            f"{k} {v}" for k, v in list(st["cpu_us_per_exec_by_thread"].items())[:8]))
        lines.append("    run-queue wait ms by thread: " + ", ".join(
            f"{k} {v}" for k, v in list(st["run_queue_wait_ms_by_thread"].items())[:6]))
        lines.append("    stage mean us: " + ", ".join(f"{k} {v['mean_us']:.1f} ({v['items']})"
                                                      for k, v in st["stages"].items()))
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
