/*
 * Exec storm driver: <workers> processes each fork+exec <binary> until <count> execs are done in total, as fast as
 * the machine allows (or, with <interval_us>, each worker starts one exec every <interval_us> microseconds at most).
 * Prints "execs=<done> failed=<failed> ns=<wall ns> cpu_ns=<user + system CPU of every process it started>" on stdout.
 *   storm <binary> <count> <workers> [interval_us]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s <binary> <count> <workers> [interval_us]\n", argv[0]);
		return 2;
	}
	const char *binary = argv[1];
	long count = atol(argv[2]);
	int workers = atoi(argv[3]);
	long long interval_ns = argc == 5 ? atoll(argv[4]) * 1000LL : 0;
	if (count <= 0 || workers <= 0 || interval_ns < 0)
		return 2;
	/* per-worker results, shared with the parent */
	long *done = mmap(NULL, sizeof(long) * 2 * workers, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (done == MAP_FAILED)
		return 1;
	char *const child_argv[] = {(char *)binary, NULL};
	char *const child_envp[] = {NULL};

	long long start = now_ns();
	for (int w = 0; w < workers; w++) {
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			long mine = count / workers + (w < count % workers ? 1 : 0);
			long ok = 0, failed = 0;
			long long next = now_ns();
			for (long i = 0; i < mine; i++) {
				if (interval_ns > 0) {
					next += interval_ns;
					long long wait = next - now_ns();
					if (wait > 0) {
						struct timespec ts = {wait / 1000000000LL, wait % 1000000000LL};
						nanosleep(&ts, NULL);
					}
				}
				pid_t c = fork();
				if (c == 0) {
					execve(binary, child_argv, child_envp);
					_exit(127);
				}
				int status;
				if (c < 0 || waitpid(c, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
					failed++;
				else
					ok++;
			}
			done[2 * w] = ok;
			done[2 * w + 1] = failed;
			_exit(0);
		}
	}
	for (int w = 0; w < workers; w++)
		wait(NULL);
	long long elapsed = now_ns() - start;
	long ok = 0, failed = 0;
	for (int w = 0; w < workers; w++) {
		ok += done[2 * w];
		failed += done[2 * w + 1];
	}
	/* the workers waited for their execs and this process for the workers: their CPU is all in RUSAGE_CHILDREN */
	struct rusage ru;
	if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
		return 1;
	long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL
			+ (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
	printf("execs=%ld failed=%ld ns=%lld cpu_ns=%lld\n", ok, failed, elapsed, cpu);
	return failed ? 1 : 0;
}
