// SPDX-License-Identifier: GPL-2.0
/*
 * drift-agent exec capture: one record per successful exec (a container's known image exec: at its process's first
 * fork, or never; "Image-layer execs kept in the kernel" below), with the kernel's own facts about the
 * executed file (dev/ino in stat(2) encoding, overlay / upper layer / memfd / unlinked flags), its path resolved
 * from its dentries (not the name the exec was given), the new image's argv, the process's credentials, its working
 * directory and its lineage (ancestors and session leader in its pid namespace).
 * A record is built in a per-CPU scratch buffer and copied into the ring at its used length (exec_record.h).
 *
 * Two programs, one chosen at load time by userspace (the other has its autoload disabled):
 *   exec_btf : tp_btf/sched_process_exec  (BTF-typed raw tracepoint: task, old_pid, bprm)
 *   exec_tp  : tracepoint/sched/sched_process_exec (classic; no bprm: the file comes from mm->exe_file)
 * and beside exec_btf, in the object with direct reads only, fork_btf (tp_btf/sched_process_fork), which sends the
 * execs exec_btf kept.
 */
#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "exec_record.h"
/* the record head, the events ring and its doorbell, the helpers the exec, library and origin programs share */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define __FMODE_EXEC 0x20            /* in f_flags (not f_mode) of files opened by do_open_execat */
#define MAX_TASK_WORKS 1024
/*
 * Wakeups. A wakeup is an irq_work (a self-interrupt: on a VM an exit to the hypervisor) and then a reader woken from
 * a timer-less sleep, so the program wakes the reader as little as it can. Records go into the events ring without a
 * wakeup; the reader waits on the doorbell ring, and the program rings it (an 8-byte record into a ring the kernel
 * wakes for only when the reader has drained it) by the reader's state: SLEEPING, for every record (an exec on a
 * quiet node is handed on at once); LAZY (an exec storm of image-layer files), only for a record that may be drift;
 * POLLING (the reader drains every couple of milliseconds), never. In any state a backlog over a quarter of the
 * events ring rings it too: a safety net for a reader that fell behind.
 * The state is read after the record is committed: the commit is a full barrier (an xchg on its header), and the
 * reader writes its state before draining again, so a record either sees the new state or is seen by that drain.
 */
struct exec_record {
	struct record_head head; /* kind EXEC_REC_VERSION; flags EXEC_FLAG_*; the file: the one exec'd (the script) */
	__u64 interp_dev;
	__u64 interp_ino;
	__u32 euid;
	__u32 egid;
	__u32 loginuid;
	__u32 sessionid;
	__u32 argc;
	__u32 filename_len;
	__u32 path_len;
	__u32 argv_len;
	char comm[EXEC_REC_COMM_LEN];
	char parent_comm[EXEC_REC_COMM_LEN];
	__u64 parent_start_time;
	__u64 leader_start_time;
	__u32 leader_tgid;
	__u32 leader_ns_pid;
	__u32 ancestor_count;
	__u32 cwd_len;
	__u32 ancestor_tgid[EXEC_REC_ANCESTORS_MAX];
	__u64 ancestor_start[EXEC_REC_ANCESTORS_MAX];
	char data[EXEC_REC_DATA_LEN]; /* filename | path | argv | cwd, each *_len bytes */
};

#define CHECK_OFF(field, off) _Static_assert(__builtin_offsetof(struct exec_record, field) == (off), #field)
CHECK_OFF(head, 0);
CHECK_OFF(interp_dev, EXEC_REC_OFF_INTERP_DEV);
CHECK_OFF(interp_ino, EXEC_REC_OFF_INTERP_INO);
CHECK_OFF(euid, EXEC_REC_OFF_EUID);
CHECK_OFF(egid, EXEC_REC_OFF_EGID);
CHECK_OFF(loginuid, EXEC_REC_OFF_LOGINUID);
CHECK_OFF(sessionid, EXEC_REC_OFF_SESSIONID);
CHECK_OFF(argc, EXEC_REC_OFF_ARGC);
CHECK_OFF(filename_len, EXEC_REC_OFF_FILENAME_LEN);
CHECK_OFF(path_len, EXEC_REC_OFF_PATH_LEN);
CHECK_OFF(argv_len, EXEC_REC_OFF_ARGV_LEN);
CHECK_OFF(comm, EXEC_REC_OFF_COMM);
CHECK_OFF(parent_comm, EXEC_REC_OFF_PARENT_COMM);
CHECK_OFF(parent_start_time, EXEC_REC_OFF_PARENT_START_TIME);
CHECK_OFF(leader_start_time, EXEC_REC_OFF_LEADER_START_TIME);
CHECK_OFF(leader_tgid, EXEC_REC_OFF_LEADER_TGID);
CHECK_OFF(leader_ns_pid, EXEC_REC_OFF_LEADER_NS_PID);
CHECK_OFF(ancestor_count, EXEC_REC_OFF_ANCESTOR_COUNT);
CHECK_OFF(cwd_len, EXEC_REC_OFF_CWD_LEN);
CHECK_OFF(ancestor_tgid, EXEC_REC_OFF_ANCESTOR_TGID);
CHECK_OFF(ancestor_start, EXEC_REC_OFF_ANCESTOR_START);
CHECK_OFF(data, EXEC_REC_HDR_SIZE);
_Static_assert(EXEC_REC_DATA_LEN >= (EXEC_REC_FILENAME_MAX + 1) + (EXEC_REC_PATH_MAX + 1) + EXEC_REC_ARGV_MAX +
	       (EXEC_REC_CWD_MAX + 1), "data holds the four sections at their bounds");
_Static_assert((EXEC_REC_ANCESTORS_MAX & (EXEC_REC_ANCESTORS_MAX - 1)) == 0, "ancestor indexes are masked");

/* the path walk writes backwards from PATH_BUF_END; offsets are masked to PATH_BUF_END - 1 and names to 255 bytes,
 * so the buffer is twice that: every masked write stays inside it whatever the verifier assumes */
#define PATH_BUF_END 4096
#define PATH_WALK_MAX 1024         /* dentries + mount crossings walked (bpf_loop): deeper is a flagged suffix */
#define PATH_WALK_MAX_UNROLLED 16  /* the same without bpf_loop (kernels before 5.17) */
struct path_walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	int pos;  /* the path is path[pos, PATH_BUF_END) */
	int end;  /* 0: walking; 1: met the process's root; 2: met a root that is not the process's; 3: too long */
};

#define LINEAGE_WALK_MAX 64          /* real_parent steps to the session leader (bpf_loop) */
#define LINEAGE_WALK_MAX_UNROLLED 16 /* the same without bpf_loop */
struct lineage_walk {
	struct task_struct *task;  /* the topmost process reached in the namespace (a thread-group leader) */
	struct pid_namespace *ns;  /* the exec'ing task's pid namespace */
	__u32 level;               /* its level (0, the host's, is not walked) */
	__u32 n;                   /* ancestors recorded */
	__s32 leader_nr;           /* task's pid in ns */
	int end;  /* 0: walking; 1: met the namespace's boundary or the top */
};

struct exec_scratch {
	struct exec_record rec;
	struct path_walk walk;
	struct lineage_walk lineage;
	__u32 path_start; /* where resolve_path's result starts in path */
	__u32 path_flags; /* the EXEC_FLAG_PATH_* flags it found */
	char path[2 * PATH_BUF_END];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EXEC_CTR_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/*
 * Image-layer execs kept in the kernel. Most of a node's execs are its containers' own image files: a shell's loop, a
 * probe, a storm of them. The agent never alerts on one, and needs one's facts only when its process becomes someone's
 * ancestor or parent. So an exec that the agent already knows to be its container's image file (the rule of
 * pipeline/KnownImageExecs, which fills image_roots: the kernel flags it image-layer, and its file is on the overlay
 * the agent placed the container's earlier image execs on, by cgroup) is not sent: its process is marked (kept_execs,
 * the exec's time) and its record is built and sent when the process first forks (fork_btf), before its child can
 * run, so every ancestor and parent the agent is told of was sent before its descendants. A process that exits
 * without forking costs the agent nothing. image_keep (userspace) turns this off while the agent must see every exec
 * (blocking wants them, or a self-test canary is watched), and only the program with direct reads has the fork
 * program: elsewhere every exec is sent.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);   /* cgroup id */
	__type(value, __u64); /* the container root overlay's device, stat(2) encoding */
} image_roots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32); /* 1: keep image-layer execs of known roots */
} image_keep SEC(".maps");

struct kept_exec {
	__u64 exec_time; /* the kept exec's timestamp; 0: nothing kept (sent, or a later exec was sent) */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kept_exec);
} kept_execs SEC(".maps");

/* the deferred-fput callback: identifies struct files queued on current->task_works (see find_script_file) */
extern const void ____fput __ksym __weak;

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	if (v)
		*v += 1;
}

/*
 * How the walks (the path's dentries and mounts, the ancestors) read the kernel's structures. Their position is kept
 * in the scratch map between bpf_loop steps, where a pointer loses its type. Built with DRIFT_DIRECT_READS (the
 * default object, exec.bpf.o: kernels with the bpf_rdonly_cast kfunc, 6.2 and later) the pointer is typed again
 * (the verifier turns the call into a move) and each field is a plain load; without it (exec-helper-reads.bpf.o,
 * which the agent loads when the kernel refuses the other) each field is one bpf_probe_read_kernel call, which
 * costs the exec program about a third more in a container (docs/benchmarks.md).
 */
#ifdef DRIFT_DIRECT_READS
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define TYPED(type, p) ((type *)bpf_rdonly_cast((p), bpf_core_type_id_kernel(type)))
#define KREAD(type, p, field) (TYPED(type, p)->field)
#else
#define KREAD(type, p, field) BPF_CORE_READ((type *)(p), field)
#endif

/* whether the file's dentry name equals comm (NUL-terminated, at most 15 bytes; longer names compare on 15) */
static __always_inline int dentry_name_is(struct file *f, const char *comm)
{
	char name[EXEC_REC_COMM_LEN] = {};
	const unsigned char *dname = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	if (!dname || bpf_probe_read_kernel_str(name, sizeof(name), dname) < 0)
		return 0;
	for (int i = 0; i < EXEC_REC_COMM_LEN; i++) {
		if (name[i] != comm[i])
			return 0;
		if (!name[i])
			return 1;
	}
	return 1;
}

/*
 * The #! script's own struct file. binfmt_script swaps bprm->file to the interpreter and fput()s the script
 * (bprm->executable keeps it only for binfmt_misc's 'O' flag). The final fput of a file opened in task
 * context is deferred to current->task_works (____fput), which run on the return to user space, i.e. after
 * this tracepoint: the script's struct file is still intact here.
 * The list is LIFO and was empty when execve() entered the kernel (task works run on every return to user
 * space). The script was queued first, in exec_binprm(); begin_new_exec() queued later the old image's files
 * (its exe_file and ELF interpreter, also opened by open_exec, so also __FMODE_EXEC) and the close-on-exec
 * fds. So the script is the DEEPEST exec-opened (__FMODE_EXEC in f_flags) file other than the interpreter, and
 * the whole list must be walked: a truncated walk would return the old image's exe_file, so it returns NULL.
 * With nested interpreters the outermost script was queued first: it is the deepest, as wanted.
 * match_comm (the classic tracepoint has no bprm to say "interpreted"): also require the dentry name to equal
 * the new comm, which exec set to the basename of the exec'd name (15 bytes).
 */
static __always_inline struct file *find_script_file(struct task_struct *task, struct inode *interp_inode,
						     const char *comm, int match_comm)
{
	struct file *found = NULL;
	unsigned long fput_fn = (unsigned long)&____fput;
	if (!fput_fn)
		return NULL;
	struct callback_head *cb = BPF_CORE_READ(task, task_works);
	unsigned long work_off = bpf_core_field_offset(struct file, f_task_work);
	for (int i = 0; i < MAX_TASK_WORKS; i++) {
		if (!cb)
			return found;
		if ((unsigned long)BPF_CORE_READ(cb, func) == fput_fn) {
			struct file *f = (void *)((char *)cb - work_off);
			if ((BPF_CORE_READ(f, f_flags) & __FMODE_EXEC) && BPF_CORE_READ(f, f_inode) != interp_inode) {
				if (!match_comm || dentry_name_is(f, comm))
					found = f;
			}
		}
		cb = BPF_CORE_READ(cb, next);
	}
	return NULL; /* list longer than we walk: the deepest entry is unknown */
}

static __always_inline void fill_common(struct exec_record *rec, struct task_struct *task)
{
	/* start_boottime (CLOCK_BOOTTIME, what /proc/<pid>/stat field 22 is derived from); de_thread() copied the
	 * thread-group leader's value, so the task's own is the process's start time */
	fill_head(&rec->head, EXEC_REC_VERSION, task, task_mnt_ns(task), start_of(task));
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
}

/* fills the file facts; returns the file the record describes (the script, else the loaded file), NULL if unknown */
static __always_inline struct file *fill_files(struct exec_record *rec, struct task_struct *task,
					       struct file *loaded, int interpreted)
{
	struct inode *loaded_inode = BPF_CORE_READ(loaded, f_inode);
	struct file *script = NULL;

	rec->head.file_dev = rec->head.file_ino = rec->interp_dev = rec->interp_ino = 0;
	if (interpreted)
		script = find_script_file(task, loaded_inode, rec->comm, interpreted == 2);
	if (script) {
		rec->head.flags |= EXEC_FLAG_INTERPRETED;
		file_id(script, &rec->head.file_dev, &rec->head.file_ino);
		file_id(loaded, &rec->interp_dev, &rec->interp_ino);
		rec->head.flags |= file_flags(script);
		return script;
	} else if (interpreted == 1) {
		/* known to be interpreted, script not found: report the interpreter only; the file stays unknown
		 * rather than describing the interpreter as if it were what ran */
		rec->head.flags |= EXEC_FLAG_INTERPRETED | EXEC_FLAG_SCRIPT_UNRESOLVED;
		file_id(loaded, &rec->interp_dev, &rec->interp_ino);
		return NULL;
	}
	file_id(loaded, &rec->head.file_dev, &rec->head.file_ino);
	rec->head.flags |= file_flags(loaded);
	return loaded;
}

/*
 * tp_btf variants: the tracepoint's arguments are BTF-typed pointers, so their fields are read with plain loads
 * (CO-RE relocated, a faulting load reads 0) instead of one bpf_probe_read_kernel call per field as above. This is
 * the path of every exec on a kernel with BTF; the classic tracepoint program keeps the helper reads.
 */
static __always_inline void fill_common_btf(struct exec_record *rec, struct task_struct *task)
{
	__u64 ugid = bpf_get_current_uid_gid();
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	rec->head.kind = EXEC_REC_VERSION;
	rec->head.pid = (__u32)pid_tgid;
	rec->head.tgid = pid_tgid >> 32;
	rec->head.ppid = task->real_parent->tgid;
	rec->head.uid = (__u32)ugid;
	rec->head.gid = ugid >> 32;
	rec->head.mnt_ns = task->nsproxy->mnt_ns->ns.inum;
	if (bpf_core_field_exists(task->start_boottime))
		rec->head.start_time = task->start_boottime;
	else
		rec->head.start_time = task->start_time;
	rec->head.timestamp = bpf_ktime_get_ns();
	rec->head.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));
}

static __always_inline void file_id_btf(struct file *f, __u64 *dev, __u64 *ino)
{
	struct inode *inode = f->f_inode;
	if (!inode)
		return;
	*ino = inode->i_ino;
	*dev = encode_dev(inode->i_sb->s_dev);
}

static __always_inline __u32 file_flags_btf(struct file *f)
{
	__u32 flags = 0;
	struct inode *inode = f->f_inode;
	if (!inode)
		return 0;

	unsigned long magic = inode->i_sb->s_magic;
	if (magic == OVERLAYFS_SUPER_MAGIC) {
		flags |= EXEC_FLAG_OVERLAY;
		if (bpf_core_type_exists(struct ovl_inode___drift)) {
			/* container_of leaves BTF typing: this one read goes through the helper */
			unsigned long off = bpf_core_field_offset(struct ovl_inode___drift, vfs_inode);
			struct ovl_inode___drift *oi = (void *)((char *)inode - off);
			if (BPF_CORE_READ(oi, __upperdentry))
				flags |= EXEC_FLAG_UPPER;
		}
	}

	if (inode->__i_nlink == 0)
		flags |= EXEC_FLAG_UNLINKED;

	if (may_be_memfd(magic) && name_is_memfd(f->f_path.dentry->d_name.name))
		flags |= EXEC_FLAG_MEMFD;
	return flags;
}

/* the credentials exec installed, the audit ids, the parent's comm (both programs) */
static __always_inline void fill_process(struct exec_record *rec, struct task_struct *task)
{
	const struct cred *cred = KREAD(struct task_struct, task, cred);
	rec->euid = KREAD(struct cred, cred, euid.val);
	rec->egid = KREAD(struct cred, cred, egid.val);
	if (bpf_core_field_exists(task->loginuid) && bpf_core_field_exists(task->sessionid)) {
		rec->loginuid = KREAD(struct task_struct, task, loginuid.val);
		rec->sessionid = KREAD(struct task_struct, task, sessionid);
	} else {
		rec->loginuid = rec->sessionid = 0;
		rec->head.flags |= EXEC_FLAG_AUDIT_UNKNOWN;
	}
	struct task_struct *parent = KREAD(struct task_struct, task, real_parent);
#ifdef DRIFT_DIRECT_READS
	/* comm is NUL-padded (set_task_comm), so its 16 bytes are the string: two plain loads */
	if (parent)
		__builtin_memcpy(rec->parent_comm, TYPED(struct task_struct, parent)->comm, sizeof(rec->parent_comm));
	else
		rec->parent_comm[0] = 0;
#else
	if (!parent || bpf_probe_read_kernel_str(rec->parent_comm, sizeof(rec->parent_comm),
						 __builtin_preserve_access_index(&parent->comm)) < 0)
		rec->parent_comm[0] = 0;
#endif
}

/*
 * The file's path as the process sees it, built from the dentries up, as d_path() does: each name is prepended
 * until the process's root (task->fs->root) is met; at the root of a mount the walk goes on from the mountpoint in
 * the parent mount (struct mount: mnt_parent, mnt_mountpoint). So the path is the file's own, whatever name the exec
 * was given (/dev/fd/N, /proc/self/fd/N, a symlink, a relative name), and for a process in a container it is
 * relative to the container's root. Writes into s->path ending at PATH_BUF_END; returns the length (0: none) and
 * sets *start. Flags: PATH_OTHER_MOUNT (the file's mount is not the root's), PATH_OUTSIDE_ROOT (a pseudo file such
 * as a memfd, or a file outside the process's root: what was walked is kept), PATH_TRUNC (too long or too deep: the
 * tail that fits). Deleted files keep their last name (d_path would add " (deleted)"; the UNLINKED flag says so).
 */
static __always_inline struct exec_scratch *scratch_record(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

/*
 * The walk's state lives in the scratch map, not on the stack: every step loads it afresh, so the verifier sees the
 * same (unknown) values at each step and checks a step once, instead of following the position step by step.
 */
struct path_walk_ctx {
	struct exec_scratch *s;
};

/* one step of the walk: a mount crossing or one name prepended; nonzero when the walk is over */
static long path_step(__u32 i, struct path_walk_ctx *ctx)
{
	struct exec_scratch *s = ctx->s;
	struct path_walk *w = &s->walk;
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;
	if (dentry == w->root_dentry && vfsmnt == w->root_mnt) {
		w->end = 1;
		return 1;
	}
	if (dentry == KREAD(struct vfsmount, vfsmnt, mnt_root)) {
		struct mount *up = KREAD(struct mount, mnt, mnt_parent);
		if (!up || up == mnt) {
			w->end = 2; /* the root of a mount namespace that does not hold the process's root */
			return 1;
		}
		w->dentry = KREAD(struct mount, mnt, mnt_mountpoint);
		w->mnt = up;
		w->vfsmnt = (void *)((char *)up + bpf_core_field_offset(struct mount, mnt));
		return 0;
	}
	__u32 len = KREAD(struct dentry, dentry, d_name.len);
	const unsigned char *name = KREAD(struct dentry, dentry, d_name.name);
	int pos = w->pos;
	if (len > 255 || pos < (int)len + 2 || pos > PATH_BUF_END) {
		w->end = 3;
		return 1;
	}
	pos -= len + 1;
	s->path[pos & (PATH_BUF_END - 1)] = '/';
	if (bpf_probe_read_kernel(&s->path[(pos + 1) & (PATH_BUF_END - 1)], len & 255, name) < 0) {
		w->end = 3;
		return 1;
	}
	w->pos = pos;
	struct dentry *parent = KREAD(struct dentry, dentry, d_parent);
	if (!parent || parent == dentry) {
		w->end = 2; /* a disconnected dentry: a pseudo file (memfd, anonymous inode) */
		return 1;
	}
	w->dentry = parent;
	return 0;
}

/*
 * A global function: the verifier checks it once, on its own, instead of once per way the programs reach it. It
 * takes a plain integer (the file's address as a helper read it: a typed pointer may not be passed), the current task
 * from the helper and its scratch from the map. The walk runs under bpf_loop (kernel 5.17 and later: the step is
 * verified once, so the walk may be long); without it, as a bounded loop the verifier follows step by step, so short.
 */
static __always_inline int walk_path(struct exec_scratch *s, struct task_struct *task, struct dentry *dentry,
				     struct vfsmount *vfsmnt)
{
	struct path_walk *w = &s->walk;
	w->dentry = dentry;
	w->vfsmnt = vfsmnt;
	struct fs_struct *fs = KREAD(struct task_struct, task, fs);
	w->root_dentry = KREAD(struct fs_struct, fs, root.dentry);
	w->root_mnt = KREAD(struct fs_struct, fs, root.mnt);
	w->mnt = (void *)((char *)w->vfsmnt - bpf_core_field_offset(struct mount, mnt));
	w->pos = PATH_BUF_END;
	w->end = 0;
	__u32 flags = 0;

	s->path_start = PATH_BUF_END;
	s->path_flags = 0;
	if (!w->dentry || !w->vfsmnt)
		return 0;
	if (w->vfsmnt != w->root_mnt)
		flags |= EXEC_FLAG_PATH_OTHER_MOUNT;
	struct path_walk_ctx ctx = { .s = s };
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop)) {
		bpf_loop(PATH_WALK_MAX, path_step, &ctx, 0);
	} else {
		for (int i = 0; i < PATH_WALK_MAX_UNROLLED; i++) {
			if (path_step(i, &ctx))
				break;
		}
	}
	if (w->end == 2)
		flags |= EXEC_FLAG_PATH_OUTSIDE_ROOT;
	else if (w->end != 1)
		flags |= EXEC_FLAG_PATH_TRUNC;
	int pos = w->pos;
	if (pos < 0 || pos > PATH_BUF_END)
		return 0;
	s->path_start = pos;
	s->path_flags = flags;
	return PATH_BUF_END - pos;
}

__noinline int resolve_path(__u64 file_addr)
{
	struct exec_scratch *s = scratch_record();
	struct file *f = (void *)file_addr;
	struct task_struct *task = (void *)bpf_get_current_task();
	if (!s || !f || !task)
		return 0;
	return walk_path(s, task, KREAD(struct file, f, f_path.dentry), KREAD(struct file, f, f_path.mnt));
}

/*
 * A directory's path (the working directory's) by the same walk as resolve_path: dentry and vfsmount as addresses a
 * helper read. The process's root itself is "/" (the walk prepends nothing there).
 */
__noinline int resolve_dir_path(__u64 dentry_addr, __u64 vfsmnt_addr)
{
	struct exec_scratch *s = scratch_record();
	struct task_struct *task = (void *)bpf_get_current_task();
	if (!s || !task || !dentry_addr || !vfsmnt_addr)
		return 0;
	int len = walk_path(s, task, (void *)dentry_addr, (void *)vfsmnt_addr);
	if (len == 0 && s->walk.end == 1) {
		s->path[PATH_BUF_END - 1] = '/';
		s->path_start = PATH_BUF_END - 1;
		return 1;
	}
	return len;
}

/* start_of (common.bpf.h) by this file's reads */
static __always_inline __u64 task_start(struct task_struct *t)
{
	if (bpf_core_field_exists(t->start_boottime))
		return KREAD(struct task_struct, t, start_boottime);
	return KREAD(struct task_struct, t, start_time);
}

/* the namespace of t's pid at `level` and t's pid there; NULL when t's pid has no such level (t is outside) */
static __always_inline struct pid_namespace *pid_ns_at(struct task_struct *t, __u32 level, __s32 *nr)
{
	struct pid *pid = KREAD(struct task_struct, t, thread_pid);
	if (!pid || level > 32 || KREAD(struct pid, pid, level) < level)
		return NULL;
	struct upid *up = (void *)((char *)pid + bpf_core_field_offset(struct pid, numbers) +
				   (__u64)level * bpf_core_type_size(struct upid));
	*nr = KREAD(struct upid, up, nr);
	return KREAD(struct upid, up, ns);
}

struct lineage_ctx {
	struct exec_scratch *s;
};

/* one real_parent step: records the parent while it is in the namespace; nonzero when the walk is over */
static long lineage_step(__u32 i, struct lineage_ctx *ctx)
{
	struct exec_scratch *s = ctx->s;
	struct lineage_walk *w = &s->lineage;
	struct task_struct *child = w->task;
	struct task_struct *parent = KREAD(struct task_struct, child, real_parent);
	if (parent)
		parent = KREAD(struct task_struct, parent, group_leader);
	if (!parent || parent == child || KREAD(struct task_struct, parent, tgid) == 0) {
		w->end = 1; /* the top: init_task (pid 0) */
		return 1;
	}
	__s32 nr = 0;
	if (pid_ns_at(parent, w->level, &nr) != w->ns) {
		w->end = 1; /* the namespace's boundary: the parent is outside (a runtime's shim, runc) */
		return 1;
	}
	__u32 n = w->n;
	if (n < EXEC_REC_ANCESTORS_MAX) {
		s->rec.ancestor_tgid[n & (EXEC_REC_ANCESTORS_MAX - 1)] = KREAD(struct task_struct, parent, tgid);
		s->rec.ancestor_start[n & (EXEC_REC_ANCESTORS_MAX - 1)] = task_start(parent);
		w->n = n + 1;
	}
	w->task = parent;
	w->leader_nr = nr;
	return 0;
}

/*
 * The lineage of the exec'ing process (exec_record.h): the parent's start time, the ancestors in its pid namespace
 * and the session leader, the topmost of them (or the process itself when its parent is outside). A global function
 * like resolve_path.
 */
__noinline int walk_lineage(void)
{
	struct exec_scratch *s = scratch_record();
	struct task_struct *task = (void *)bpf_get_current_task();
	if (!s || !task)
		return 0;
	struct exec_record *rec = &s->rec;
	struct lineage_walk *w = &s->lineage;
	rec->ancestor_count = 0;
	rec->leader_tgid = rec->leader_ns_pid = 0;
	rec->leader_start_time = 0;
	struct task_struct *parent = KREAD(struct task_struct, task, real_parent);
	rec->parent_start_time = parent ? task_start(KREAD(struct task_struct, parent, group_leader)) : 0;
	if (!bpf_core_field_exists(task->thread_pid)) {
		rec->head.flags |= EXEC_FLAG_LINEAGE_UNKNOWN;
		return 0;
	}
	struct pid *pid = KREAD(struct task_struct, task, thread_pid);
	if (!pid) {
		rec->head.flags |= EXEC_FLAG_LINEAGE_UNKNOWN;
		return 0;
	}
	__s32 nr = 0;
	w->level = KREAD(struct pid, pid, level);
	w->task = KREAD(struct task_struct, task, group_leader);
	w->ns = w->level > 0 ? pid_ns_at(task, w->level, &nr) : NULL;
	w->leader_nr = nr;
	w->n = 0;
	w->end = 0;
	if (w->level == 0) {
		/* the host's pid namespace: no session, and its ancestors are not walked (host processes are not
		 * alerted; userspace reads a hostPID container's from /proc) */
		rec->head.flags |= EXEC_FLAG_HOST_PIDNS;
		return 0;
	}
	if (!w->task || !w->ns) {
		rec->head.flags |= EXEC_FLAG_LINEAGE_UNKNOWN;
		return 0;
	}
	struct lineage_ctx ctx = { .s = s };
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop)) {
		bpf_loop(LINEAGE_WALK_MAX, lineage_step, &ctx, 0);
	} else {
		for (int i = 0; i < LINEAGE_WALK_MAX_UNROLLED; i++) {
			if (lineage_step(i, &ctx))
				break;
		}
	}
	__u32 n = w->n;
	rec->ancestor_count = n > EXEC_REC_ANCESTORS_MAX ? EXEC_REC_ANCESTORS_MAX : n;
	if (w->end != 1) {
		rec->head.flags |= EXEC_FLAG_LINEAGE_UNKNOWN;
	} else {
		struct task_struct *leader = w->task;
		rec->leader_tgid = KREAD(struct task_struct, leader, tgid);
		rec->leader_start_time = task_start(leader);
		rec->leader_ns_pid = w->leader_nr;
	}
	return 0;
}

/*
 * Everything after the file facts: credentials, the executed file's path (of `target`, the file whose dev/ino the
 * record carries, as an address read by a helper; none when it is unknown), argv from the new image's stack
 * (mm->arg_start..arg_end, where exec copied it), then the record goes into the ring at its used length. A global
 * function like resolve_path: verified once, not once per state the callers reach it in (the task_works walk alone
 * leaves hundreds).
 */
__noinline int finish(__u64 target, __u32 argc, __u32 fl)
{
	struct exec_scratch *s = scratch_record();
	struct task_struct *task = (void *)bpf_get_current_task();
	if (!s)
		return 0;
	struct exec_record *rec = &s->rec;
	__u32 pl = 0, start = PATH_BUF_END;

	fill_process(rec, task);
	walk_lineage();
	rec->argc = argc;
	if (target) {
		pl = resolve_path(target);
		start = s->path_start;
		rec->head.flags |= s->path_flags;
	}
	if (pl > EXEC_REC_PATH_MAX)
		pl = 0;
	/* the masks below are what the verifier bounds offsets and sizes by: keep clang from proving them redundant */
	barrier_var(pl);
	barrier_var(fl);
	fl &= EXEC_REC_FILENAME_MAX;
	pl &= EXEC_REC_PATH_MAX;
	if (pl && bpf_probe_read_kernel(&rec->data[fl], pl, &s->path[start & (PATH_BUF_END - 1)]) < 0)
		pl = 0;
	barrier_var(pl);
	pl &= EXEC_REC_PATH_MAX;

	struct mm_struct *mm = KREAD(struct task_struct, task, mm);
	unsigned long arg_start = KREAD(struct mm_struct, mm, arg_start);
	unsigned long arg_end = KREAD(struct mm_struct, mm, arg_end);
	__u64 al = arg_end > arg_start ? arg_end - arg_start : 0;
	if (al > EXEC_REC_ARGV_MAX) {
		al = EXEC_REC_ARGV_MAX;
		rec->head.flags |= EXEC_FLAG_ARGV_TRUNC;
	}
	barrier_var(al);
	al &= 2 * EXEC_REC_ARGV_MAX - 1;
	if (al > EXEC_REC_ARGV_MAX)
		al = 0;
	if (al && bpf_probe_read_user(&rec->data[fl + pl], al, (void *)arg_start) < 0)
		al = 0;
	barrier_var(al);
	al &= 2 * EXEC_REC_ARGV_MAX - 1;
	if (al > EXEC_REC_ARGV_MAX)
		al = 0;

	/* the working directory, by the same walk (it reuses the path buffer: the file's path is already copied); only
	 * for an exec that may be drift (an image-layer file's exec is never alerted, and nothing else reads its cwd),
	 * and not for a process in the host's pid namespace, like its ancestors (never alerted but in a hostPID
	 * container) */
	int may_be_drift = (rec->head.flags & EXEC_IMAGE_LAYER_MASK) != EXEC_IMAGE_LAYER_BITS;
	__u32 cl = 0, cstart = PATH_BUF_END;
	if (may_be_drift && !(rec->head.flags & EXEC_FLAG_HOST_PIDNS)) {
		struct fs_struct *fs = KREAD(struct task_struct, task, fs);
		cl = resolve_dir_path((__u64)BPF_CORE_READ(fs, pwd.dentry), (__u64)BPF_CORE_READ(fs, pwd.mnt));
		cstart = s->path_start;
		if (s->path_flags & EXEC_FLAG_PATH_TRUNC)
			rec->head.flags |= EXEC_FLAG_CWD_TRUNC;
		if (s->path_flags & EXEC_FLAG_PATH_OUTSIDE_ROOT)
			rec->head.flags |= EXEC_FLAG_CWD_OUTSIDE_ROOT;
	}
	if (cl > EXEC_REC_CWD_MAX)
		cl = 0;
	barrier_var(cl);
	cl &= EXEC_REC_CWD_MAX;
	if (cl && bpf_probe_read_kernel(&rec->data[fl + pl + al], cl, &s->path[cstart & (PATH_BUF_END - 1)]) < 0)
		cl = 0;
	barrier_var(cl);
	cl &= EXEC_REC_CWD_MAX;
	rec->filename_len = fl;
	rec->path_len = pl;
	rec->argv_len = al;
	rec->cwd_len = cl;

	__u64 size = EXEC_REC_HDR_SIZE + fl + pl + al + cl;
	if (size > sizeof(*rec))
		return 0;
	/* a record that may be drift rings a lazy reader too; an image-layer file's only a sleeping one */
	if (ring_emit(rec, size, RING_WHEN(EXEC_READER_SLEEPING) | (may_be_drift ? RING_WHEN(EXEC_READER_LAZY) : 0)) < 0)
		count(EXEC_CTR_RINGBUF_FULL);
	return 0;
}

/* the filename's length in data (no NUL), flagging truncation */
static __always_inline __u32 filename_len(struct exec_record *rec, long n)
{
	if (n <= 0)
		return 0;
	if (n > EXEC_REC_FILENAME_MAX)
		rec->head.flags |= EXEC_FLAG_FILENAME_TRUNC;
	return (n - 1) & EXEC_REC_FILENAME_MAX;
}

#ifdef DRIFT_DIRECT_READS
/* whether the exec (its file facts filled) is its container's image file as the agent knows it: then kept (above) */
static __always_inline int keep_in_kernel(struct exec_record *rec, struct task_struct *task)
{
	if ((rec->head.flags & EXEC_IMAGE_LAYER_MASK) != EXEC_IMAGE_LAYER_BITS)
		return 0;
	__u32 zero = 0;
	__u32 *keep = bpf_map_lookup_elem(&image_keep, &zero);
	if (!keep || !*keep)
		return 0;
	__u64 *root = bpf_map_lookup_elem(&image_roots, &rec->head.cgroup_id);
	if (!root || *root != rec->head.file_dev)
		return 0;
	struct kept_exec *k = bpf_task_storage_get(&kept_execs, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!k)
		return 0;
	k->exec_time = rec->head.timestamp;
	count(EXEC_CTR_KEPT);
	return 1;
}

/* an exec that is sent replaces whatever the process kept */
static __always_inline void forget_kept(struct task_struct *task)
{
	struct kept_exec *k = bpf_task_storage_get(&kept_execs, task, 0, 0);
	if (k)
		k->exec_time = 0;
}
#else
static __always_inline int keep_in_kernel(struct exec_record *rec, struct task_struct *task)
{
	return 0;
}

static __always_inline void forget_kept(struct task_struct *task)
{
}
#endif

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	count(EXEC_CTR_SEEN);
	struct exec_scratch *s = scratch_record();
	if (!s)
		return 0;
	struct exec_record *rec = &s->rec;
	rec->head.flags = 0;
	fill_common_btf(rec, task);

	const char *filename = bprm->filename;
	__u32 argc = bprm->argc;

	/* a binfmt handler that swaps in an interpreter replaces bprm->interp with its own string */
	int interpreted = bprm->interp != filename;
	struct file *loaded = bprm->file;
	rec->head.file_dev = rec->head.file_ino = rec->interp_dev = rec->interp_ino = 0;
	if (!interpreted) {
		file_id_btf(loaded, &rec->head.file_dev, &rec->head.file_ino);
		rec->head.flags |= file_flags_btf(loaded);
		if (keep_in_kernel(rec, task))
			return 0;
		forget_kept(task);
		__u32 fl = filename_len(rec, bpf_probe_read_kernel_str(rec->data, EXEC_REC_FILENAME_MAX + 1, filename));
		/* a global function takes integers: the address as a helper read it (a typed pointer is refused) */
		finish((__u64)BPF_CORE_READ(bprm, file), argc, fl);
		return 0;
	}
	forget_kept(task);
	__u32 fl = filename_len(rec, bpf_probe_read_kernel_str(rec->data, EXEC_REC_FILENAME_MAX + 1, filename));
	if (bpf_core_field_exists(bprm->executable)) {
		struct file *original = bprm->executable;
		if (original) {
			rec->head.flags |= EXEC_FLAG_INTERPRETED;
			file_id_btf(original, &rec->head.file_dev, &rec->head.file_ino);
			file_id_btf(loaded, &rec->interp_dev, &rec->interp_ino);
			rec->head.flags |= file_flags_btf(original);
			finish((__u64)BPF_CORE_READ(bprm, executable), argc, fl);
			return 0;
		}
	}
	finish((__u64)fill_files(rec, task, BPF_CORE_READ(bprm, file), interpreted), argc, fl);
	return 0;
}

#ifdef DRIFT_DIRECT_READS
/*
 * A process that kept its exec forks (a thread too): its record is built now, in its own context (argv from its
 * memory, its file from mm->exe_file, its lineage), with the exec's time, and sent before the child can run.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork_btf, struct task_struct *parent, struct task_struct *child)
{
	struct task_struct *leader = parent->group_leader;
	if (!leader)
		return 0;
	struct kept_exec *k = bpf_task_storage_get(&kept_execs, leader, 0, 0);
	if (!k || !k->exec_time)
		return 0;
	__u64 exec_time = k->exec_time;
	k->exec_time = 0;
	struct exec_scratch *s = scratch_record();
	if (!s)
		return 0;
	struct exec_record *rec = &s->rec;
	rec->head.flags = EXEC_FLAG_SENT_AT_FORK;
	fill_common_btf(rec, leader);
	rec->head.pid = rec->head.tgid;
	rec->head.timestamp = exec_time;
	rec->head.file_dev = rec->head.file_ino = rec->interp_dev = rec->interp_ino = 0;
	struct file *exe = leader->mm->exe_file;
	if (exe) {
		file_id_btf(exe, &rec->head.file_dev, &rec->head.file_ino);
		rec->head.flags |= file_flags_btf(exe);
	}
	count(EXEC_CTR_SENT_AT_FORK);
	finish((__u64)BPF_CORE_READ(leader, mm, exe_file), 0, 0);
	return 0;
}
#endif

SEC("tracepoint/sched/sched_process_exec")
int exec_tp(struct trace_event_raw_sched_process_exec *ctx)
{
	count(EXEC_CTR_SEEN);
	struct exec_scratch *s = scratch_record();
	if (!s)
		return 0;
	struct exec_record *rec = &s->rec;
	struct task_struct *task = (void *)bpf_get_current_task();
	rec->head.flags = EXEC_FLAG_FALLBACK_TP;
	fill_common(rec, task);

	unsigned int loc = BPF_CORE_READ(ctx, __data_loc_filename) & 0xffff;
	__u32 fl = filename_len(rec, bpf_probe_read_kernel_str(rec->data, EXEC_REC_FILENAME_MAX + 1, (char *)ctx + loc));

	/* no bprm here: begin_new_exec() already set mm->exe_file to the loaded file (the interpreter for a
	 * script); a script, if any, is found on task_works (interpreted = 2: look, but absence is no evidence).
	 * argc is unknown here (0); argv, the path and the credentials are read as in exec_btf */
	struct file *loaded = BPF_CORE_READ(task, mm, exe_file);
	finish((__u64)fill_files(rec, task, loaded, 2), 0, fl);
	return 0;
}
#include "library.bpf.c"

/* the origin programs (write tracking): their own file, sharing this one's ring, doorbell and path walk */
#include "origin.bpf.c"
