#!/bin/sh
# Library drift overhead (docs/benchmarks.md, "Library drift"): builds a FROM-scratch image of busybox, a dynamically
# linked program (gcc) and the libraries ldd names for it, starts a Docker container of it (overlay2: the libraries
# are image-layer files), and runs scripts/bench/library-prog-cost.c inside that container's mount namespace:
# the library program's ns per call (bpf_stats) and the exec storm with the program attached vs detached, alternated.
# The program run is /usr/bin/app (does nothing: the libraries ld.so maps) or, with `mprot`, /usr/bin/mprot, which also
# maps the image's libc readable and mprotects that mapping PROT_EXEC: the mprotect program's whole path (bpf_find_vma,
# the file facts, skipped as an image-layer file) once per exec.
#   scripts/bench/library-cost.sh [execs per round] [rounds] [app|mprot]  (root; the agent's build: agent/target/classes/bpf)
set -eu
execs=${1:-5000}
rounds=${2:-5}
program=${3:-app}
case "$program" in app|mprot) ;; *) echo "program: app or mprot" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
obj=$root/agent/target/classes/bpf/exec.bpf.o
work=$(mktemp -d /tmp/library-cost.XXXXXX)
name=library-cost-$$
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; docker rmi -f "$name:bench" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

cc -O2 -o "$work/library-prog-cost" "$root/scripts/bench/library-prog-cost.c" -lbpf
mkdir -p "$work/rootfs/bin" "$work/rootfs/usr/bin" "$work/rootfs/tmp" "$work/rootfs/proc" "$work/rootfs/dev" \
    "$work/rootfs/sys" "$work/rootfs/etc"
printf 'int main(void) { return 0; }\n' > "$work/app.c"
cc -O2 -o "$work/rootfs/usr/bin/app" "$work/app.c"
libc=$(ldd "$work/rootfs/usr/bin/app" | grep -o '/[^ ]*libc\.so[^ ]*')
cat > "$work/mprot.c" <<'SRC'
#include <fcntl.h>
#include <sys/mman.h>
int main(void)
{
    int fd = open(LIBC, O_RDONLY);
    void *p = fd < 0 ? MAP_FAILED : mmap(0, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    return p == MAP_FAILED || mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0;
}
SRC
cc -O2 -DLIBC="\"$libc\"" -o "$work/rootfs/usr/bin/mprot" "$work/mprot.c"
cp /bin/busybox "$work/rootfs/bin/busybox"
ln -s busybox "$work/rootfs/bin/sh"
ln -s busybox "$work/rootfs/bin/sleep"
for lib in $(ldd "$work/rootfs/usr/bin/app" | grep -o '/[^ ]*'); do
    mkdir -p "$work/rootfs$(dirname "$lib")"
    cp -L "$lib" "$work/rootfs$lib"
done
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
docker import "$work/rootfs.tar" "$name:bench" >/dev/null
docker run -d --name "$name" --network none "$name:bench" /bin/sleep 3600 >/dev/null
pid=$(docker inspect -f '{{.State.Pid}}' "$name")
"$work/library-prog-cost" "$obj" "$pid" /usr/bin/$program "$execs" "$rounds"
