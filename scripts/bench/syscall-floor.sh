#!/bin/sh
# The floor of a tracer that watches every system call (docs/benchmarks.md, "System call tax"): the same host loop as
# syscall-tax.sh (scripts/bench/syscall-tax.c: getppid, open+close, mmap+munmap) with nothing attached and with two
# empty programs on the raw sys_enter and sys_exit tracepoints (syscall-floor.bpf.c), alternated; prints each round
# and the medians. The design of Falco's modern eBPF probe starts from these two tracepoints and does its filtering
# and capture inside them, so its tax is at least this.
#   scripts/bench/syscall-floor.sh [rounds] [iterations]      (root; clang and libbpf-dev: scripts/host-setup.sh)
set -eu
rounds=${1:-5}
iterations=${2:-2000000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/syscall-floor.XXXXXX)
loader=
trap 'test -n "$loader" && kill "$loader" 2>/dev/null; rm -rf "$work"' EXIT
cc -O2 -o "$work/syscall-tax" "$root/scripts/bench/syscall-tax.c"
cc -O2 -o "$work/loader" "$root/scripts/bench/syscall-floor-loader.c" -lbpf
clang -O2 -g -Wall -target bpf -D__TARGET_ARCH_x86 -I"$root/agent/src/main/bpf" \
    -c "$root/scripts/bench/syscall-floor.bpf.c" -o "$work/floor.bpf.o"
for r in $(seq "$rounds"); do
    off=$("$work/syscall-tax" "$iterations")
    "$work/loader" "$work/floor.bpf.o" > "$work/loader.out" 2> "$work/loader.err" &
    loader=$!
    i=0
    until grep -q attached "$work/loader.out" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$loader" 2>/dev/null; then cat "$work/loader.err" >&2; exit 1; fi
        sleep 0.1
    done
    on=$("$work/syscall-tax" "$iterations")
    kill "$loader"; wait "$loader" 2>/dev/null || true; loader=
    echo "round $r off: $off"
    echo "round $r on:  $on"
    cat "$work/loader.err" >&2
done | tee "$work/rounds.txt"
awk -f "$root/scripts/bench/syscall-medians.awk" "$work/rounds.txt"
