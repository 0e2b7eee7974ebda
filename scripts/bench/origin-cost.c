/*
 * Write tracking's cost (drift.origin): loads one exec.bpf.o with its exec_btf program and, with "on", the write
 * programs (origin_*, configured as the agent does: the host's mount namespace is this process's), then times in a new
 * mount namespace (what the programs count as a container) a file-write storm, N `echo x > /tmp/origin-cost/<i>` of
 * busybox's shell (one open for writing each), and an exec storm, N `/bin/true` from the same shell. Prints the wall
 * time of each storm and, from bpf_stats, each program's run count and ns per run. Nobody drains the ring: keep N
 * under what its 16 MiB hold.
 *   cc -O2 -o origin-cost scripts/bench/origin-cost.c -lbpf && ./origin-cost <exec.bpf.o> on|off <N>
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void stats(struct bpf_object *obj, const char *phase)
{
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		int fd = bpf_program__fd(p);
		if (fd < 0)
			continue;
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.run_cnt)
			printf("  %s %-16s runs %8llu  ns/run %6.0f\n", phase, bpf_program__name(p),
			       (unsigned long long)info.run_cnt, (double)info.run_time_ns / info.run_cnt);
	}
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s <exec.bpf.o> on|off <N>\n", argv[0]);
		return 2;
	}
	int on = strcmp(argv[2], "on") == 0;
	int n = atoi(argv[3]);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj)
		return 1;
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		const char *name = bpf_program__name(p);
		bpf_program__set_autoload(p, strcmp(name, "exec_btf") == 0 || (on && strncmp(name, "origin_", 7) == 0));
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	if (on) {
		struct stat st;
		if (stat("/proc/self/ns/mnt", &st))
			return 1;
		__u32 key = 0, cfg[2] = { (__u32)st.st_ino, (__u32)getpid() };
		bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "origin_config"), &key, cfg, 0);
	}
	bpf_object__for_each_program(p, obj) {
		if (bpf_program__fd(p) >= 0 && !bpf_program__attach(p)) {
			fprintf(stderr, "attach %s failed\n", bpf_program__name(p));
			return 1;
		}
	}
	char cmd[512];
	system("rm -rf /tmp/origin-cost && mkdir -p /tmp/origin-cost");
	snprintf(cmd, sizeof(cmd), "unshare -m /bin/busybox sh -c 'i=0; while [ $i -lt %d ]; do echo x > /tmp/origin-cost/$i;"
		 " i=$((i+1)); done'", n);
	double t0 = now();
	system(cmd);
	double t1 = now();
	printf("%s write storm: %d files in %.3f s (%.1f us/file)\n", argv[2], n, t1 - t0, (t1 - t0) * 1e6 / n);
	stats(obj, "write");
	snprintf(cmd, sizeof(cmd), "unshare -m /bin/busybox sh -c 'i=0; while [ $i -lt %d ]; do /bin/true a b;"
		 " i=$((i+1)); done'", n);
	t0 = now();
	system(cmd);
	t1 = now();
	printf("%s exec storm: %d execs in %.3f s (%.1f us/exec)\n", argv[2], n, t1 - t0, (t1 - t0) * 1e6 / n);
	stats(obj, "total");
	system("rm -rf /tmp/origin-cost");
	return 0;
}
