/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the exec, library and origin programs (exec.bpf.c, library.bpf.c, origin.bpf.c) share: the facts of a file
 * (dev/ino, overlay / upper / unlinked / memfd, a noexec mount), a process's start time and mount namespace, the file
 * behind a descriptor, and the events ring with its doorbell. #included by exec.bpf.c after its maps (events,
 * doorbell, reader_state), before its programs; library.bpf.c and origin.bpf.c, #included at its end, use it as is.
 * Every function is __always_inline: each program gets its own copy, as before it was shared.
 */
#ifndef DRIFT_COMMON_BPF_H
#define DRIFT_COMMON_BPF_H

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

/* the file's facts in the exec record's bits (EXEC_FLAG_OVERLAY, _UPPER, _UNLINKED, _MEMFD) */
static __always_inline __u32 file_flags(struct file *f)
{
	__u32 flags = 0;
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	if (!inode)
		return 0;

	if (BPF_CORE_READ(inode, i_sb, s_magic) == OVERLAYFS_SUPER_MAGIC) {
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

	char name[6] = {};
	const unsigned char *dname = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	if (dname && bpf_probe_read_kernel(name, sizeof(name), dname) == 0 &&
	    name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' && name[4] == 'd' && name[5] == ':')
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
