/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record the library program (library.bpf.c) writes into the shared events ring, one per executable file mapping
 * that may be drift (a shared library loaded from outside the image): the u32 at offset 0 is MAP_REC_MAGIC ("LIBR"),
 * which tells it from an exec record (whose u32 there is its version). Little-endian: a fixed header
 * (MAP_REC_HDR_SIZE bytes) followed by three variable sections, the mapped file's path, the process's executable's
 * path and the process's argv, each as long as the header's *_LEN says, none NUL-terminated.
 * The header starts with the head every ring record has (struct record_head, common.bpf.h: kind, here MAP_REC_MAGIC;
 * flags, here MAP_FLAG_*; the process; the time; the cgroup; the mapped file's dev/ino); the MAP_REC_OFF_* offsets are
 * of the fields that follow it. The MAP_REC_* macros are the single source of the layout: the struct is checked
 * against them at compile time, and the Java mirror (io.driftagent.agent.library.MapRecordLayout) is checked against
 * them by MapRecordLayoutTest and against the compiled object by RingRecordsBtfTest.
 */
#ifndef DRIFT_MAP_RECORD_H
#define DRIFT_MAP_RECORD_H

#define MAP_REC_MAGIC               0x4c494252 /* "LIBR" */
#define MAP_REC_COMM_LEN            16
#define MAP_REC_PATH_MAX            4095  /* the mapped file's path resolved from its dentries */
#define MAP_REC_EXE_PATH_MAX        4095  /* the process's executable (mm->exe_file), resolved the same way */
#define MAP_REC_ARGV_MAX            4096  /* the process's argv (mm->arg_start..arg_end), as /proc/<pid>/cmdline */
#define MAP_REC_DATA_LEN            12288 /* room for the three sections at their bounds */

/* the record head (common.bpf.h, RECORD_HEAD_SIZE bytes) is at 0 */
#define MAP_REC_OFF_EXE_DEV         72    /* the process's executable; 0/0 when unknown */
#define MAP_REC_OFF_EXE_INO         80
#define MAP_REC_OFF_PROT            88    /* mmap(2) prot */
#define MAP_REC_OFF_MMAP_FLAGS      92    /* mmap(2) flags */
#define MAP_REC_OFF_PATH_LEN        96    /* 0: not resolved */
#define MAP_REC_OFF_EXE_PATH_LEN    100   /* 0: not resolved */
#define MAP_REC_OFF_ARGV_LEN        104
#define MAP_REC_OFF_EUID            108
#define MAP_REC_OFF_COMM            112
#define MAP_REC_HDR_SIZE            128   /* path, exe path and argv bytes follow at this offset */

/* flags: the file facts have the exec record's bits and meaning (EXEC_FLAG_*), so one predicate reads both */
#define MAP_FLAG_OVERLAY            0x01
#define MAP_FLAG_UPPER              0x02
#define MAP_FLAG_MEMFD              0x04
#define MAP_FLAG_UNLINKED           0x08
#define MAP_FLAG_PATH_TRUNC         0x100
#define MAP_FLAG_PATH_OUTSIDE_ROOT  0x200
#define MAP_FLAG_PATH_OTHER_MOUNT   0x400
#define MAP_FLAG_ARGV_TRUNC         0x800
#define MAP_FLAG_EXE_PATH_TRUNC     0x2000
#define MAP_FLAG_EXE_PATH_OUTSIDE_ROOT 0x4000
#define MAP_FLAG_EXE_PATH_OTHER_MOUNT  0x8000
#define MAP_FLAG_MPROTECT           0x10000 /* made executable by mprotect(2), not mapped so by mmap(2): prot is
                                             * mprotect's, mmap_flags 0 */

/* indexes of the library program's per-CPU counter array (lib_counters) */
#define MAP_CTR_CANDIDATES          0     /* executable file mappings by processes outside the host's mount ns */
#define MAP_CTR_IMAGE_LAYER         1     /* of those: a file of an image's read-only layer (never drift) */
#define MAP_CTR_OWN_EXE             2     /* of those: the process's own executable */
#define MAP_CTR_DUPLICATE           3     /* of those: already reported for this process (the LRU map) */
#define MAP_CTR_EMITTED             4     /* records written */
#define MAP_CTR_RINGBUF_FULL        5     /* records lost: the events ring was full */
#define MAP_CTR_NOEXEC              6     /* of the candidates: a file on a noexec mount (MNT_NOEXEC, SB_I_NOEXEC),
                                           * which the kernel refuses to map executable: nothing was loaded */
#define MAP_CTR_MPROTECT_UNRESOLVED 7     /* mprotect(PROT_EXEC) by a container process whose mapping could not be
                                           * looked up (bpf_find_vma: no mapping there, or the mm lock was busy) */
#define MAP_CTR_COUNT               8

/* lib_config map, key 0: set by userspace before attaching */
#define MAP_CFG_OFF_HOST_MNT_NS     0     /* the host's mount namespace inode (/proc/1/ns/mnt); 0: unknown, no filter */
#define MAP_CFG_SIZE                8

/* the dedupe LRU map's capacity: (process, file) pairs remembered */
#define MAP_SEEN_ENTRIES            16384

#endif
