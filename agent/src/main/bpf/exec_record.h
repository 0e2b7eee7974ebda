/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one record the exec program writes into the ring buffer, one per exec (or per first fork of a process whose
 * exec was kept in the kernel: EXEC_FLAG_SENT_AT_FORK).
 * Little-endian: a fixed header (EXEC_REC_HDR_SIZE bytes) followed by four variable sections, filename, path, argv
 * and cwd, each as long as the header's *_LEN says, so a common exec costs some 400 bytes of ring, not the bounds.
 * The header starts with the head every ring record has (struct record_head, common.bpf.h: kind, here
 * EXEC_REC_VERSION; flags, here EXEC_FLAG_*; the process; the time; the cgroup; the exec'd file's dev/ino); the
 * EXEC_REC_OFF_* offsets are of the fields that follow it. The EXEC_REC_* macros are the single source of the layout:
 * the struct is checked against them at compile time, and the Java mirror (ExecRecordLayout) is checked against them
 * by ExecRecordLayoutTest, which reads this file, and against the compiled object by RingRecordsBtfTest.
 */
#ifndef DRIFT_EXEC_RECORD_H
#define DRIFT_EXEC_RECORD_H

#define EXEC_REC_VERSION            3
#define EXEC_REC_COMM_LEN           16
#define EXEC_REC_ANCESTORS_MAX      8     /* ancestors in the exec'ing task's pid namespace, nearest first */
/* bounds of the four variable sections that follow the fixed header, in this order, none NUL-terminated */
#define EXEC_REC_FILENAME_MAX       255   /* the name as exec'd (bprm->filename) */
#define EXEC_REC_PATH_MAX           4095  /* the executed file's path resolved from its dentries (PATH_MAX - 1) */
#define EXEC_REC_ARGV_MAX           4096  /* argv as the new image sees it: NUL-separated, as /proc/<pid>/cmdline */
#define EXEC_REC_CWD_MAX            4095  /* the working directory's path resolved from its dentries */
#define EXEC_REC_DATA_LEN           12544 /* room for the four sections at their bounds (256 + 4096 + 4096 + 4096) */

/* the record head (common.bpf.h, RECORD_HEAD_SIZE bytes) is at 0 */
#define EXEC_REC_OFF_INTERP_DEV     72    /* the interpreter a binfmt handler swapped in (INTERPRETED) */
#define EXEC_REC_OFF_INTERP_INO     80
#define EXEC_REC_OFF_EUID           88
#define EXEC_REC_OFF_EGID           92
#define EXEC_REC_OFF_LOGINUID       96
#define EXEC_REC_OFF_SESSIONID      100
#define EXEC_REC_OFF_ARGC           104   /* bprm->argc; 0 = unknown (classic tracepoint) */
#define EXEC_REC_OFF_FILENAME_LEN   108
#define EXEC_REC_OFF_PATH_LEN       112   /* 0: not resolved */
#define EXEC_REC_OFF_ARGV_LEN       116
#define EXEC_REC_OFF_COMM           120
#define EXEC_REC_OFF_PARENT_COMM    136
/*
 * Lineage (record version 3). Ancestors: the real_parent chain from the exec'ing process up, while in its pid
 * namespace (none for a process in the host's pid namespace: HOST_PIDNS), each as tgid + start time (the pair names a
 * process across pid reuse; start time as START_TIME). The session leader: the topmost process of that chain still in
 * the namespace (the exec'ing process itself when its parent is outside), with its pid in the namespace (1: the
 * container's init; else an exec session entered from outside).
 */
#define EXEC_REC_OFF_PARENT_START_TIME  152  /* the parent's start time, whatever its namespace */
#define EXEC_REC_OFF_LEADER_START_TIME  160
#define EXEC_REC_OFF_LEADER_TGID    168   /* 0: no leader known (host pid namespace, or the walk's bound) */
#define EXEC_REC_OFF_LEADER_NS_PID  172   /* the leader's pid in the exec'ing task's pid namespace */
#define EXEC_REC_OFF_ANCESTOR_COUNT 176
#define EXEC_REC_OFF_CWD_LEN        180   /* 0: not resolved */
#define EXEC_REC_OFF_ANCESTOR_TGID  184   /* u32[EXEC_REC_ANCESTORS_MAX] */
#define EXEC_REC_OFF_ANCESTOR_START 216   /* u64[EXEC_REC_ANCESTORS_MAX] */
#define EXEC_REC_HDR_SIZE           280   /* filename, path, argv and cwd bytes follow at this offset */

/* flags */
#define EXEC_FLAG_OVERLAY           0x01  /* executed file's inode is on an overlayfs superblock */
#define EXEC_FLAG_UPPER             0x02  /* overlay inode has an upper dentry (created in / copied up to the writable layer) */
#define EXEC_FLAG_MEMFD             0x04  /* dentry name starts with "memfd:" */
#define EXEC_FLAG_UNLINKED          0x08  /* inode nlink == 0 at exec */
#define EXEC_FLAG_INTERPRETED       0x10  /* a binfmt handler (#! script, binfmt_misc) swapped in an interpreter */
#define EXEC_FLAG_SCRIPT_UNRESOLVED 0x20  /* interpreted, but the script's own file could not be found: file = interpreter */
#define EXEC_FLAG_FILENAME_TRUNC    0x40  /* filename longer than EXEC_REC_FILENAME_MAX bytes */
#define EXEC_FLAG_FALLBACK_TP       0x80  /* captured by the classic tracepoint program (no bprm access) */
#define EXEC_FLAG_PATH_TRUNC        0x100 /* path longer than EXEC_REC_PATH_MAX or deeper than the walk: a suffix */
#define EXEC_FLAG_PATH_OUTSIDE_ROOT 0x200 /* the walk met no process root: a pseudo file (memfd) or a file outside
                                           * the process's root (an fd passed in from outside a chroot/container) */
#define EXEC_FLAG_PATH_OTHER_MOUNT  0x400 /* the file's mount is not the process root's mount (a volume, a tmpfs) */
#define EXEC_FLAG_ARGV_TRUNC        0x800 /* argv longer than EXEC_REC_ARGV_MAX bytes */
#define EXEC_FLAG_AUDIT_UNKNOWN     0x1000 /* kernel without audit (no loginuid/sessionid): both fields are 0 */
#define EXEC_FLAG_CWD_TRUNC         0x2000 /* cwd longer than EXEC_REC_CWD_MAX or deeper than the walk: a suffix */
#define EXEC_FLAG_CWD_OUTSIDE_ROOT  0x4000 /* the cwd walk met no process root (a directory outside the root) */
#define EXEC_FLAG_HOST_PIDNS        0x8000 /* the exec'ing task is in the host's (initial) pid namespace: no session,
                                            * no ancestors walked */
#define EXEC_FLAG_LINEAGE_UNKNOWN   0x10000 /* the chain was longer than the walk, or pid facts unreadable: no leader */
#define EXEC_FLAG_SENT_AT_FORK      0x20000 /* an image-layer exec kept in the kernel, sent when its process first forked:
                                             * no filename (the path is the file's), argc unknown, the time the exec's;
                                             * the credentials, argv and lineage are the process's at the fork */

/* indexes of the per-CPU counter array */
#define EXEC_CTR_SEEN               0
#define EXEC_CTR_RINGBUF_FULL       1
#define EXEC_CTR_KEPT               2     /* image-layer execs of a known container root kept in the kernel */
#define EXEC_CTR_SENT_AT_FORK       3     /* of those, sent later because their process forked */
#define EXEC_CTR_COUNT              4

/*
 * reader_state map, key 0: how the reader waits (written by userspace on a change only). The reader never waits on
 * the events ring itself: it waits on the doorbell ring, which the program rings (a tiny record, the kernel's own
 * wake-if-drained rule) when the state asks for it.
 */
#define EXEC_READER_SLEEPING        0  /* blocked in poll(2): ring the doorbell for every record */
#define EXEC_READER_POLLING         1  /* draining on its own short clock: ring for nothing */
#define EXEC_READER_LAZY            2  /* draining on a long clock: ring only for a record that may be drift */

/*
 * An exec whose file the kernel places in a container image's read-only layer: on overlayfs, no upper (writable
 * layer) inode, neither memfd nor unlinked, and its file known. Never drift by itself, so its delivery may wait for
 * the reader's clock; any other record is "prompt".
 */
#define EXEC_IMAGE_LAYER_MASK       (EXEC_FLAG_OVERLAY | EXEC_FLAG_UPPER | EXEC_FLAG_MEMFD | EXEC_FLAG_UNLINKED | \
                                     EXEC_FLAG_SCRIPT_UNRESOLVED)
#define EXEC_IMAGE_LAYER_BITS       EXEC_FLAG_OVERLAY

#endif
