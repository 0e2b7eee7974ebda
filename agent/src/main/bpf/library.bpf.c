// SPDX-License-Identifier: GPL-2.0
/*
 * drift-agent library capture: one record per executable file mapping that may be drift, i.e. a shared library (or
 * any file) mapped with PROT_EXEC by a process in a container from outside its image: LD_PRELOAD, dlopen() of a
 * dropped .so, ld.so running a dropped program, a memfd mapped executable. #included at the end of exec.bpf.c: it
 * shares the events ring, the doorbell and its rules, the path walk (resolve_path) and the file facts (file_flags).
 *
 * Hook: tracepoint/syscalls/sys_enter_mmap (a classic syscall tracepoint: the kernel runs the program for mmap(2)
 * calls only). fentry and kprobes on security_mmap_file are not available on every kernel this agent runs on (not
 * on the CI's); the tracepoint is. The ELF loader's own mappings at exec (the executable and its ELF interpreter,
 * ld.so) are made inside the kernel (vm_mmap), not through the syscall: they never reach this program.
 *
 * Filters, cheapest first, so that the common mmap costs a few instructions: not PROT_EXEC, anonymous or without
 * an fd: out. The host's processes (mount namespace = the host's): out. Then the file: on a noexec mount (the kernel
 * refuses the mapping: nothing is loaded; decided here from the mount's flags, so no exit hook is needed): out,
 * counted; one of an image's read-only layers (the exec record's EXEC_IMAGE_LAYER rule: overlay, no upper inode,
 * neither memfd nor unlinked): out; the process's own executable (mm->exe_file): out; already reported for this
 * process (tgid + start time, dev/ino, an LRU map): out. What is left is written to the events ring and rings the
 * doorbell (every record may be drift).
 *
 * Second hook: tracepoint/syscalls/sys_enter_mprotect, for a file mapped readable and made executable later
 * (library_mprotect below): the same filters and record, with MAP_FLAG_MPROTECT. Userspace turns it off alone when it
 * does not load or attach. Neither hook sees 32-bit (ia32 compat) processes: the syscall tracepoints do not fire for
 * compat system calls (docs/alerts.md, "Library drift").
 */
#include "map_record.h"

#define LIB_PROT_EXEC 0x4
#define LIB_MAP_ANONYMOUS 0x20
#define LIB_BPF_MAP_TYPE_LRU_HASH 9 /* UAPI enum bpf_map_type */
#define LIB_BPF_NOEXIST 1          /* UAPI: bpf_map_update_elem flag */

/* tracepoint/syscalls/sys_enter_mmap's record (tracefs events/syscalls/sys_enter_mmap/format): fixed by the ABI */
struct lib_mmap_args {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	__u64 addr;
	__u64 len;
	__u64 prot;
	__u64 flags;
	__u64 fd;
	__u64 off;
};

struct map_record {
	struct record_head head; /* kind MAP_REC_MAGIC; flags MAP_FLAG_*; the file: the one mapped */
	__u64 exe_dev;
	__u64 exe_ino;
	__u32 prot;
	__u32 mmap_flags;
	__u32 path_len;
	__u32 exe_path_len;
	__u32 argv_len;
	__u32 euid;
	char comm[MAP_REC_COMM_LEN];
	char data[MAP_REC_DATA_LEN]; /* path | exe path | argv */
};

#define MAP_CHECK_OFF(field, off) _Static_assert(__builtin_offsetof(struct map_record, field) == (off), #field)
MAP_CHECK_OFF(head, 0);
MAP_CHECK_OFF(exe_dev, MAP_REC_OFF_EXE_DEV);
MAP_CHECK_OFF(exe_ino, MAP_REC_OFF_EXE_INO);
MAP_CHECK_OFF(prot, MAP_REC_OFF_PROT);
MAP_CHECK_OFF(mmap_flags, MAP_REC_OFF_MMAP_FLAGS);
MAP_CHECK_OFF(path_len, MAP_REC_OFF_PATH_LEN);
MAP_CHECK_OFF(exe_path_len, MAP_REC_OFF_EXE_PATH_LEN);
MAP_CHECK_OFF(argv_len, MAP_REC_OFF_ARGV_LEN);
MAP_CHECK_OFF(euid, MAP_REC_OFF_EUID);
MAP_CHECK_OFF(comm, MAP_REC_OFF_COMM);
MAP_CHECK_OFF(data, MAP_REC_HDR_SIZE);
_Static_assert(MAP_REC_DATA_LEN >= MAP_REC_PATH_MAX + MAP_REC_EXE_PATH_MAX + MAP_REC_ARGV_MAX, "data fits its sections");
_Static_assert(MAP_REC_PATH_MAX == EXEC_REC_PATH_MAX && MAP_REC_EXE_PATH_MAX == EXEC_REC_PATH_MAX,
	       "the path walk's bound");
_Static_assert(MAP_FLAG_OVERLAY == EXEC_FLAG_OVERLAY && MAP_FLAG_UPPER == EXEC_FLAG_UPPER &&
	       MAP_FLAG_MEMFD == EXEC_FLAG_MEMFD && MAP_FLAG_UNLINKED == EXEC_FLAG_UNLINKED &&
	       MAP_FLAG_PATH_TRUNC == EXEC_FLAG_PATH_TRUNC && MAP_FLAG_PATH_OUTSIDE_ROOT == EXEC_FLAG_PATH_OUTSIDE_ROOT &&
	       MAP_FLAG_PATH_OTHER_MOUNT == EXEC_FLAG_PATH_OTHER_MOUNT && MAP_FLAG_ARGV_TRUNC == EXEC_FLAG_ARGV_TRUNC,
	       "file facts share the exec record's bits");
_Static_assert((MAP_FLAG_EXE_PATH_TRUNC >> 5) == MAP_FLAG_PATH_TRUNC &&
	       (MAP_FLAG_EXE_PATH_OUTSIDE_ROOT >> 5) == MAP_FLAG_PATH_OUTSIDE_ROOT &&
	       (MAP_FLAG_EXE_PATH_OTHER_MOUNT >> 5) == MAP_FLAG_PATH_OTHER_MOUNT, "exe path flags are the path's << 5");

struct lib_seen_key {
	__u32 tgid;
	__u32 pad;
	__u64 start_time;
	__u64 dev;
	__u64 ino;
};

struct {
	__uint(type, LIB_BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAP_SEEN_ENTRIES);
	__type(key, struct lib_seen_key);
	__type(value, __u8);
} lib_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lib_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct map_record);
} lib_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAP_CTR_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} lib_counters SEC(".maps");

static __always_inline void lib_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&lib_counters, &idx);
	if (v)
		*v += 1;
}

/*
 * Copies the path of `file_addr` (resolve_path's walk, into the exec scratch) into rec->data at `at`; returns its
 * length (0: unknown) and sets *flags to the walk's EXEC_FLAG_PATH_* flags. A global function: verified once.
 */
__noinline int lib_copy_path(__u64 file_addr, __u32 at)
{
	struct exec_scratch *s = scratch_record();
	__u32 zero = 0;
	struct map_record *rec = bpf_map_lookup_elem(&lib_scratch, &zero);
	if (!s || !rec || !file_addr)
		return 0;
	__u32 pl = resolve_path(file_addr);
	__u32 start = s->path_start;
	if (pl > MAP_REC_PATH_MAX)
		return 0;
	barrier_var(pl);
	barrier_var(at);
	pl &= MAP_REC_PATH_MAX;
	at &= MAP_REC_PATH_MAX;
	if (pl && bpf_probe_read_kernel(&rec->data[at], pl, &s->path[start & (PATH_BUF_END - 1)]) < 0)
		return 0;
	return pl | (s->path_flags << 16);
}

/* whether the current process is one whose mappings are looked at: not in the host's mount namespace; sets *mnt_ns */
static __always_inline int lib_tracked(struct task_struct *task, __u32 *mnt_ns)
{
	__u32 zero = 0;
	*mnt_ns = task_mnt_ns(task);
	__u64 *host_ns = bpf_map_lookup_elem(&lib_config, &zero);
	return !(host_ns && *host_ns && (__u32)*host_ns == *mnt_ns);
}

/*
 * The file an executable mapping was asked of, for both programs: the filters on the file (noexec mount, image
 * layer, own executable, seen), then the record into the ring. `how` is 0 or MAP_FLAG_MPROTECT. A global function:
 * verified once, on its own.
 */
__noinline int lib_on_file(__u64 file_addr, __u32 mnt_ns, __u32 prot, __u32 mflags, __u32 how)
{
	struct file *f = (void *)file_addr;
	struct task_struct *task = (void *)bpf_get_current_task();
	__u32 zero = 0;
	if (!f || !task)
		return 0;
	/* the kernel refuses to map it executable (common.bpf.h, file_path_noexec): no code was loaded */
	if (file_path_noexec(f)) {
		lib_count(MAP_CTR_NOEXEC);
		return 0;
	}
	__u32 flags = file_flags(f);
	if ((flags & EXEC_IMAGE_LAYER_MASK) == EXEC_IMAGE_LAYER_BITS) {
		lib_count(MAP_CTR_IMAGE_LAYER);
		return 0;
	}
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	if (exe && BPF_CORE_READ(exe, f_inode) == inode) {
		lib_count(MAP_CTR_OWN_EXE);
		return 0;
	}

	struct lib_seen_key key = {};
	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.start_time = process_start_time(task);
	file_id(f, &key.dev, &key.ino);
	__u8 one = 1;
	if (bpf_map_update_elem(&lib_seen, &key, &one, LIB_BPF_NOEXIST) != 0) {
		lib_count(MAP_CTR_DUPLICATE);
		return 0;
	}

	struct map_record *rec = bpf_map_lookup_elem(&lib_scratch, &zero);
	if (!rec)
		return 0;
	fill_head(&rec->head, MAP_REC_MAGIC, task, mnt_ns, key.start_time);
	rec->head.flags = flags | (how & MAP_FLAG_MPROTECT);
	rec->head.file_dev = key.dev;
	rec->head.file_ino = key.ino;
	rec->exe_dev = rec->exe_ino = 0;
	if (exe)
		file_id(exe, &rec->exe_dev, &rec->exe_ino);
	rec->prot = prot;
	rec->mmap_flags = mflags;
	rec->euid = BPF_CORE_READ(task, cred, euid.val);
	bpf_get_current_comm(rec->comm, sizeof(rec->comm));

	int r = lib_copy_path((__u64)f, 0);
	__u32 pl = r & 0xffff;
	rec->head.flags |= ((__u32)r >> 16) & (MAP_FLAG_PATH_TRUNC | MAP_FLAG_PATH_OUTSIDE_ROOT | MAP_FLAG_PATH_OTHER_MOUNT);
	pl &= MAP_REC_PATH_MAX;
	int re = exe ? lib_copy_path((__u64)exe, pl) : 0;
	__u32 el = re & 0xffff;
	rec->head.flags |= (((__u32)re >> 16) & (MAP_FLAG_PATH_TRUNC | MAP_FLAG_PATH_OUTSIDE_ROOT | MAP_FLAG_PATH_OTHER_MOUNT))
		      << 5;
	el &= MAP_REC_EXE_PATH_MAX;

	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long arg_start = BPF_CORE_READ(mm, arg_start);
	unsigned long arg_end = BPF_CORE_READ(mm, arg_end);
	__u64 al = arg_end > arg_start ? arg_end - arg_start : 0;
	if (al > MAP_REC_ARGV_MAX) {
		al = MAP_REC_ARGV_MAX;
		rec->head.flags |= MAP_FLAG_ARGV_TRUNC;
	}
	__u32 at = pl + el;
	barrier_var(at);
	barrier_var(al);
	at &= 2 * MAP_REC_PATH_MAX + 1; /* < 8192 */
	al &= 2 * MAP_REC_ARGV_MAX - 1;
	if (al > MAP_REC_ARGV_MAX || at > MAP_REC_PATH_MAX + MAP_REC_EXE_PATH_MAX)
		al = 0;
	if (al && bpf_probe_read_user(&rec->data[at], al, (void *)arg_start) < 0)
		al = 0;
	rec->path_len = pl;
	rec->exe_path_len = el;
	rec->argv_len = al;

	__u64 size = MAP_REC_HDR_SIZE + (__u64)at + al;
	barrier_var(size);
	if (size > sizeof(*rec))
		return 0;
	/* every mapping record may be drift: rung for as a prompt exec record is (see exec.bpf.c, "Wakeups") */
	if (ring_emit(rec, size, RING_WHEN(EXEC_READER_SLEEPING) | RING_WHEN(EXEC_READER_LAZY)) < 0) {
		lib_count(MAP_CTR_RINGBUF_FULL);
		bpf_map_delete_elem(&lib_seen, &key); /* not reported: a later mapping may be */
		return 0;
	}
	lib_count(MAP_CTR_EMITTED);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int library_mmap(struct lib_mmap_args *ctx)
{
	__u64 prot = ctx->prot;
	__u64 mflags = ctx->flags;
	long fd = (long)ctx->fd;
	if (!(prot & LIB_PROT_EXEC) || (mflags & LIB_MAP_ANONYMOUS) || fd < 0 || fd > 0x7fffffff)
		return 0;

	struct task_struct *task = (void *)bpf_get_current_task();
	__u32 mnt_ns;
	if (!lib_tracked(task, &mnt_ns))
		return 0;
	lib_count(MAP_CTR_CANDIDATES);

	struct file *f = task_fd_file(task, fd);
	if (!f)
		return 0;
	return lib_on_file((__u64)f, mnt_ns, (__u32)prot, (__u32)mflags, 0);
}

/* tracepoint/syscalls/sys_enter_mprotect's record (its format file) */
struct lib_mprotect_args {
	__u64 common;
	__s32 syscall_nr;
	__u32 pad;
	__u64 start;
	__u64 len;
	__u64 prot;
};

struct lib_vma_ctx {
	__u64 file;
};

/*
 * Whether a mapping's file is a file of an image's read-only layer as overlayfs maps it: overlayfs puts its layer's
 * own file into the mapping (vm_file is the real file, not the overlay's), opened through the layer's private mount,
 * a clone attached to no mount tree (its own parent) that overlayfs makes read-only for the lower layers only
 * (MNT_READONLY). The upper layer's clone is writable: a dropped file's mapping goes on to the record.
 */
#define LIB_MNT_READONLY 0x40 /* include/linux/mount.h */
static __always_inline int lib_lower_layer_file(struct file *f)
{
	struct vfsmount *vfsmnt = BPF_CORE_READ(f, f_path.mnt);
	if (!vfsmnt || !(BPF_CORE_READ(vfsmnt, mnt_flags) & LIB_MNT_READONLY))
		return 0;
	struct mount *mnt = (void *)((char *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
	return BPF_CORE_READ(mnt, mnt_parent) == mnt;
}

/* bpf_find_vma's callback: the mapping's file (NULL for anonymous memory: a JIT's code) */
static long lib_vma_file(struct task_struct *task, struct vm_area_struct *vma, struct lib_vma_ctx *ctx)
{
	ctx->file = (__u64)BPF_CORE_READ(vma, vm_file);
	return 0;
}

/*
 * mprotect(PROT_EXEC) of a file mapping: a loader may map a dropped file readable and make it executable later, which
 * sys_enter_mmap never sees as executable. The file is the one of the mapping at `start` (bpf_find_vma: kernel 5.17
 * and later, allowed in tracepoint programs; it takes the mm's lock with a trylock, so a busy lock is a counted
 * miss). A range spanning several mappings is judged by its first. Anonymous memory (a JIT) is not looked at further.
 * A file of a container's overlay is, in a mapping, overlayfs's file of the layer (see lib_lower_layer_file): an image
 * layer's is skipped here; an upper layer's is reported with its path in the layer (which is its path in the
 * container, flagged outside the root) and the layer file's dev/ino.
 */
SEC("tracepoint/syscalls/sys_enter_mprotect")
int library_mprotect(struct lib_mprotect_args *ctx)
{
	__u64 prot = ctx->prot;
	if (!(prot & LIB_PROT_EXEC))
		return 0;
	struct task_struct *task = (void *)bpf_get_current_task();
	__u32 mnt_ns;
	if (!lib_tracked(task, &mnt_ns))
		return 0;
	struct lib_vma_ctx vc = {};
	if (bpf_find_vma(bpf_get_current_task_btf(), ctx->start, lib_vma_file, &vc, 0) != 0) {
		lib_count(MAP_CTR_MPROTECT_UNRESOLVED);
		return 0;
	}
	if (!vc.file)
		return 0;
	lib_count(MAP_CTR_CANDIDATES);
	if (lib_lower_layer_file((struct file *)vc.file)) {
		lib_count(MAP_CTR_IMAGE_LAYER);
		return 0;
	}
	return lib_on_file(vc.file, mnt_ns, (__u32)prot, 0, MAP_FLAG_MPROTECT);
}
