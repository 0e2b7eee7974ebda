/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the exec, library and origin programs (exec.bpf.c, library.bpf.c, origin.bpf.c) share: the head of their
 * records, the events ring with its doorbell, the facts of a file (dev/ino, overlay / upper / unlinked / memfd, a
 * noexec mount), a process's start time and mount namespace, the file behind a descriptor. #included by exec.bpf.c
 * after the record headers (exec_record.h), before everything else; library.bpf.c and origin.bpf.c, #included at its
 * end, use it as is. Every function is __always_inline: each program gets its own copy.
 */
#ifndef DRIFT_COMMON_BPF_H
#define DRIFT_COMMON_BPF_H

/*
 * The head every record of the events ring starts with, exec, mapping and write records alike: the record's kind (the
 * u32 the reader dispatches on: EXEC_REC_VERSION, MAP_REC_MAGIC or WRITE_REC_KIND), its flags (the file facts have
 * the same bits in all: EXEC_FLAG_OVERLAY, _UPPER, _MEMFD, _UNLINKED), the process, when, its cgroup and the file the
 * record is about. Little-endian; the record's own fields follow at RECORD_HEAD_SIZE. The RECORD_HEAD_* macros are the
 * layout: the struct is checked against them below, and the Java mirror (io.driftagent.agent.ring.RecordHeadLayout)
 * against them by RecordHeadLayoutTest and against the compiled object's BTF by RingRecordsBtfTest.
 */
#define RECORD_HEAD_OFF_KIND        0
#define RECORD_HEAD_OFF_FLAGS       4
#define RECORD_HEAD_OFF_PID         8
#define RECORD_HEAD_OFF_TGID        12
#define RECORD_HEAD_OFF_PPID        16
#define RECORD_HEAD_OFF_UID         20
#define RECORD_HEAD_OFF_GID         24
#define RECORD_HEAD_OFF_MNT_NS      28    /* the process's mount namespace (its inode number) */
#define RECORD_HEAD_OFF_START_TIME  32    /* the process's start time (start_boottime, as /proc/<pid>/stat field 22) */
#define RECORD_HEAD_OFF_TIMESTAMP   40    /* bpf_ktime_get_ns() when the record was made (CLOCK_MONOTONIC) */
#define RECORD_HEAD_OFF_CGROUP_ID   48    /* the process's cgroup v2 id */
#define RECORD_HEAD_OFF_FILE_DEV    56    /* the file the record is about, stat(2) encoding; 0/0 when none or unknown */
#define RECORD_HEAD_OFF_FILE_INO    64
#define RECORD_HEAD_SIZE            72

struct record_head {
	__u32 kind;
	__u32 flags;
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 mnt_ns;
	__u64 start_time;
	__u64 timestamp;
	__u64 cgroup_id;
	__u64 file_dev;
	__u64 file_ino;
};

#define CHECK_HEAD_OFF(field, off) _Static_assert(__builtin_offsetof(struct record_head, field) == (off), #field)
CHECK_HEAD_OFF(kind, RECORD_HEAD_OFF_KIND);
CHECK_HEAD_OFF(flags, RECORD_HEAD_OFF_FLAGS);
CHECK_HEAD_OFF(pid, RECORD_HEAD_OFF_PID);
CHECK_HEAD_OFF(tgid, RECORD_HEAD_OFF_TGID);
CHECK_HEAD_OFF(ppid, RECORD_HEAD_OFF_PPID);
CHECK_HEAD_OFF(uid, RECORD_HEAD_OFF_UID);
CHECK_HEAD_OFF(gid, RECORD_HEAD_OFF_GID);
CHECK_HEAD_OFF(mnt_ns, RECORD_HEAD_OFF_MNT_NS);
CHECK_HEAD_OFF(start_time, RECORD_HEAD_OFF_START_TIME);
CHECK_HEAD_OFF(timestamp, RECORD_HEAD_OFF_TIMESTAMP);
CHECK_HEAD_OFF(cgroup_id, RECORD_HEAD_OFF_CGROUP_ID);
CHECK_HEAD_OFF(file_dev, RECORD_HEAD_OFF_FILE_DEV);
CHECK_HEAD_OFF(file_ino, RECORD_HEAD_OFF_FILE_INO);
_Static_assert(sizeof(struct record_head) == RECORD_HEAD_SIZE, "the record's own fields follow the head");

/* the events ring every record goes into, and the doorbell that wakes the reader (exec.bpf.c, "Wakeups") */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024); /* userspace may resize before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* userspace sets one page */
} doorbell SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} reader_state SEC(".maps");

#define OVERLAYFS_SUPER_MAGIC 0x794c7630

/* CO-RE flavour for kernels where ovl_inode is not in vmlinux BTF under this exact name */
struct ovl_inode___drift {
	struct inode vfs_inode;
	struct dentry *__upperdentry;
} __attribute__((preserve_access_index));

/* the stat(2) st_dev encoding (new_encode_dev) of a kernel dev_t (MAJOR = dev >> 20, MINOR = dev & 0xfffff) */
static __always_inline __u64 encode_dev(__u32 kdev)
{
	__u32 major = kdev >> 20;
	__u32 minor = kdev & 0xfffff;
	return (minor & 0xff) | (major << 8) | ((__u64)(minor & ~0xffU) << 12);
}

/* the file's dev/ino as stat(2) reports them */
static __always_inline void file_id(struct file *f, __u64 *dev, __u64 *ino)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	if (!inode)
		return;
	*ino = BPF_CORE_READ(inode, i_ino);
	*dev = encode_dev(BPF_CORE_READ(inode, i_sb, s_dev));
}

/*
 * memfd_create(2) makes its file on the kernel's internal shmem mount (tmpfs) or on hugetlbfs, named "memfd:<name>":
 * only a file of those two kinds has its name read (a helper call every exec would otherwise pay).
 */
#define DRIFT_TMPFS_MAGIC 0x01021994
#define DRIFT_HUGETLBFS_MAGIC 0x958458f6
static __always_inline int may_be_memfd(unsigned long s_magic)
{
	return s_magic == DRIFT_TMPFS_MAGIC || s_magic == DRIFT_HUGETLBFS_MAGIC;
}

static __always_inline int name_is_memfd(const unsigned char *dname)
{
	char name[6] = {};
	return dname && bpf_probe_read_kernel(name, sizeof(name), dname) == 0 &&
	       name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' && name[4] == 'd' && name[5] == ':';
}

/* the file's facts in the exec record's bits (EXEC_FLAG_OVERLAY, _UPPER, _UNLINKED, _MEMFD) */
static __always_inline __u32 file_flags(struct file *f)
{
	__u32 flags = 0;
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	if (!inode)
		return 0;

	unsigned long magic = BPF_CORE_READ(inode, i_sb, s_magic);
	if (magic == OVERLAYFS_SUPER_MAGIC) {
		flags |= EXEC_FLAG_OVERLAY;
		/* file_inode() of a file opened on overlayfs is the overlay inode, embedded in struct ovl_inode */
		if (bpf_core_type_exists(struct ovl_inode___drift)) {
			unsigned long off = bpf_core_field_offset(struct ovl_inode___drift, vfs_inode);
			struct ovl_inode___drift *oi = (void *)((char *)inode - off);
			if (BPF_CORE_READ(oi, __upperdentry))
				flags |= EXEC_FLAG_UPPER;
		}
	}

	if (BPF_CORE_READ(inode, __i_nlink) == 0)
		flags |= EXEC_FLAG_UNLINKED;

	if (may_be_memfd(magic) && name_is_memfd(BPF_CORE_READ(f, f_path.dentry, d_name.name)))
		flags |= EXEC_FLAG_MEMFD;
	return flags;
}

/*
 * path_noexec() (fs/exec.c): whether the kernel refuses to map the file executable: its mount is noexec
 * (MNT_NOEXEC) or its superblock is (SB_I_NOEXEC: proc, sysfs and other pseudo file systems). do_mmap() then fails
 * PROT_EXEC with EPERM and clears VM_MAYEXEC, so a later mprotect(PROT_EXEC) fails with EACCES.
 */
#define DRIFT_MNT_NOEXEC 0x04  /* include/linux/mount.h */
#define DRIFT_SB_I_NOEXEC 0x02 /* include/linux/fs.h */
static __always_inline int file_path_noexec(struct file *f)
{
	struct vfsmount *mnt = BPF_CORE_READ(f, f_path.mnt);
	if (!mnt)
		return 0;
	if (BPF_CORE_READ(mnt, mnt_flags) & DRIFT_MNT_NOEXEC)
		return 1;
	return (BPF_CORE_READ(mnt, mnt_sb, s_iflags) & DRIFT_SB_I_NOEXEC) != 0;
}

/* a task's start time as START_TIME records it */
static __always_inline __u64 start_of(struct task_struct *t)
{
	if (bpf_core_field_exists(t->start_boottime))
		return BPF_CORE_READ(t, start_boottime);
	return BPF_CORE_READ(t, start_time);
}

/* the process's start time as the records carry it: its thread-group leader's */
static __always_inline __u64 process_start_time(struct task_struct *task)
{
	return start_of(BPF_CORE_READ(task, group_leader));
}

/* the task's mount namespace (its inode number): the host's processes are told from containers' by it */
static __always_inline __u32 task_mnt_ns(struct task_struct *task)
{
	return BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
}

/*
 * The head of a record made in the current task's context, but for its flags and file: kind, the process (ids, parent,
 * mount namespace `mnt_ns`, start time `start_time` as the caller read them), the time and the cgroup. The exec
 * program's tp_btf path fills its head by plain BTF loads instead (exec.bpf.c, fill_common_btf).
 */
static __always_inline void fill_head(struct record_head *h, __u32 kind, struct task_struct *task, __u32 mnt_ns,
				      __u64 start_time)
{
	__u64 ugid = bpf_get_current_uid_gid();
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	h->kind = kind;
	h->pid = (__u32)pid_tgid;
	h->tgid = pid_tgid >> 32;
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = (__u32)ugid;
	h->gid = ugid >> 32;
	h->mnt_ns = mnt_ns;
	h->start_time = start_time;
	h->timestamp = bpf_ktime_get_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
}

/* the struct file behind the task's descriptor fd; NULL when none */
static __always_inline struct file *task_fd_file(struct task_struct *task, long fd)
{
	if (fd < 0)
		return NULL;
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (unsigned long)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	if (!fds || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) < 0)
		return NULL;
	return f;
}

static __always_inline void ring_doorbell(void)
{
	__u64 *bell = bpf_ringbuf_reserve(&doorbell, sizeof(*bell), 0);
	if (bell) {
		*bell = 0;
		bpf_ringbuf_submit(bell, 0);
	}
}

/*
 * Writes a record into the events ring without a wakeup, then rings the doorbell when the reader's state is one of
 * `states` (bits 1 << EXEC_READER_*) or the ring's backlog passes a quarter of it (exec.bpf.c, "Wakeups").
 * Returns -1, ringing nothing, when the ring is full (the caller counts the loss).
 */
#define RING_WHEN(state) (1U << (state))
static __always_inline int ring_emit(void *rec, __u64 size, __u32 states)
{
	if (bpf_ringbuf_output(&events, rec, size, BPF_RB_NO_WAKEUP) < 0)
		return -1;
	__u32 zero = 0;
	__u32 *state = bpf_map_lookup_elem(&reader_state, &zero);
	__u32 st = state ? *state : EXEC_READER_SLEEPING;
	if ((st < 32 && (RING_WHEN(st) & states)) ||
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 4)
		ring_doorbell();
	return 0;
}

#endif
