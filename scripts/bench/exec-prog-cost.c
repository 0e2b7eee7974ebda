/*
 * The exec program's own cost per exec, read from the kernel's bpf_stats (run_time_ns / run_cnt): loads one
 * exec.bpf.o (its exec_btf program only), attaches it, spawns /bin/true N times with two arguments, prints the
 * average over every exec the program saw meanwhile (the machine's own execs included). Nobody drains the ring:
 * keep N under what its 16 MiB hold (about 40,000 common records).
 *   cc -O2 -o exec-prog-cost scripts/bench/exec-prog-cost.c -lbpf && ./exec-prog-cost <exec.bpf.o> <N>
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s <exec.bpf.o> <execs>\n", argv[0]);
		return 2;
	}
	int n = atoi(argv[2]);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		perror("open");
		return 1;
	}
	struct bpf_program *p, *prog = NULL;
	bpf_object__for_each_program(p, obj) {
		int want = strcmp(bpf_program__name(p), "exec_btf") == 0;
		bpf_program__set_autoload(p, want);
		if (want)
			prog = p;
	}
	if (!prog || bpf_object__load(obj)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	struct bpf_link *link = bpf_program__attach(prog);
	if (!link) {
		fprintf(stderr, "attach failed\n");
		return 1;
	}
	int stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	char *args[] = {"/bin/true", "arg-one", "arg-two", NULL};
	for (int i = 0; i < n; i++) {
		pid_t pid;
		if (posix_spawn(&pid, "/bin/true", NULL, NULL, args, environ) == 0)
			waitpid(pid, NULL, 0);
	}
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len);
	printf("%s: run_cnt %llu run_time_ns %llu = %.0f ns/exec\n", argv[1], (unsigned long long)info.run_cnt,
	       (unsigned long long)info.run_time_ns, info.run_cnt ? (double)info.run_time_ns / info.run_cnt : 0.0);
	if (stats >= 0)
		close(stats);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
