#!/bin/sh
# Compiles the CO-RE exec program. Called by the Maven build (agent/pom.xml, generate-resources):
#   build-bpf.sh <source dir> <work dir for vmlinux.h> <output .o>
# vmlinux.h is generated from the build host's BTF on every build and never committed.
set -eu
src_dir=$1
work_dir=$2
out=$3

missing=""
for tool in clang bpftool; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    echo "ERROR: building the eBPF exec program needs:$missing (Debian: clang llvm libbpf-dev bpftool; see scripts/host-setup.sh)" >&2
    exit 1
fi
if [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
    echo "ERROR: libbpf headers missing (/usr/include/bpf/bpf_helpers.h): install libbpf-dev (see scripts/host-setup.sh)" >&2
    exit 1
fi
if [ ! -r /sys/kernel/btf/vmlinux ]; then
    echo "ERROR: /sys/kernel/btf/vmlinux is not readable: the build host's kernel has no BTF to generate vmlinux.h from" >&2
    exit 1
fi

mkdir -p "$work_dir" "$(dirname "$out")"
bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$work_dir/vmlinux.h.tmp"
mv "$work_dir/vmlinux.h.tmp" "$work_dir/vmlinux.h"
clang -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -I"$work_dir" -I"$src_dir" \
    -c "$src_dir/exec.bpf.c" -o "$out"
echo "built $out"
