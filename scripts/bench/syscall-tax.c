/*
 * The cost every process of a node pays per system call while the agent runs: loops of getppid(), open+close of
 * /dev/null and an anonymous mmap+munmap, each timed; prints ns per iteration of each.
 *   cc -O2 -o syscall-tax scripts/bench/syscall-tax.c && ./syscall-tax <iterations>
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	double t0 = now();
	for (long i = 0; i < n; i++)
		getppid();
	double t1 = now();
	for (long i = 0; i < n; i++)
		close(open("/dev/null", O_RDONLY));
	double t2 = now();
	for (long i = 0; i < n; i++)
		munmap(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), 4096);
	double t3 = now();
	printf("getppid %.1f open+close %.1f mmap+munmap %.1f\n", (t1 - t0) / n, (t2 - t1) / n, (t3 - t2) / n);
	return 0;
}
