/*
 * The floor of fanotify blocking: a guard that answers FAN_ALLOW to every FAN_OPEN_EXEC_PERM event on one filesystem
 * without looking at it (no statx, no /proc, no decision). What an exec storm loses with this guard attached is what
 * the permission round trip itself costs, whatever a real guard does on top.
 *   perm-floor-guard <path on the filesystem to guard> <threads>
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/fanotify.h>
#include <unistd.h>

static int group;

static void *answer_all(void *unused)
{
	char buf[4096];
	(void)unused;
	for (;;) {
		ssize_t n = read(group, buf, sizeof(buf));
		if (n <= 0)
			continue;
		struct fanotify_event_metadata *m = (void *)buf;
		for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			if (m->fd < 0)
				continue;
			struct fanotify_response r = {.fd = m->fd, .response = FAN_ALLOW};
			if (write(group, &r, sizeof(r)) != sizeof(r))
				perror("fanotify response");
			close(m->fd);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s <path> <threads>\n", argv[0]);
		return 2;
	}
	group = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE);
	if (group < 0 || fanotify_mark(group, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM, AT_FDCWD, argv[1])) {
		perror("fanotify");
		return 1;
	}
	for (int i = 0; i < atoi(argv[2]); i++) {
		pthread_t t;
		pthread_create(&t, NULL, answer_all, NULL);
	}
	pause();
	return 0;
}
