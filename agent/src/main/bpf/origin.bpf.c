// SPDX-License-Identifier: GPL-2.0
/*
 * drift-agent origin capture: who wrote a file that later runs. #included at the end of exec.bpf.c, so it shares the
 * events ring, the doorbell rule and the path walk (resolve_path) with the exec programs; its own maps and programs
 * are origin_* (userspace loads them only when it wants write tracking, and turns them off when they fail).
 *
 *   origin_openat, origin_openat2, origin_open, origin_creat : tracepoint/syscalls/sys_exit_<call>
 *       a successful open by a process in a container (mount namespace not the host's, not the agent) of a regular
 *       file for writing (FMODE_WRITE): one write record per (file dev/ino, writer tgid + start time), deduplicated
 *       in an LRU map. The file is the one the fd refers to: for a file on overlayfs the overlay inode, whose
 *       dev/ino are what the exec record reports for the same file; the overlay's own internal open of the upper file
 *       is no syscall, so it is never seen.
 *   origin_connect : tracepoint/sock/inet_sock_set_state, the move to SYN_SENT (a TCP connect, in the connecting
 *       process's context): the process's last TCP peer, copied into its later write records; a process that already
 *       wrote gets a remote record when its peer changes (a downloader may open its output before it connects).
 * Kprobes, fentry and the BPF LSM are not used: this machine kind has none of them (docs/benchmarks.md measures the
 * cost of the syscall tracepoints, which every open on the node passes through).
 */
#include "write_record.h"

#define ORIGIN_MAP_TYPE_HASH      1
#define ORIGIN_FMODE_WRITE        0x2
#define ORIGIN_S_IFMT             00170000
#define ORIGIN_S_IFREG            0100000
#define ORIGIN_TCP_SYN_SENT       2
#define ORIGIN_IPPROTO_TCP        6
#define ORIGIN_AF_INET            2
#define ORIGIN_AF_INET6           10

/* CO-RE flavours of fields kernel_types.h does not list (the ___origin suffix is dropped when matching the kernel) */
struct file___origin {
	unsigned int f_mode;
} __attribute__((preserve_access_index));

struct inode___origin {
	unsigned short i_mode;
} __attribute__((preserve_access_index));

/* the classic tracepoints' records (their format files); fixed by the tracepoint ABI */
struct origin_sys_exit_ctx {
	__u64 common;
	int syscall_nr;
	int pad;
	long ret;
};

struct origin_sock_state_ctx {
	__u64 common;
	const void *skaddr;
	int oldstate;
	int newstate;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u16 protocol;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
};

struct write_record {
	struct record_head head; /* kind WRITE_REC_KIND; flags WRITE_FLAG_*; the file: the one opened for writing */
	__u16 remote_port;
	__u16 remote_family;
	__u8 remote_addr[16];
	__u32 exe_len;
	__u32 argv_len;
	char data[WRITE_REC_DATA_LEN]; /* exe | argv */
};

#define CHECK_WOFF(field, off) _Static_assert(__builtin_offsetof(struct write_record, field) == (off), #field)
CHECK_WOFF(head, 0);
CHECK_WOFF(remote_port, WRITE_REC_OFF_REMOTE_PORT);
CHECK_WOFF(remote_family, WRITE_REC_OFF_REMOTE_FAMILY);
CHECK_WOFF(remote_addr, WRITE_REC_OFF_REMOTE_ADDR);
CHECK_WOFF(exe_len, WRITE_REC_OFF_EXE_LEN);
CHECK_WOFF(argv_len, WRITE_REC_OFF_ARGV_LEN);
CHECK_WOFF(data, WRITE_REC_HDR_SIZE);
_Static_assert(WRITE_REC_DATA_LEN >= WRITE_REC_EXE_MAX + 1 + WRITE_REC_ARGV_MAX, "data holds both sections");

/* key 0: set by userspace after load; host_mnt_ns 0 means "not configured": nothing is recorded */
struct origin_config {
	__u32 host_mnt_ns;
	__u32 agent_tgid;
};

struct origin_seen_key {
	__u64 dev;
	__u64 ino;
	__u64 start_time;
	__u32 tgid;
	__u32 pad;
};

/* a process's last TCP peer, and whether it has written a file since (it then gets remote records) */
struct origin_proc {
	__u64 start_time;
	__u16 port;
	__u16 family;
	__u32 wrote;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct origin_config);
} origin_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct origin_seen_key);
	__type(value, __u8);
} origin_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct origin_proc);
} origin_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct write_record);
} origin_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WRITE_CTR_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} origin_counters SEC(".maps");

static __always_inline void origin_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&origin_counters, &idx);
	if (v)
		*v += 1;
}

/* whether the current task is one whose writes are recorded: configured, in a mount namespace not the host's, not
 * the agent; sets *mnt_ns */
static __always_inline int origin_tracked(struct task_struct *task, __u32 *mnt_ns)
{
	__u32 zero = 0;
	struct origin_config *cfg = bpf_map_lookup_elem(&origin_config, &zero);
	if (!cfg || cfg->host_mnt_ns == 0)
		return 0;
	__u32 ns = task_mnt_ns(task);
	if (ns == cfg->host_mnt_ns || (bpf_get_current_pid_tgid() >> 32) == cfg->agent_tgid)
		return 0;
	*mnt_ns = ns;
	return 1;
}

static __always_inline void origin_ring_output(struct write_record *rec, __u64 size)
{
	/* never rung for by itself: the exec record that follows rings (or the reader's own clock drains it); only the
	 * backlog safety net of the exec program applies */
	if (ring_emit(rec, size, 0) < 0)
		origin_count(WRITE_CTR_RINGBUF_FULL);
}

/*
 * The write record's sections and its output: the writer's exe path (its mm->exe_file through the exec program's
 * path walk) and argv. A global function: verified once for the four open programs.
 */
__noinline int origin_emit(__u64 file_dev, __u64 file_ino, __u32 mnt_ns, __u64 start_time)
{
	__u32 zero = 0;
	struct write_record *rec = bpf_map_lookup_elem(&origin_scratch, &zero);
	struct exec_scratch *s = scratch_record();
	struct task_struct *task = (void *)bpf_get_current_task();
	if (!rec || !s || !task)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	fill_head(&rec->head, WRITE_REC_KIND, task, mnt_ns, start_time);
	rec->head.flags = 0;
	rec->head.file_dev = file_dev;
	rec->head.file_ino = file_ino;
	rec->remote_port = 0;
	rec->remote_family = 0;
	__builtin_memset(rec->remote_addr, 0, sizeof(rec->remote_addr));

	struct origin_proc *proc = bpf_map_lookup_elem(&origin_procs, &tgid);
	if (proc && proc->start_time == start_time) {
		rec->remote_port = proc->port;
		rec->remote_family = proc->family;
		__builtin_memcpy(rec->remote_addr, proc->addr, sizeof(rec->remote_addr));
		proc->wrote = 1;
	} else {
		struct origin_proc fresh = { .start_time = start_time, .wrote = 1 };
		bpf_map_update_elem(&origin_procs, &tgid, &fresh, 0);
	}

	__u32 el = 0;
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe) {
		el = resolve_path((__u64)exe);
		if (s->path_flags & EXEC_FLAG_PATH_TRUNC)
			rec->head.flags |= WRITE_FLAG_EXE_TRUNC;
	}
	if (el > WRITE_REC_EXE_MAX)
		el = 0;
	__u32 start = s->path_start;
	barrier_var(el);
	el &= WRITE_REC_EXE_MAX;
	if (el && bpf_probe_read_kernel(rec->data, el, &s->path[start & (PATH_BUF_END - 1)]) < 0)
		el = 0;
	barrier_var(el);
	el &= WRITE_REC_EXE_MAX;

	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long arg_start = BPF_CORE_READ(mm, arg_start);
	unsigned long arg_end = BPF_CORE_READ(mm, arg_end);
	__u64 al = arg_end > arg_start ? arg_end - arg_start : 0;
	if (al > WRITE_REC_ARGV_MAX) {
		al = WRITE_REC_ARGV_MAX;
		rec->head.flags |= WRITE_FLAG_ARGV_TRUNC;
	}
	barrier_var(al);
	al &= 2 * WRITE_REC_ARGV_MAX - 1;
	if (al > WRITE_REC_ARGV_MAX)
		al = 0;
	if (al && bpf_probe_read_user(&rec->data[el], al, (void *)arg_start) < 0)
		al = 0;
	rec->exe_len = el;
	rec->argv_len = al;
	__u64 size = WRITE_REC_HDR_SIZE + el + al;
	if (size > sizeof(*rec))
		return 0;
	origin_ring_output(rec, size);
	origin_count(WRITE_CTR_EMITTED);
	return 0;
}

/* a file descriptor of the current task: if a regular file open for writing and the task tracked, the first time
 * per (file, writer), a write record. A global function: verified once for every program that calls it. */
__noinline int origin_on_fd(long fd)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	if (!task || fd < 0)
		return 0;
	struct file *f = task_fd_file(task, fd);
	if (!f)
		return 0;
	if (!(BPF_CORE_READ((struct file___origin *)f, f_mode) & ORIGIN_FMODE_WRITE))
		return 0;
	__u32 mnt_ns;
	if (!origin_tracked(task, &mnt_ns))
		return 0;
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	if (!inode || (BPF_CORE_READ((struct inode___origin *)inode, i_mode) & ORIGIN_S_IFMT) != ORIGIN_S_IFREG)
		return 0;
	origin_count(WRITE_CTR_OPENS);
	struct origin_seen_key key = {};
	file_id(f, &key.dev, &key.ino);
	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.start_time = process_start_time(task);
	__u8 one = 1;
	if (bpf_map_update_elem(&origin_seen, &key, &one, 1 /* BPF_NOEXIST */) != 0)
		return 0; /* seen: this writer's record for this file is out already */
	origin_emit(key.dev, key.ino, mnt_ns, key.start_time);
	return 0;
}

static __always_inline int origin_on_open(long fd)
{
	if (fd < 0)
		return 0;
	return origin_on_fd(fd);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int origin_openat(struct origin_sys_exit_ctx *ctx)
{
	return origin_on_open(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int origin_openat2(struct origin_sys_exit_ctx *ctx)
{
	return origin_on_open(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_open")
int origin_open(struct origin_sys_exit_ctx *ctx)
{
	return origin_on_open(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int origin_creat(struct origin_sys_exit_ctx *ctx)
{
	return origin_on_open(ctx->ret);
}

/* a regular file open for writing (a pipe or a terminal, the usual stdout, is not) */
static __always_inline int origin_writable_regular(struct file *f)
{
	if (!f || !(BPF_CORE_READ((struct file___origin *)f, f_mode) & ORIGIN_FMODE_WRITE))
		return 0;
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	return inode && (BPF_CORE_READ((struct inode___origin *)inode, i_mode) & ORIGIN_S_IFMT) == ORIGIN_S_IFREG;
}

/*
 * An exec in a container: a file the new program writes through an inherited descriptor (stdout/stdin/stderr, where
 * a shell's redirection puts it: ash and dash open `> f` in the shell itself, then fork and exec the command) has
 * that program as its writer from now on.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(origin_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	/* the tracepoint's task is BTF-typed: the namespace check and the way to the descriptor table are plain loads,
	 * the three descriptors one helper read; only a descriptor open for writing goes on to origin_on_fd's checks */
	__u32 zero = 0;
	struct origin_config *cfg = bpf_map_lookup_elem(&origin_config, &zero);
	if (!cfg || cfg->host_mnt_ns == 0 || task->nsproxy->mnt_ns->ns.inum == cfg->host_mnt_ns ||
	    task->tgid == cfg->agent_tgid)
		return 0; /* the host's execs: before any descriptor is looked at */
	struct files_struct *files = task->files;
	struct fdtable *fdt = files ? files->fdt : NULL;
	if (!fdt || fdt->max_fds < 3)
		return 0;
	struct file *fds[3] = {};
	if (bpf_probe_read_kernel(fds, sizeof(fds), fdt->fd) < 0)
		return 0;
	if (origin_writable_regular(fds[1]))
		origin_on_fd(1);
	if (origin_writable_regular(fds[0]))
		origin_on_fd(0);
	if (origin_writable_regular(fds[2]))
		origin_on_fd(2);
	return 0;
}

/* a TCP connect (SYN_SENT, in the connecting process's context): the process's last peer */
SEC("tracepoint/sock/inet_sock_set_state")
int origin_connect(struct origin_sock_state_ctx *ctx)
{
	if (ctx->newstate != ORIGIN_TCP_SYN_SENT || ctx->protocol != ORIGIN_IPPROTO_TCP)
		return 0;
	struct task_struct *task = (void *)bpf_get_current_task();
	__u32 mnt_ns;
	if (!origin_tracked(task, &mnt_ns))
		return 0;
	origin_count(WRITE_CTR_CONNECTS);
	struct origin_proc now = {};
	now.start_time = process_start_time(task);
	now.port = ctx->dport;
	now.family = ctx->family;
	if (ctx->family == ORIGIN_AF_INET6)
		__builtin_memcpy(now.addr, ctx->daddr_v6, 16);
	else
		__builtin_memcpy(now.addr, ctx->daddr, 4);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct origin_proc *was = bpf_map_lookup_elem(&origin_procs, &tgid);
	int tell = 0;
	if (was && was->start_time == now.start_time) {
		now.wrote = was->wrote;
		__u64 a0, a1, b0, b1;
		__builtin_memcpy(&a0, was->addr, 8);
		__builtin_memcpy(&a1, was->addr + 8, 8);
		__builtin_memcpy(&b0, now.addr, 8);
		__builtin_memcpy(&b1, now.addr + 8, 8);
		tell = was->wrote && (was->port != now.port || was->family != now.family || a0 != b0 || a1 != b1);
	}
	bpf_map_update_elem(&origin_procs, &tgid, &now, 0);
	if (!tell)
		return 0;
	struct write_record *rec;
	__u32 zero = 0;
	rec = bpf_map_lookup_elem(&origin_scratch, &zero);
	if (!rec)
		return 0;
	fill_head(&rec->head, WRITE_REC_KIND, task, mnt_ns, now.start_time);
	rec->head.flags = WRITE_FLAG_REMOTE_UPDATE;
	rec->remote_port = now.port;
	rec->remote_family = now.family;
	__builtin_memcpy(rec->remote_addr, now.addr, 16);
	rec->head.file_dev = rec->head.file_ino = 0;
	rec->exe_len = rec->argv_len = 0;
	origin_ring_output(rec, WRITE_REC_HDR_SIZE);
	origin_count(WRITE_CTR_REMOTE_UPDATES);
	return 0;
}
