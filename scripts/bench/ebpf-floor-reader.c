/*
 * The floor of eBPF observing: the agent's own exec program (exec.bpf.o, as built by Maven) attached through libbpf
 * and its ring drained by a minimal C reader on a fixed clock, touching every byte of every record but decoding
 * nothing. What an exec storm loses with this attached is what the kernel side and the cheapest possible reader
 * cost, whatever the Java reader adds on top.
 *   ebpf-floor-reader <exec.bpf.o> <clock ms> <reader state: 1 polling | 2 lazy>
 * Runs until SIGTERM/SIGINT; prints the records it read on stderr.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static long records;
static volatile unsigned long checksum;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_record(void *ctx, void *data, size_t size)
{
	unsigned long sum = 0;
	(void)ctx;
	for (size_t i = 0; i + 8 <= size; i += 8)
		sum += *(unsigned long *)((char *)data + i);
	checksum += sum;
	records++;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s <exec.bpf.o> <clock ms> <reader state 1|2>\n", argv[0]);
		return 2;
	}
	long clock_ms = atol(argv[2]);
	__u32 state = (__u32)atoi(argv[3]);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		perror("open");
		return 1;
	}
	bpf_program__set_autoload(bpf_object__find_program_by_name(obj, "exec_tp"), false);
	bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "events"), 2 * 1024 * 1024);
	bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "doorbell"), (__u32)sysconf(_SC_PAGESIZE));
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	struct bpf_link *link = bpf_program__attach(bpf_object__find_program_by_name(obj, "exec_btf"));
	if (!link) {
		fprintf(stderr, "attach failed\n");
		return 1;
	}
	__u32 zero = 0;
	bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "reader_state")), &zero, &state, 0);
	struct ring_buffer *ring = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "events")), on_record,
						    NULL, NULL);
	if (!ring) {
		fprintf(stderr, "ring_buffer__new failed\n");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	struct timespec tick = {clock_ms / 1000, (clock_ms % 1000) * 1000000L};
	while (!stop) {
		nanosleep(&tick, NULL);
		ring_buffer__consume(ring);
	}
	fprintf(stderr, "records %ld\n", records);
	ring_buffer__free(ring);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
