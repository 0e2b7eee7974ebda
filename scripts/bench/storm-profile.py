#!/usr/bin/env python3
"""Where the agent's time goes under the side-by-side storm: one round of scripts/bench/side_by_side.py's storm
(in its containerd container: 2 workers exec the image's noop flat out, a probe execs a dropped copy every 5 ms)
against one agent, with the agent's stage metrics printed and, on request, a perf profile, a GC log or a JFR file.

As root, from the repository root, after `mvn -o -q -pl agent -am package -DskipTests`:

    scripts/bench/storm-profile.py [--jar J] [--mode ebpf-observe|fanotify-observe] [--execs 40000]
                                   [--perf perf.data] [--gc-log gc.log] [--jfr agent.jfr]

Prints one JSON line (the storm, the probe's exec-to-alert p50/p99, the agent's CPU, the load average, each stage's
items and mean time over the timed storm alone), then the agent's pipeline metrics; with
DRIFT_METRICS_STAGE_HISTOGRAMS=true in the environment also the attribute and classify stages' latency buckets
(a mean over a storm is mostly a few first-time outliers: the first image index build, a new container's first sight).

--perf records the agent's threads with `perf record -F 1999 -g` during the timed storm and has the JVM write its
JIT symbols (/tmp/perf-<pid>.map) at exit: read it with `perf report -i FILE --sort comm,dso,sym`.
"""
import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
_spec = importlib.util.spec_from_file_location("side_by_side", os.path.join(HERE, "side_by_side.py"))
sbs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sbs)

METRICS = re.compile(r"drift_(stage_latency_seconds_(sum|count)|source_lost|pipeline_dropped|source_delivered"
                     r"|pipeline_stopped_early|exec_to_alert_latency_seconds_(sum|count)|pipeline_proc_reads"
                     r"|stage_latency_seconds_bucket\{stage=\"(attribute|classify)\")")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jar", default=os.path.join(ROOT, "agent", "target", "drift-agent.jar"))
    ap.add_argument("--mode", default="ebpf-observe", choices=["ebpf-observe", "fanotify-observe"])
    ap.add_argument("--execs", type=int, default=40000)
    ap.add_argument("--perf", help="write a perf profile of the agent during the storm to this file")
    ap.add_argument("--gc-log", help="write the agent's GC log to this file")
    ap.add_argument("--jfr", help="write a JFR recording (settings=profile) to this file")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (containerd, eBPF, fanotify, perf)")
    # the image's flags without its class data archive (made for the image's JRE only)
    flags = re.sub(r"-XX:SharedArchiveFile=\S+", "", sbs.image_jvm_flags()).split()
    if args.perf:
        flags += ["-XX:+UnlockDiagnosticVMOptions", "-XX:+DumpPerfMapAtExit"]
    if args.gc_log:
        flags.append(f"-Xlog:gc:file={args.gc_log}")
    if args.jfr:
        flags.append(f"-XX:StartFlightRecording=filename={args.jfr},settings=profile,dumponexit=true")
    work = tempfile.mkdtemp(prefix="storm-profile-")
    try:
        sbs.start_storm_container(work)
        watcher = sbs.AgentWatcher(args.jar, " ".join(flags), 19745, work, args.mode)
        watcher.start()
        try:
            sbs.run_storm("/usr/bin/noop", 2000, probe=False)
            time.sleep(0.5)
            perf = None
            if args.perf:
                perf = subprocess.Popen(["perf", "record", "-F", "1999", "-g", "-o", args.perf, "-p",
                                         str(watcher.agent.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1)
            watcher.before()
            c0, t0 = sbs.proc_ticks(watcher.agent.pid), time.monotonic()
            storm = sbs.run_storm("/usr/bin/noop", args.execs)
            figures = watcher.after(0)
            cpu_s = (sbs.proc_ticks(watcher.agent.pid) - c0) / sbs.CLK_TCK
            metrics = watcher.agent.metrics()
            if perf:
                perf.send_signal(2)
                perf.wait()
            print(json.dumps({**storm, **figures, "cpu_s": cpu_s, "elapsed_s": time.monotonic() - t0,
                              "load": open("/proc/loadavg").read().split()[0],
                              "stage_mean_us_in_storm": stage_means(watcher.m0, metrics)}))
            for line in metrics.splitlines():
                if METRICS.match(line):
                    print("  " + line)
        finally:
            watcher.stop()
    finally:
        sbs.remove_storm_container()
        shutil.rmtree(work, ignore_errors=True)


def stage_means(before, after):
    """Each stage's items and mean time over the timed storm alone (the agent's start and warm-up left out)."""
    name = "drift_stage_latency_seconds"
    counts, sums = sbs.samples(after, name + "_count"), sbs.samples(after, name + "_sum")
    counts0, sums0 = sbs.samples(before, name + "_count"), sbs.samples(before, name + "_sum")
    out = {}
    for labels, count in counts.items():
        items = count - counts0.get(labels, 0.0)
        stage = re.search(r'stage="([^"]+)"', labels).group(1)
        total_s = sums.get(labels, 0.0) - sums0.get(labels, 0.0)
        out[stage] = {"items": int(items), "mean_us": round(1e6 * total_s / items, 1) if items else None}
    return out


if __name__ == "__main__":
    main()
