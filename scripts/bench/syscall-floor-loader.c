/*
 * Loads and attaches syscall-floor.bpf.o (empty programs on every system call's entry and exit), then waits for
 * SIGTERM/SIGINT and prints how many calls the programs saw.
 *   cc -O2 -o syscall-floor-loader scripts/bench/syscall-floor-loader.c -lbpf && ./syscall-floor-loader <object>
 */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s <syscall-floor.bpf.o>\n", argv[0]);
		return 2;
	}
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "cannot load %s\n", argv[1]);
		return 1;
	}
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "cannot attach %s\n", bpf_program__name(prog));
			return 1;
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("attached\n");
	fflush(stdout);
	while (!stop)
		pause();
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".bss");
	__u64 counts[2] = {0, 0};
	int zero = 0;
	if (map)
		bpf_map__lookup_elem(map, &zero, sizeof(zero), counts, sizeof(counts), 0);
	fprintf(stderr, "sys_enter runs %llu, sys_exit runs %llu\n", counts[0], counts[1]);
	bpf_object__close(obj);
	return 0;
}
