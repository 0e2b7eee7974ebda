#!/bin/sh
# Compiles the CO-RE exec program. Called by the Maven build (agent/pom.xml, generate-resources):
#   build-bpf.sh <source dir> <output .o>
# The kernel types come from the vendored kernel_types.h (CO-RE: resolved against the running kernel's BTF at load
# time), never from the build host's kernel, so any machine with clang and libbpf's headers builds the same object.
# Target architecture: BPF_TARGET_ARCH (x86 | arm64, or Docker's amd64 | arm64, or uname's x86_64 | aarch64);
# default: this machine's (uname -m).
set -eu
src_dir=$1
out=$2

if ! command -v clang >/dev/null 2>&1; then
    echo "ERROR: building the eBPF exec program needs clang (Debian: clang llvm libbpf-dev; see scripts/host-setup.sh)" >&2
    exit 1
fi
if [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
    echo "ERROR: libbpf headers missing (/usr/include/bpf/bpf_helpers.h): install libbpf-dev (see scripts/host-setup.sh)" >&2
    exit 1
fi

arch=${BPF_TARGET_ARCH:-$(uname -m)}
case "$arch" in
    x86|x86_64|amd64) target_arch=x86 ;;
    arm64|aarch64) target_arch=arm64 ;;
    *)
        echo "ERROR: unsupported BPF target architecture '$arch' (BPF_TARGET_ARCH or uname -m): x86_64/amd64 or aarch64/arm64" >&2
        exit 1
        ;;
esac

mkdir -p "$(dirname "$out")"
# two objects from one source: <out> reads the kernel's structures with plain loads (DRIFT_DIRECT_READS: the
# bpf_rdonly_cast kfunc, kernel 6.2 and later), exec-helper-reads.bpf.o beside it with one helper call per field
# (what the agent loads when the kernel refuses the first)
helper_reads="$(dirname "$out")/exec-helper-reads.bpf.o"
clang -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_"$target_arch" -DDRIFT_DIRECT_READS -I"$src_dir" \
    -c "$src_dir/exec.bpf.c" -o "$out"
clang -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_"$target_arch" -I"$src_dir" \
    -c "$src_dir/exec.bpf.c" -o "$helper_reads"
echo "built $out and $helper_reads (__TARGET_ARCH_$target_arch)"
