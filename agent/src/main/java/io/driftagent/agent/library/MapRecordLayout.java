package io.driftagent.agent.library;

import io.driftagent.agent.ring.RecordHeadLayout;

/**
 * The Java mirror of {@code src/main/bpf/map_record.h}: the byte layout (little-endian) of one executable-mapping
 * record in the shared events ring: the record head every ring record starts with ({@link RecordHeadLayout}), then
 * the mapping record's own fields. Every constant has the header's macro name minus the {@code MAP_} prefix;
 * {@code MapRecordLayoutTest} checks that they agree, {@code RingRecordsBtfTest} that they match the compiled object.
 */
public final class MapRecordLayout {
    /** The u32 at offset 0 of a mapping record ("LIBR"); an exec record has its version there. */
    public static final int REC_MAGIC = 0x4c494252;
    static final int REC_COMM_LEN = 16;
    static final int REC_PATH_MAX = 4095;
    static final int REC_EXE_PATH_MAX = 4095;
    static final int REC_ARGV_MAX = 4096;
    static final int REC_DATA_LEN = 12288;
    static final int REC_OFF_EXE_DEV = 72;
    static final int REC_OFF_EXE_INO = 80;
    static final int REC_OFF_PROT = 88;
    static final int REC_OFF_MMAP_FLAGS = 92;
    static final int REC_OFF_PATH_LEN = 96;
    static final int REC_OFF_EXE_PATH_LEN = 100;
    static final int REC_OFF_ARGV_LEN = 104;
    static final int REC_OFF_EUID = 108;
    static final int REC_OFF_COMM = 112;
    static final int REC_HDR_SIZE = 128;

    static final int FLAG_OVERLAY = 0x01;
    static final int FLAG_UPPER = 0x02;
    static final int FLAG_MEMFD = 0x04;
    static final int FLAG_UNLINKED = 0x08;
    static final int FLAG_PATH_TRUNC = 0x100;
    static final int FLAG_PATH_OUTSIDE_ROOT = 0x200;
    static final int FLAG_PATH_OTHER_MOUNT = 0x400;
    static final int FLAG_ARGV_TRUNC = 0x800;
    static final int FLAG_EXE_PATH_TRUNC = 0x2000;
    static final int FLAG_EXE_PATH_OUTSIDE_ROOT = 0x4000;
    static final int FLAG_EXE_PATH_OTHER_MOUNT = 0x8000;
    static final int FLAG_MPROTECT = 0x10000;

    public static final int CTR_CANDIDATES = 0;
    public static final int CTR_IMAGE_LAYER = 1;
    public static final int CTR_OWN_EXE = 2;
    public static final int CTR_DUPLICATE = 3;
    public static final int CTR_EMITTED = 4;
    public static final int CTR_RINGBUF_FULL = 5;
    public static final int CTR_NOEXEC = 6;
    public static final int CTR_MPROTECT_UNRESOLVED = 7;
    public static final int CTR_COUNT = 8;

    public static final int CFG_OFF_HOST_MNT_NS = 0;
    public static final int CFG_SIZE = 8;
    static final int SEEN_ENTRIES = 16384;

    /** The libbpf names of the program and its maps (library.bpf.c). */
    public static final String PROGRAM = "library_mmap";
    public static final String SECTION = "tracepoint/syscalls/sys_enter_mmap";
    /** The mprotect(PROT_EXEC) program: its own feature, off alone when it does not load or attach. */
    public static final String MPROTECT_PROGRAM = "library_mprotect";
    public static final String MPROTECT_SECTION = "tracepoint/syscalls/sys_enter_mprotect";
    public static final String CONFIG_MAP = "lib_config";
    public static final String COUNTERS_MAP = "lib_counters";

    private MapRecordLayout() {
    }
}
