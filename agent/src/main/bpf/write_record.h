/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record the origin programs (origin.bpf.c) write into the shared events ring: who opened a file for writing.
 * The u32 at offset 0 is WRITE_REC_KIND ("ORIG" read as a little-endian u32), which no exec record version can be;
 * the reader dispatches on it. Little-endian: a fixed header (WRITE_REC_HDR_SIZE bytes), then the writer's
 * executable path (EXE_LEN bytes) and its argv (ARGV_LEN bytes, NUL-separated as /proc/<pid>/cmdline), neither
 * NUL-terminated. A REMOTE record (flag WRITE_FLAG_REMOTE_UPDATE) has no file and no sections: it tells that a
 * writer seen before connected to a new TCP peer. The header starts with the head every ring record has (struct
 * record_head, common.bpf.h: kind, here WRITE_REC_KIND; flags, here WRITE_FLAG_*; the writer; the time; the cgroup;
 * the written file's dev/ino, 0/0 in a REMOTE record); the WRITE_REC_OFF_* offsets are of the fields that follow it.
 * The Java mirror (WriteRecordLayout) is checked against these macros by WriteRecordLayoutTest and against the
 * compiled object by RingRecordsBtfTest.
 */
#ifndef DRIFT_WRITE_RECORD_H
#define DRIFT_WRITE_RECORD_H

#define WRITE_REC_KIND              0x4f524947
#define WRITE_REC_EXE_MAX           4095  /* the writer's mm->exe_file path, as the exec record's path */
#define WRITE_REC_ARGV_MAX          1024  /* the writer's argv: a bounded prefix */
#define WRITE_REC_DATA_LEN          5120  /* room for both sections at their bounds */

/* the record head (common.bpf.h, RECORD_HEAD_SIZE bytes) is at 0 */
#define WRITE_REC_OFF_REMOTE_PORT   72    /* u16, host byte order; 0: no TCP peer known */
#define WRITE_REC_OFF_REMOTE_FAMILY 74    /* u16: 2 AF_INET (address in the first 4 bytes), 10 AF_INET6; 0: none */
#define WRITE_REC_OFF_REMOTE_ADDR   76    /* 16 bytes, network byte order */
#define WRITE_REC_OFF_EXE_LEN       92
#define WRITE_REC_OFF_ARGV_LEN      96
#define WRITE_REC_HDR_SIZE          100

/* flags */
#define WRITE_FLAG_REMOTE_UPDATE    0x01  /* no file: the writer (tgid, start_time) connected to the remote here */
#define WRITE_FLAG_EXE_TRUNC        0x02  /* the exe path is a suffix (too long or too deep) */
#define WRITE_FLAG_ARGV_TRUNC       0x04  /* argv longer than WRITE_REC_ARGV_MAX bytes */

/* indexes of the per-CPU origin counter array */
#define WRITE_CTR_OPENS             0     /* opens for writing of a regular file by a process in a container */
#define WRITE_CTR_EMITTED           1     /* write records written to the ring (first per file and writer) */
#define WRITE_CTR_RINGBUF_FULL      2     /* write or remote records lost: ring full */
#define WRITE_CTR_CONNECTS          3     /* TCP connects by processes in containers */
#define WRITE_CTR_REMOTE_UPDATES    4     /* remote records: a writer connected after it wrote */
#define WRITE_CTR_COUNT             5

#endif
