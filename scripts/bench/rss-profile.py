#!/usr/bin/env python3
"""Where a running agent JVM's resident memory is: /proc/PID/smaps grouped by what each mapping holds.

usage (root): scripts/bench/rss-profile.py PID [--json FILE]

Groups: the Java heap, the class data sharing archive (*.jsa), class space and metaspace, the code cache, thread
stacks, GC and other JVM reservations, malloc (the [heap] of the main arena and the other arenas' 64 MiB heaps),
libjvm.so, the other shared libraries, the JRE's `modules` image, BPF maps (the exec ring buffer: its data pages are
mapped twice, so VmRSS counts them twice). Anonymous mappings are told apart by the JVM's own reservations when the
JVM runs with -XX:NativeMemoryTracking=detail (`jcmd PID VM.native_memory detail`, the host's jcmd attaches through
/proc/PID/root/tmp); without it they are one group, "anonymous (run with NMT=detail to split)". NMT's own bookkeeping
adds to malloc: compare totals without it. Also prints the NMT summary's committed sizes when NMT is on, and the
memory cgroup's usage and working set (usage - inactive_file: what kubelet evicts and the scheduler sees).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$")
RESERVED = re.compile(r"^\[0x([0-9a-f]+) - 0x([0-9a-f]+)\] reserved \d+KB for (.+?) from")
NMT_CATEGORY = re.compile(r"^-\s+(.+?) \(reserved=(\d+)KB, committed=(\d+)KB\)")
ARENA_SIZE = 64 * 1024 * 1024


def smaps(pid):
    out, cur = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = MAPPING.match(line)
            if m:
                cur = {"start": int(m.group(1), 16), "end": int(m.group(2), 16), "perms": m.group(3),
                       "name": m.group(4).strip(), "Rss": 0, "Private_Dirty": 0}
                out.append(cur)
            elif cur is not None:
                key, _, value = line.partition(":")
                if key in ("Rss", "Private_Dirty", "Swap"):
                    cur[key] = int(value.split()[0])
    return out


def jcmd(pid, *command):
    """The host's jcmd on a JVM in a container of the host's pid namespace: jcmd then looks for the attach socket in
    the host's /tmp, the JVM makes it in its own; so start the attach listener the way jcmd does (a trigger file in the
    JVM's tmp, SIGQUIT) and link the socket into the host's /tmp for the call."""
    own_tmp = f"/proc/{pid}/root/tmp"
    socket = f"/tmp/.java_pid{pid}"
    linked = False
    if os.stat(f"/proc/{pid}/ns/mnt").st_ino != os.stat("/proc/self/ns/mnt").st_ino and not os.path.exists(socket):
        if not os.path.exists(f"{own_tmp}/.java_pid{pid}"):
            open(f"{own_tmp}/.attach_pid{pid}", "w").close()
            os.kill(pid, signal.SIGQUIT)
            for _ in range(100):
                if os.path.exists(f"{own_tmp}/.java_pid{pid}"):
                    break
                time.sleep(0.1)
        os.symlink(f"{own_tmp}/.java_pid{pid}", socket)
        linked = True
    try:
        r = subprocess.run(["jcmd", str(pid), *command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=60)
        return r.stdout if r.returncode == 0 else ""
    finally:
        if linked:
            os.unlink(socket)


def nmt(pid, what):
    out = jcmd(pid, "VM.native_memory", what)
    return "" if "not enabled" in out else out


def reservations(detail):
    out = []
    for line in detail.splitlines():
        m = RESERVED.match(line.strip())
        if m:
            out.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
    return out


def group(mapping, reserved, arenas):
    name = mapping["name"]
    if name.endswith(".jsa"):
        return "class data archive (.jsa)"
    if name.endswith("/libjvm.so"):
        return "libjvm.so"
    if ".so" in name:
        return "other shared libraries"
    if name.endswith("/lib/modules"):
        return "JRE modules image"
    if name.startswith("anon_inode:bpf"):
        return "BPF maps (ring buffer, mapped twice)"
    if name == "[heap]":
        return "malloc (main arena, [heap])"
    if name == "[stack]":
        return "thread stacks"
    if name and not name.startswith("["):
        return "other files (" + name.rsplit("/", 1)[-1] + ")"
    if name:
        return "other (" + name + ")"
    for start, end, what in reserved:
        if start <= mapping["start"] < end:
            return {"Java Heap": "Java heap", "Class": "class space", "Metaspace": "metaspace",
                    "Code": "code cache", "Thread Stack": "thread stacks", "Thread": "thread stacks",
                    "GC": "GC (card table, offsets)"}.get(what, "JVM: " + what)
    if any(a <= mapping["start"] < a + ARENA_SIZE for a in arenas):
        return "malloc (other arenas)"
    return "anonymous, not the JVM's (malloc mmap chunks, libraries)" if reserved else \
        "anonymous (run with NMT=detail to split)"


def cgroup_memory(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if "memory" in controllers.split(","):
                base = f"/sys/fs/cgroup/memory{path}"
                usage = int(open(f"{base}/memory.usage_in_bytes").read())
                stat = dict(l.split() for l in open(f"{base}/memory.stat"))
                return {"cgroup": path, "usage_kib": usage // 1024,
                        "working_set_kib": (usage - int(stat["total_inactive_file"])) // 1024,
                        "rss_kib": int(stat["total_rss"]) // 1024, "cache_kib": int(stat["total_cache"]) // 1024}
    with open(f"/proc/{pid}/cgroup") as f:  # cgroup v2 only
        path = f.read().strip().split("::", 1)[-1]
    base = f"/sys/fs/cgroup{path}"
    usage = int(open(f"{base}/memory.current").read())
    stat = dict(l.split() for l in open(f"{base}/memory.stat"))
    return {"cgroup": path, "usage_kib": usage // 1024,
            "working_set_kib": (usage - int(stat["inactive_file"])) // 1024,
            "rss_kib": int(stat["anon"]) // 1024, "cache_kib": int(stat["file"]) // 1024}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pid", type=int)
    ap.add_argument("--json", help="also write the profile as JSON to this file")
    args = ap.parse_args()
    maps = smaps(args.pid)
    detail = nmt(args.pid, "detail")
    reserved = reservations(detail)
    # glibc's other arenas: 64 MiB-aligned heaps of anonymous memory the JVM did not reserve
    arenas = {m["start"] for m in maps if not m["name"] and m["start"] % ARENA_SIZE == 0
              and not any(s <= m["start"] < e for s, e, _ in reserved)} if reserved else set()
    groups = {}
    for m in maps:
        g = groups.setdefault(group(m, reserved, arenas), {"Rss": 0, "Private_Dirty": 0, "Size": 0, "mappings": 0})
        g["Rss"] += m["Rss"]
        g["Private_Dirty"] += m["Private_Dirty"]
        g["Size"] += (m["end"] - m["start"]) // 1024
        g["mappings"] += 1
    status = {}
    with open(f"/proc/{args.pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "Threads"):
                status[key] = int(value.split()[0])
    summary = {}
    for line in nmt(args.pid, "summary").splitlines():
        m = NMT_CATEGORY.match(line.strip())
        if m:
            summary[m.group(1)] = int(m.group(3))
    try:
        cg = cgroup_memory(args.pid)
    except (OSError, KeyError, ValueError) as e:
        cg = {"error": str(e)}
    print(f"VmRSS {status['VmRSS'] / 1024:.1f} MiB (RssAnon {status['RssAnon'] / 1024:.1f}, RssFile "
          f"{status['RssFile'] / 1024:.1f}, VmHWM {status['VmHWM'] / 1024:.1f}), {status['Threads']} threads")
    print(f"{'group':58} {'Rss MiB':>8} {'PrivDirty':>9} {'mapped':>8} {'maps':>5}")
    for name, g in sorted(groups.items(), key=lambda kv: -kv[1]["Rss"]):
        if g["Rss"] >= 64:
            print(f"{name:58} {g['Rss'] / 1024:8.1f} {g['Private_Dirty'] / 1024:9.1f} {g['Size'] / 1024:8.1f} "
                  f"{g['mappings']:5d}")
    if summary:
        print("NMT committed (MiB): " + ", ".join(f"{k} {v / 1024:.1f}" for k, v in summary.items() if v >= 256))
    if "error" in cg:
        print(f"memory cgroup: {cg['error']}")
    else:
        print(f"memory cgroup {cg['cgroup']}: usage {cg['usage_kib'] / 1024:.1f} MiB, working set "
              f"{cg['working_set_kib'] / 1024:.1f} MiB (rss {cg['rss_kib'] / 1024:.1f}, cache {cg['cache_kib'] / 1024:.1f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"status": status, "groups": groups, "nmt_committed_kib": summary, "cgroup": cg}, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
