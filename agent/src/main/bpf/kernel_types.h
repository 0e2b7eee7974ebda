/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel types exec.bpf.c reads, written by hand instead of a vmlinux.h generated from the build host's BTF, so
 * the BPF object never depends on the kernel it was built on and builds the same for every architecture.
 *
 * Each kernel struct lists only the fields the program touches and carries preserve_access_index: clang records
 * every access as a CO-RE relocation (type and field NAMES, not offsets) and libbpf resolves it against the running
 * kernel's BTF at load time. So the order of the fields, the fields left out and the padding here do not matter;
 * what matters is that each name exists in the kernel (a field that only some kernels have is read behind
 * bpf_core_field_exists) and that each field's size is the kernel's: the direct loads of the tp_btf program take
 * their width from here. The sizes below are those of every 64-bit kernel (x86_64 and arm64 alike: LP64, so
 * "unsigned long" and pointers are 8 bytes). A field inside an anonymous union or struct in the kernel (file.f_path,
 * dentry.d_name, inode.__i_nlink, mm_struct.exe_file) is written here as a direct member: libbpf matches through
 * anonymous members.
 *
 * The bpf_* enums are UAPI (include/uapi/linux/bpf.h): fixed numbers, not relocated.
 * To add a field: look it up with `bpftool btf dump file /sys/kernel/btf/vmlinux format c` (its name and type),
 * add it to its struct here; compile for both arches (agent/src/main/bpf/build-bpf.sh, BPF_TARGET_ARCH=arm64).
 */
#ifndef DRIFT_KERNEL_TYPES_H
#define DRIFT_KERNEL_TYPES_H

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

typedef __u32 u32;
typedef __u64 u64;
typedef int pid_t;
typedef __u32 dev_t;
typedef _Bool bool;

/* UAPI: the helper ids; only probed with bpf_core_enum_value_exists (a helper the running kernel lacks is not called) */
enum bpf_func_id {
	BPF_FUNC_find_vma = 180,
	BPF_FUNC_loop = 181,
};

/* UAPI: enum bpf_map_type (only the types this program declares) */
enum bpf_map_type {
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
};

/* UAPI: map creation and local-storage flags */
enum {
	BPF_F_NO_PREALLOC = (1U << 0),
};

enum {
	BPF_LOCAL_STORAGE_GET_F_CREATE = (1ULL << 0),
};

/* UAPI: flags of bpf_ringbuf_submit/output and the fields bpf_ringbuf_query reads */
enum {
	BPF_RB_NO_WAKEUP = (1ULL << 0),
	BPF_RB_FORCE_WAKEUP = (1ULL << 1),
};

enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
	BPF_RB_CONS_POS = 2,
	BPF_RB_PROD_POS = 3,
};

struct callback_head {
	struct callback_head *next;
	void (*func)(struct callback_head *head);
} __attribute__((preserve_access_index));

struct qstr {
	u32 len;                 /* in the kernel: inside an anonymous struct of a union with hash_len */
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
} __attribute__((preserve_access_index));

struct vfsmount {
	struct dentry *mnt_root;
	struct super_block *mnt_sb;
	int mnt_flags;           /* MNT_NOEXEC and the other per-mount flags */
} __attribute__((preserve_access_index));

/* fs/mount.h: the vfsmount is embedded in it (container_of); not in the UAPI, but in vmlinux BTF like any type */
struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
} __attribute__((preserve_access_index));

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct fs_struct {
	struct path root;
	struct path pwd;
} __attribute__((preserve_access_index));

typedef struct {
	u32 val;
} kuid_t;

typedef struct {
	u32 val;
} kgid_t;

struct cred {
	kuid_t euid;
	kgid_t egid;
} __attribute__((preserve_access_index));

struct super_block {
	dev_t s_dev;
	unsigned long s_magic;
	unsigned long s_iflags;  /* SB_I_NOEXEC and the other internal superblock flags */
} __attribute__((preserve_access_index));

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
	unsigned int __i_nlink;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
	struct inode *f_inode;
	unsigned int f_flags;
	struct callback_head f_task_work;
} __attribute__((preserve_access_index));

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct mnt_namespace {
	struct ns_common ns;
} __attribute__((preserve_access_index));

struct nsproxy {
	struct mnt_namespace *mnt_ns;
} __attribute__((preserve_access_index));

/* a mapping of a process's address space (bpf_find_vma's callback gets one) */
struct vm_area_struct {
	unsigned long vm_start;  /* in the kernel: inside an anonymous struct of a union */
	unsigned long vm_end;
	struct file *vm_file;
} __attribute__((preserve_access_index));

struct mm_struct {
	struct file *exe_file;
	unsigned long arg_start; /* in the kernel: inside an anonymous struct */
	unsigned long arg_end;
} __attribute__((preserve_access_index));

/* a pid as each namespace of its chain sees it: numbers[0] the host's, numbers[level] the innermost */
struct pid_namespace {
	unsigned int level;
} __attribute__((preserve_access_index));

struct upid {
	int nr;
	struct pid_namespace *ns;
} __attribute__((preserve_access_index));

struct pid {
	unsigned int level;
	struct upid numbers[1];
} __attribute__((preserve_access_index));

/* a process's descriptor table (task_fd_file) */
struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct task_struct {
	pid_t tgid;
	struct task_struct *group_leader;
	struct pid *thread_pid;  /* kernel 4.19 and later: read behind bpf_core_field_exists */
	struct task_struct *real_parent;
	u64 start_time;      /* CLOCK_MONOTONIC, the fallback for kernels without start_boottime */
	u64 start_boottime;  /* CLOCK_BOOTTIME, what /proc/<pid>/stat reports (kernel 5.5 and later) */
	struct nsproxy *nsproxy;
	struct mm_struct *mm;
	struct callback_head *task_works;
	const struct cred *cred;
	char comm[16];
	struct fs_struct *fs;
	struct files_struct *files;
	kuid_t loginuid;         /* CONFIG_AUDIT (CONFIG_AUDITSYSCALL before 5.x): read behind bpf_core_field_exists */
	unsigned int sessionid;
} __attribute__((preserve_access_index));

struct linux_binprm {
	struct file *file;
	struct file *executable; /* kernel 5.8 and later: the file exec'd before a binfmt handler swapped it */
	int argc;
	const char *filename;
	const char *interp;
} __attribute__((preserve_access_index));

/* the classic tracepoint's context (tracepoint/sched/sched_process_exec) */
struct trace_event_raw_sched_process_exec {
	u32 __data_loc_filename;
} __attribute__((preserve_access_index));

#endif
