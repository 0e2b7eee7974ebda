/*
 * What one timed wakeup costs this machine: the CPU a thread is charged for each poll(2) that sleeps `ms` and
 * returns, over `n` of them (its own CLOCK_THREAD_CPUTIME_ID, which is what the storm harness's reader-us column
 * reads from schedstat). A reader that drains on a clock pays this per tick, whatever it then decodes.
 *   cc -O2 -o wakeup-cost scripts/bench/wakeup-cost.c && ./wakeup-cost <ms> <n>
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double thread_cpu_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s <ms per sleep> <sleeps>\n", argv[0]);
		return 2;
	}
	int ms = atoi(argv[1]), n = atoi(argv[2]);
	if (ms < 0 || n < 1) {
		fprintf(stderr, "ms must be >= 0 and sleeps >= 1\n");
		return 2;
	}
	double before = thread_cpu_us();
	for (int i = 0; i < n; i++)
		poll(NULL, 0, ms);
	printf("%d ms sleeps: %.1f us of CPU per wakeup (%d wakeups)\n", ms, (thread_cpu_us() - before) / n, n);
	return 0;
}
