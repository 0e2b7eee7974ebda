/*
 * The library programs' cost (library.bpf.c, tracepoint/syscalls/sys_enter_mmap and sys_enter_mprotect), in one run:
 *  - their own time per call from the kernel's bpf_stats (run_time_ns / run_cnt; every mmap(2), every mprotect(2) of
 *    the machine meanwhile is a call, most leave at the first test) and per exec of the storm;
 *  - an exec storm of a dynamically linked program inside a container's mount namespace (each exec maps its
 *    libraries from the image's layers: the path every container exec takes), with the library program attached
 *    and detached in alternating rounds while the exec program stays attached: the ratio of the two rates.
 * Loads one exec.bpf.o (exec_btf + library_mmap + library_mprotect), tells the library program the host's mount namespace (this
 * process's), then spawns <program> <execs> times per round, each child joining the mount namespace of <container-pid>
 * before its exec (setns: root and cwd become the container's; the parent stays on the host, where libbpf finds
 * tracefs to attach). The events ring is drained (records dropped) after every exec, as the agent's reader would
 * drain it, so that no record is refused for a full ring. scripts/bench/library-cost.sh builds the image and runs this.
 *   cc -O2 -o library-prog-cost scripts/bench/library-prog-cost.c -lbpf
 *   ./library-prog-cost <exec.bpf.o> <container-pid> <program> <execs> <rounds>
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int drop(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void prog_stats(struct bpf_program *p, unsigned long long *cnt, unsigned long long *ns)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len);
	*cnt = info.run_cnt;
	*ns = info.run_time_ns;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: %s <exec.bpf.o> <container-pid> <program> <execs> <rounds>\n", argv[0]);
		return 2;
	}
	int n = atoi(argv[4]), rounds = atoi(argv[5]);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		perror("open");
		return 1;
	}
	struct bpf_program *p, *exec = NULL, *lib = NULL, *mprot = NULL;
	bpf_object__for_each_program(p, obj) {
		const char *name = bpf_program__name(p);
		int want = strcmp(name, "exec_btf") == 0 || strcmp(name, "library_mmap") == 0 ||
			   strcmp(name, "library_mprotect") == 0;
		bpf_program__set_autoload(p, want);
		if (strcmp(name, "exec_btf") == 0)
			exec = p;
		if (strcmp(name, "library_mmap") == 0)
			lib = p;
		if (strcmp(name, "library_mprotect") == 0)
			mprot = p;
	}
	if (!exec || !lib || !mprot || bpf_object__load(obj)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	struct stat self_ns;
	if (stat("/proc/self/ns/mnt", &self_ns) == 0) {
		__u32 key = 0;
		__u64 value = self_ns.st_ino;
		bpf_map__update_elem(bpf_object__find_map_by_name(obj, "lib_config"), &key, sizeof(key), &value,
				     sizeof(value), 0);
	}
	struct bpf_link *exec_link = bpf_program__attach(exec);
	if (!exec_link) {
		fprintf(stderr, "attach exec_btf failed\n");
		return 1;
	}
	char ns_path[64];
	snprintf(ns_path, sizeof(ns_path), "/proc/%s/ns/mnt", argv[2]);
	int ns = open(ns_path, O_RDONLY);
	if (ns < 0) {
		perror("open the container's mount namespace");
		return 1;
	}
	struct ring_buffer *ring = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "events"), drop, NULL, NULL);
	if (!ring) {
		fprintf(stderr, "ring_buffer__new failed\n");
		return 1;
	}
	int stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	char *args[] = {argv[3], "arg-one", NULL};
	double *on = calloc(rounds, sizeof(double)), *off = calloc(rounds, sizeof(double));
	int non = 0, noff = 0;
	unsigned long long lib_cnt = 0, lib_ns = 0, lib_execs = 0, mp_cnt = 0, mp_ns = 0;
	for (int r = 0; r < 2 * rounds; r++) {
		int attached = r % 2 == 1;
		struct bpf_link *lib_link = attached ? bpf_program__attach(lib) : NULL;
		struct bpf_link *mp_link = attached ? bpf_program__attach(mprot) : NULL;
		if (attached && (!lib_link || !mp_link)) {
			fprintf(stderr, "attach library_mmap / library_mprotect failed\n");
			return 1;
		}
		unsigned long long c0, t0, c1, t1, mc0, mt0, mc1, mt1;
		prog_stats(lib, &c0, &t0);
		prog_stats(mprot, &mc0, &mt0);
		double start = now();
		for (int i = 0; i < n; i++) {
			pid_t pid = fork();
			if (pid == 0) {
				if (setns(ns, CLONE_NEWNS) == 0)
					execve(argv[3], args, environ);
				_exit(127);
			}
			int status = 0;
			if (pid > 0)
				waitpid(pid, &status, 0);
			ring_buffer__consume(ring);
			if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "spawn %d of %s in the container failed\n", i, argv[3]);
				return 1;
			}
		}
		double rate = n / (now() - start);
		prog_stats(lib, &c1, &t1);
		prog_stats(mprot, &mc1, &mt1);
		if (attached) {
			on[non++] = rate;
			lib_cnt += c1 - c0;
			lib_ns += t1 - t0;
			mp_cnt += mc1 - mc0;
			mp_ns += mt1 - mt0;
			lib_execs += n;
			bpf_link__destroy(lib_link);
			bpf_link__destroy(mp_link);
		} else {
			off[noff++] = rate;
		}
		printf("round %d library %s: %.0f execs/s\n", r / 2 + 1, attached ? "on " : "off", rate);
	}
	qsort(on, non, sizeof(double), cmp);
	qsort(off, noff, sizeof(double), cmp);
	double mon = on[non / 2], moff = off[noff / 2];
	printf("median execs/s: library off %.0f, on %.0f; ratio on/off %.4f (cost %.1f %%)\n", moff, mon, mon / moff,
	       100.0 * (1 - mon / moff));
	printf("library_mmap: %llu calls, %.0f ns/call, %.2f calls/exec, %.0f ns/exec\n", lib_cnt,
	       lib_cnt ? (double)lib_ns / lib_cnt : 0.0, lib_execs ? (double)lib_cnt / lib_execs : 0.0,
	       lib_execs ? (double)lib_ns / lib_execs : 0.0);
	printf("library_mprotect: %llu calls, %.0f ns/call, %.2f calls/exec, %.0f ns/exec\n", mp_cnt,
	       mp_cnt ? (double)mp_ns / mp_cnt : 0.0, lib_execs ? (double)mp_cnt / lib_execs : 0.0,
	       lib_execs ? (double)mp_ns / lib_execs : 0.0);
	__u64 values[256] = {};
	int cpus = libbpf_num_possible_cpus();
	const char *names[] = {"candidates", "image_layer", "own_exe", "duplicate", "emitted", "ringbuf_full", "noexec",
			       "mprotect_unresolved"};
	int counters = bpf_object__find_map_fd_by_name(obj, "lib_counters");
	for (__u32 k = 0; k < 8 && cpus > 0 && cpus <= 256; k++) {
		unsigned long long sum = 0;
		if (bpf_map_lookup_elem(counters, &k, values) == 0)
			for (int c = 0; c < cpus; c++)
				sum += values[c];
		printf("%s%s %llu", k ? ", " : "counters: ", names[k], sum);
	}
	printf("\n");
	if (stats >= 0)
		close(stats);
	bpf_link__destroy(exec_link);
	bpf_object__close(obj);
	return 0;
}
