/*
 * Exec latency driver: fork+exec+wait of <binary> <count> times, one after the other (one exec in flight: no CPU is
 * contended by the driver itself), timing each from fork to the child's reaped exit. Prints the distribution:
 *   execs=<ok> failed=<failed> min=<ns> p25=<ns> p50=<ns> p75=<ns> p90=<ns> mean=<ns>
 *   exec-latency <binary> <count>
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s <binary> <count>\n", argv[0]);
		return 2;
	}
	long count = atol(argv[2]);
	if (count <= 0)
		return 2;
	long long *ns = malloc(sizeof(long long) * count);
	if (!ns)
		return 1;
	char *const child_argv[] = {argv[1], NULL};
	char *const child_envp[] = {NULL};
	long ok = 0, failed = 0;
	long long sum = 0;
	for (long i = 0; i < count; i++) {
		long long t0 = now_ns();
		pid_t c = fork();
		if (c == 0) {
			execve(argv[1], child_argv, child_envp);
			_exit(127);
		}
		int status;
		if (c < 0 || waitpid(c, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			failed++;
			continue;
		}
		ns[ok] = now_ns() - t0;
		sum += ns[ok++];
	}
	if (ok == 0) {
		printf("execs=0 failed=%ld\n", failed);
		return 1;
	}
	qsort(ns, ok, sizeof(long long), cmp);
	printf("execs=%ld failed=%ld min=%lld p25=%lld p50=%lld p75=%lld p90=%lld mean=%lld\n", ok, failed, ns[0],
	       ns[ok / 4], ns[ok / 2], ns[ok * 3 / 4], ns[ok * 9 / 10], sum / ok);
	return failed ? 1 : 0;
}
