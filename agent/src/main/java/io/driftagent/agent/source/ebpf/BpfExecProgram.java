package io.driftagent.agent.source.ebpf;

import io.driftagent.agent.host.Errno;
import io.driftagent.agent.library.HostMountNamespace;
import io.driftagent.agent.library.MapRecordLayout;
import io.driftagent.agent.provenance.WriteRecordLayout;
import io.driftagent.agent.provenance.WriteTracking;
import io.driftagent.agent.source.ImageExecKeeping;
import io.driftagent.agent.source.SourceUnavailableException;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loaded and attached exec program: the libbpf object, its one link, and the fds of its maps. Not
 * thread-safe except {@link #counters()}, which only reads a map.
 */
final class BpfExecProgram implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BpfExecProgram.class);
    static final String RING_BUFFER_MAP = "events";
    static final String COUNTERS_MAP = "counters";
    static final String READER_STATE_MAP = "reader_state";
    static final String DOORBELL_MAP = "doorbell";
    /** Image execs kept in the kernel until their process forks (exec.bpf.c): the program and its two maps. */
    static final String FORK_PROGRAM = "fork_btf";
    static final String IMAGE_ROOTS_MAP = "image_roots";
    static final String IMAGE_KEEP_MAP = "image_keep";

    private final Libbpf libbpf;
    private final LibbpfBindings bindings;
    private final Pointer objectBytes; // libbpf reads the ELF image from here until the object is closed
    private final ExecAttachment attachment;
    private Pointer object;
    private Pointer link;
    private Pointer libraryLink;
    private Pointer mprotectLink; // null: mprotect(PROT_EXEC) not observed (off, or the library program is off)
    private Pointer forkLink; // null: no image exec is kept in the kernel (every exec is sent)
    private final String libraryStatus;
    private final int libraryCountersFd;
    private OriginPrograms origin; // null: write tracking not attached
    private KernelReads kernelReads = KernelReads.UNKNOWN; // how the loaded object's walks read the kernel
    private final int ringBufferFd;
    private final int countersFd;
    private final int readerStateFd;
    private final int doorbellFd;
    private final int possibleCpus;
    private final Pointer stateKey;
    private final Pointer stateValue;

    private BpfExecProgram(LibbpfBindings bindings, Pointer objectBytes, Pointer object, Pointer link,
            ExecAttachment attachment, Pointer libraryLink, Pointer mprotectLink, String libraryStatus,
            Pointer forkLink) {
        this.forkLink = forkLink;
        this.libraryLink = libraryLink;
        this.mprotectLink = mprotectLink;
        this.libraryStatus = libraryStatus;
        this.bindings = bindings;
        this.libbpf = bindings.libbpf();
        this.objectBytes = objectBytes;
        this.object = object;
        this.link = link;
        this.attachment = attachment;
        this.ringBufferFd = libbpf.bpf_object__find_map_fd_by_name(object, RING_BUFFER_MAP);
        this.countersFd = libbpf.bpf_object__find_map_fd_by_name(object, COUNTERS_MAP);
        this.readerStateFd = libbpf.bpf_object__find_map_fd_by_name(object, READER_STATE_MAP);
        this.doorbellFd = libbpf.bpf_object__find_map_fd_by_name(object, DOORBELL_MAP);
        this.stateKey = Memory.allocateDirect(bindings.runtime(), 4);
        this.stateValue = Memory.allocateDirect(bindings.runtime(), 4);
        this.possibleCpus = Math.max(1, libbpf.libbpf_num_possible_cpus());
        this.libraryCountersFd = libraryLink == null ? -1
                : libbpf.bpf_object__find_map_fd_by_name(object, MapRecordLayout.COUNTERS_MAP);
    }

    /** How the loaded object's walks read the kernel's structures ({@code exec.bpf.c}, DRIFT_DIRECT_READS). */
    enum KernelReads {
        /** plain loads of re-typed pointers (the bpf_rdonly_cast kfunc, kernel 6.2 and later) */
        DIRECT_LOADS,
        /** one bpf_probe_read_kernel call per field: the object for kernels that refuse the other */
        HELPER_CALLS,
        /** a caller-given object */
        UNKNOWN
    }

    /**
     * The exec program from the object with direct kernel reads, with everything asked for (library programs,
     * write programs); when that does not load, from the object with helper reads, through the whole fallback
     * ladder of {@link #load(LibbpfBindings, byte[], ProgramChoice, int, boolean, WriteTracking)}. The first object
     * is tried all-or-nothing: a kernel that refuses any of its programs gets the second, whose ladder turns off
     * only what that kernel cannot run.
     */
    static BpfExecProgram load(LibbpfBindings bindings, ExecObjects objects, ProgramChoice choice,
            int ringBufferBytes, boolean libraryMappings, WriteTracking writes) throws SourceUnavailableException {
        if (choice != ProgramChoice.TP_BTF || libraryMappings || writes.wanted()) {
            mountTracefsIfAbsent(bindings);
        }
        ExecAttachment first = choice == ProgramChoice.TRACEPOINT ? ExecAttachment.TRACEPOINT : ExecAttachment.TP_BTF;
        BpfExecProgram loaded;
        if (objects.directReads() == null) {
            loaded = load(bindings, objects.helperReads(), choice, ringBufferBytes, libraryMappings, writes);
            loaded.kernelReads = KernelReads.HELPER_CALLS;
            return loaded;
        }
        try {
            loaded = loadAttached(bindings, objects.directReads(), first, ringBufferBytes, libraryMappings,
                    libraryMappings, libraryMappings ? null : "off (disabled by configuration)",
                    writes.wanted() ? OriginPrograms.Selection.ALL : OriginPrograms.Selection.NONE);
        } catch (SourceUnavailableException direct) {
            LOG.warn("the exec program with direct kernel reads did not load ({}); loading the one that reads each "
                    + "field through a helper call (more CPU per container exec, docs/benchmarks.md)",
                    direct.getMessage());
            loaded = load(bindings, objects.helperReads(), choice, ringBufferBytes, libraryMappings, writes);
            loaded.kernelReads = KernelReads.HELPER_CALLS;
            return loaded;
        }
        loaded.kernelReads = KernelReads.DIRECT_LOADS;
        if (writes.wanted()) {
            attachWrites(bindings, loaded, writes);
        }
        return loaded;
    }

    /**
     * Opens, loads and attaches the exec program.
     *
     * @param ringBufferBytes ring buffer size: a power of two, a multiple of the page size
     */
    static BpfExecProgram load(LibbpfBindings bindings, byte[] elf, ProgramChoice choice, int ringBufferBytes)
            throws SourceUnavailableException {
        return load(bindings, elf, choice, ringBufferBytes, true, WriteTracking.NONE);
    }

    /** The same, with the write programs when {@code writes} wants them (their failure only turns them off). */
    static BpfExecProgram load(LibbpfBindings bindings, byte[] elf, ProgramChoice choice, int ringBufferBytes,
            WriteTracking writes) throws SourceUnavailableException {
        return load(bindings, elf, choice, ringBufferBytes, true, writes);
    }

    /** The same, with or without the library program, without write tracking. */
    static BpfExecProgram load(LibbpfBindings bindings, byte[] elf, ProgramChoice choice, int ringBufferBytes,
            boolean libraryMappings) throws SourceUnavailableException {
        return load(bindings, elf, choice, ringBufferBytes, libraryMappings, WriteTracking.NONE);
    }

    /**
     * @param libraryMappings also load and attach the library program ({@code library.bpf.c}); when it cannot load
     *                        or attach, exec capture goes on without it (logged, {@link #libraryStatus()})
     */
    static BpfExecProgram load(LibbpfBindings bindings, byte[] elf, ProgramChoice choice, int ringBufferBytes,
            boolean libraryMappings, WriteTracking writes) throws SourceUnavailableException {
        if (choice != ProgramChoice.TP_BTF || libraryMappings || writes.wanted()) {
            // classic tracepoints (the exec fallback, the library and write programs) are found through tracefs
            mountTracefsIfAbsent(bindings);
        }
        return switch (choice) {
            case TP_BTF -> loadWithLibrary(bindings, elf, ExecAttachment.TP_BTF, ringBufferBytes, libraryMappings, writes);
            case TRACEPOINT -> loadWithLibrary(bindings, elf, ExecAttachment.TRACEPOINT, ringBufferBytes, libraryMappings, writes);
            case AUTO -> {
                try {
                    yield loadWithLibrary(bindings, elf, ExecAttachment.TP_BTF, ringBufferBytes, libraryMappings, writes);
                } catch (SourceUnavailableException btfFailure) {
                    LOG.warn("{} unavailable ({}); falling back to {}: scripts are then resolved only through "
                            + "the deferred-fput list", ExecAttachment.TP_BTF.section(), btfFailure.getMessage(),
                            ExecAttachment.TRACEPOINT.section());
                    try {
                        yield loadWithLibrary(bindings, elf, ExecAttachment.TRACEPOINT, ringBufferBytes,
                                libraryMappings, writes);
                    } catch (SourceUnavailableException tpFailure) {
                        tpFailure.addSuppressed(btfFailure);
                        throw new SourceUnavailableException("neither exec program could be attached: "
                                + btfFailure.getMessage() + "; " + tpFailure.getMessage(), tpFailure);
                    }
                }
            }
        };
    }

    /**
     * The exec program with the library program loaded too; if the object does not load with it (a verifier or
     * kernel that refuses it), once more without it: library drift must never cost exec capture.
     */
    private static BpfExecProgram loadWithLibrary(LibbpfBindings bindings, byte[] elf, ExecAttachment wanted,
            int ringBufferBytes, boolean libraryMappings, WriteTracking writes) throws SourceUnavailableException {
        if (!libraryMappings) {
            return loadWithWrites(bindings, elf, wanted, ringBufferBytes, false, false,
                    "off (disabled by configuration)", writes);
        }
        try {
            return loadWithWrites(bindings, elf, wanted, ringBufferBytes, true, true, null, writes);
        } catch (SourceUnavailableException withMprotect) {
            LOG.debug("the object did not load with {}: {}", MapRecordLayout.MPROTECT_PROGRAM, withMprotect.getMessage());
        }
        // the mprotect program needs more of the kernel (bpf_find_vma): without it, only its part turns off
        try {
            BpfExecProgram withoutMprotect = loadWithWrites(bindings, elf, wanted, ringBufferBytes, true, false,
                    null, writes);
            LOG.warn("library drift detection of mprotect(PROT_EXEC) off: {} did not load; executable mmap(2) "
                    + "mappings are still observed", MapRecordLayout.MPROTECT_SECTION);
            return withoutMprotect;
        } catch (SourceUnavailableException withLibrary) {
            BpfExecProgram without = loadWithWrites(bindings, elf, wanted, ringBufferBytes, false, false,
                    "off (the object did not load with " + MapRecordLayout.PROGRAM + ": " + withLibrary.getMessage()
                            + ")", writes);
            LOG.warn("library drift detection off: {} did not load with the exec program ({}); exec capture goes on "
                    + "without it", MapRecordLayout.SECTION, withLibrary.getMessage());
            return without;
        }
    }

    /**
     * The exec program with the write programs when wanted: an object whose write programs fail to load is loaded
     * again without them, and write programs that fail to attach are left detached; write tracking is then told it
     * is unavailable, and exec observation goes on.
     */
    private static BpfExecProgram loadWithWrites(LibbpfBindings bindings, byte[] elf, ExecAttachment wanted,
            int ringBufferBytes, boolean library, boolean mprotect, String libraryOff, WriteTracking writes)
            throws SourceUnavailableException {
        if (!writes.wanted()) {
            return loadAttached(bindings, elf, wanted, ringBufferBytes, library, mprotect, libraryOff,
                    OriginPrograms.Selection.NONE);
        }
        BpfExecProgram loaded;
        try {
            loaded = loadAttached(bindings, elf, wanted, ringBufferBytes, library, mprotect, libraryOff, OriginPrograms.Selection.ALL);
        } catch (SourceUnavailableException withWrites) {
            try {
                loaded = loadAttached(bindings, elf, wanted, ringBufferBytes, library, mprotect, libraryOff, OriginPrograms.Selection.NO_BTF);
                LOG.warn("the write programs loaded without {} ({})", OriginPrograms.BTF_PROGRAM, withWrites.getMessage());
            } catch (SourceUnavailableException withoutBtf) {
                loaded = loadAttached(bindings, elf, wanted, ringBufferBytes, library, mprotect, libraryOff, OriginPrograms.Selection.NONE);
                LOG.warn("the write programs did not load with {}: {}", wanted.section(), withoutBtf.getMessage());
                writes.unavailable("the write programs did not load: " + withoutBtf.getMessage());
                return loaded;
            }
        }
        attachWrites(bindings, loaded, writes);
        return loaded;
    }

    /** Attaches the loaded write programs; write tracking is told whether they run. */
    private static void attachWrites(LibbpfBindings bindings, BpfExecProgram loaded, WriteTracking writes) {
        try {
            loaded.origin = OriginPrograms.attach(bindings, loaded.object, Path.of("/proc"));
            writes.started();
        } catch (java.io.IOException | RuntimeException e) {
            writes.unavailable(e.getMessage());
        }
    }

    /** How this object's walks read the kernel's structures. */
    KernelReads kernelReads() {
        return kernelReads;
    }

    private static BpfExecProgram loadAttached(LibbpfBindings bindings, byte[] elf, ExecAttachment wanted,
            int ringBufferBytes, boolean library, boolean mprotect, String libraryOff,
            OriginPrograms.Selection withWrites)
            throws SourceUnavailableException {
        Libbpf libbpf = bindings.libbpf();
        Pointer bytes = Memory.allocateDirect(bindings.runtime(), elf.length);
        bytes.put(0, elf, 0, elf.length);
        Pointer obj = libbpf.bpf_object__open_mem(bytes, elf.length, null);
        if (obj == null) {
            throw new SourceUnavailableException("bpf_object__open_mem failed: "
                    + Errno.describe(bindings.runtime().getLastError()));
        }
        boolean keep = false;
        try {
            Pointer program = requireProgram(libbpf, obj, wanted.programName());
            Pointer unused = requireProgram(libbpf, obj, wanted.other().programName());
            libbpf.bpf_program__set_autoload(unused, false);
            libbpf.bpf_program__set_autoload(program, true);
            Pointer libraryProgram = libbpf.bpf_object__find_program_by_name(obj, MapRecordLayout.PROGRAM);
            if (libraryProgram != null) {
                libbpf.bpf_program__set_autoload(libraryProgram, library);
            }
            Pointer mprotectProgram = libbpf.bpf_object__find_program_by_name(obj, MapRecordLayout.MPROTECT_PROGRAM);
            if (mprotectProgram != null) {
                libbpf.bpf_program__set_autoload(mprotectProgram, library && mprotect);
            }
            OriginPrograms.setAutoload(libbpf, obj, withWrites);
            // only beside exec_btf: the classic tracepoint's kernels may lack tp_btf, and it keeps nothing anyway
            Pointer forkProgram = libbpf.bpf_object__find_program_by_name(obj, FORK_PROGRAM);
            if (forkProgram != null) {
                libbpf.bpf_program__set_autoload(forkProgram, wanted == ExecAttachment.TP_BTF);
            }
            Pointer ringMap = libbpf.bpf_object__find_map_by_name(obj, RING_BUFFER_MAP);
            if (ringMap == null) {
                throw new SourceUnavailableException("BPF object has no map " + RING_BUFFER_MAP);
            }
            int rc = libbpf.bpf_map__set_max_entries(ringMap, ringBufferBytes);
            if (rc < 0) {
                throw new SourceUnavailableException("cannot size the ring buffer to " + ringBufferBytes + " bytes: "
                        + Errno.describe(rc));
            }
            Pointer doorbell = libbpf.bpf_object__find_map_by_name(obj, DOORBELL_MAP);
            if (doorbell == null) {
                throw new SourceUnavailableException("BPF object has no map " + DOORBELL_MAP);
            }
            rc = libbpf.bpf_map__set_max_entries(doorbell, doorbellBytes(bindings));
            if (rc < 0) {
                throw new SourceUnavailableException("cannot size the doorbell ring: " + Errno.describe(rc));
            }
            rc = libbpf.bpf_object__load(obj);
            if (rc < 0) {
                throw new SourceUnavailableException("loading " + wanted.section() + " failed: " + Errno.describe(rc)
                        + " (libbpf's log, logger io.driftagent.agent.source.ebpf.libbpf, has the details)");
            }
            Pointer link = libbpf.bpf_program__attach(program);
            if (link == null) {
                int errno = bindings.runtime().getLastError();
                String hint = wanted == ExecAttachment.TRACEPOINT && !tracefsMounted()
                        ? " (libbpf resolves classic tracepoints through tracefs, which is not mounted at "
                                + "/sys/kernel/tracing or /sys/kernel/debug/tracing)"
                        : "";
                throw new SourceUnavailableException("attaching " + wanted.section() + " failed: "
                        + Errno.describe(errno) + hint);
            }
            LOG.info("attached {} (unused program {} not loaded)", wanted.section(), wanted.other().section());
            Pointer libraryLink = null;
            Pointer mprotectLink = null;
            String libraryStatus = libraryOff;
            if (library) {
                libraryLink = attachLibrary(bindings, obj, libraryProgram);
                libraryStatus = libraryLink != null ? "on (" + MapRecordLayout.SECTION + ")"
                        : "off (attaching " + MapRecordLayout.SECTION + " failed: "
                                + Errno.describe(bindings.runtime().getLastError()) + ")";
                if (libraryLink == null) {
                    LOG.warn("library drift detection {}; exec capture goes on without it", libraryStatus);
                } else {
                    mprotectLink = mprotect && mprotectProgram != null ? libbpf.bpf_program__attach(mprotectProgram)
                            : null;
                    libraryStatus += mprotectLink != null ? ", mprotect(PROT_EXEC) on (" + MapRecordLayout.MPROTECT_SECTION + ")"
                            : ", mprotect(PROT_EXEC) off (" + (mprotect && mprotectProgram != null
                                    ? "attaching " + MapRecordLayout.MPROTECT_SECTION
                                    + " failed: " + Errno.describe(bindings.runtime().getLastError())
                                    : MapRecordLayout.MPROTECT_PROGRAM + " did not load") + ")";
                    if (mprotect && mprotectProgram != null && mprotectLink == null) {
                        LOG.warn("library drift detection of mprotect(PROT_EXEC) off: attaching {} failed; "
                                + "executable mmap(2) mappings are still observed", MapRecordLayout.MPROTECT_SECTION);
                    }
                }
            }
            Pointer forkLink = null;
            if (forkProgram != null && wanted == ExecAttachment.TP_BTF) {
                forkLink = libbpf.bpf_program__attach(forkProgram);
                if (forkLink == null) {
                    LOG.warn("attaching {} failed: {}; every image exec is sent to the agent (more CPU per exec)",
                            FORK_PROGRAM, Errno.describe(bindings.runtime().getLastError()));
                }
            }
            BpfExecProgram loaded = new BpfExecProgram(bindings, bytes, obj, link, wanted, libraryLink,
                    mprotectLink, libraryStatus, forkLink);
            keep = true;
            return loaded;
        } finally {
            if (!keep) {
                libbpf.bpf_object__close(obj);
            }
        }
    }

    /**
     * Tells the library program the host's mount namespace (whose processes it skips), then attaches it. Null when it
     * cannot attach (errno set).
     */
    private static Pointer attachLibrary(LibbpfBindings bindings, Pointer obj, Pointer program) {
        if (program == null) {
            return null;
        }
        Libbpf libbpf = bindings.libbpf();
        int configFd = libbpf.bpf_object__find_map_fd_by_name(obj, MapRecordLayout.CONFIG_MAP);
        OptionalLong hostNs = HostMountNamespace.inode(Path.of("/proc"));
        if (configFd >= 0 && hostNs.isPresent()) {
            LOG.debug("library program skips mount namespace {}", hostNs.getAsLong());
            Pointer key = Memory.allocateDirect(bindings.runtime(), 4);
            Pointer value = Memory.allocateDirect(bindings.runtime(), MapRecordLayout.CFG_SIZE);
            key.putInt(0, 0);
            value.putLong(MapRecordLayout.CFG_OFF_HOST_MNT_NS, hostNs.getAsLong());
            if (libbpf.bpf_map_update_elem(configFd, key, value, 0) != 0) {
                LOG.warn("cannot tell the library program the host's mount namespace: {}; it reports host "
                        + "processes' mappings too (attribution drops them)", Errno.describe(bindings.runtime().getLastError()));
            }
        } else {
            LOG.warn("host mount namespace unknown (/proc/1/ns/mnt and /proc/self/ns/mnt unreadable): the library program reports host "
                    + "processes' mappings too (attribution drops them)");
        }
        return libbpf.bpf_program__attach(program);
    }

    /** Whether library drift detection is on, and if not, why: for the startup log. */
    String libraryStatus() {
        return libraryStatus;
    }

    boolean libraryAttached() {
        return libraryLink != null;
    }

    /** Whether the mprotect(PROT_EXEC) part of library drift detection is attached. */
    boolean mprotectAttached() {
        return mprotectLink != null;
    }

    /** The library program's counters summed over CPUs ({@code MapRecordLayout.CTR_*}); zeros when it is off. */
    long[] libraryCounters() {
        long[] sums = new long[MapRecordLayout.CTR_COUNT];
        if (object == null || libraryCountersFd < 0) {
            return sums;
        }
        Pointer key = Memory.allocateDirect(bindings.runtime(), 4);
        Pointer values = Memory.allocateDirect(bindings.runtime(), 8L * possibleCpus);
        for (int i = 0; i < sums.length; i++) {
            key.putInt(0, i);
            if (libbpf.bpf_map_lookup_elem(libraryCountersFd, key, values) == 0) {
                for (int cpu = 0; cpu < possibleCpus; cpu++) {
                    sums[i] += values.getLong(8L * cpu);
                }
            }
        }
        return sums;
    }

    /** The doorbell ring: one page, the smallest ring the kernel accepts (some 256 doorbell records). */
    static int doorbellBytes(LibbpfBindings bindings) {
        return bindings.memory().getpagesize();
    }

    /** Where the agent mounts tracefs when no tracefs is mounted: its usual place. */
    static final String TRACEFS = "/sys/kernel/tracing";

    /**
     * libbpf attaches a classic tracepoint by the id tracefs gives it, so a node (or a pod) without tracefs mounted
     * would get no library drift detection, no write tracking and no exec fallback. Mounts it at its usual place
     * when it is not mounted (root, or CAP_SYS_ADMIN in the pod's mount namespace); a failure is logged and left to
     * the attach, which then says what is missing.
     */
    static void mountTracefsIfAbsent(LibbpfBindings bindings) {
        if (tracefsMounted()) {
            return;
        }
        if (!Files.isDirectory(Path.of(TRACEFS))) {
            LOG.warn("tracefs is not mounted and {} does not exist: the tracepoint programs cannot attach", TRACEFS);
            return;
        }
        int rc = bindings.memory().mount("tracefs", TRACEFS, "tracefs", 0L, null);
        if (rc == 0 && tracefsMounted()) {
            LOG.info("mounted tracefs at {}: the tracepoint programs are attached through it", TRACEFS);
        } else {
            LOG.warn("tracefs is not mounted and mounting it at {} failed: {}; the tracepoint programs cannot attach",
                    TRACEFS, Errno.describe(bindings.runtime().getLastError()));
        }
    }

    static boolean tracefsMounted() {
        return Files.isDirectory(Path.of("/sys/kernel/tracing/events"))
                || Files.isDirectory(Path.of("/sys/kernel/debug/tracing/events"));
    }

    private static Pointer requireProgram(Libbpf libbpf, Pointer obj, String name) throws SourceUnavailableException {
        Pointer program = libbpf.bpf_object__find_program_by_name(obj, name);
        if (program == null) {
            throw new SourceUnavailableException("BPF object has no program " + name);
        }
        return program;
    }

    ExecAttachment attachment() {
        return attachment;
    }

    int ringBufferFd() {
        return ringBufferFd;
    }

    int doorbellFd() {
        return doorbellFd;
    }

    /**
     * Tells the program how the reader waits ({@code ExecRecordLayout.READER_*}), which sets when it rings the
     * doorbell. Returns false if the map could not be written. Reader thread only.
     */
    boolean setReaderState(int state) {
        if (object == null || readerStateFd < 0) {
            return false;
        }
        stateKey.putInt(0, 0);
        stateValue.putInt(0, state);
        return libbpf.bpf_map_update_elem(readerStateFd, stateKey, stateValue, 0) == 0;
    }

    /** What the program currently believes of the reader ({@code ExecRecordLayout.READER_*}), or -1. */
    int readerState() {
        if (object == null || readerStateFd < 0) {
            return -1;
        }
        Pointer key = Memory.allocateDirect(bindings.runtime(), 4);
        Pointer value = Memory.allocateDirect(bindings.runtime(), 4);
        key.putInt(0, 0);
        return libbpf.bpf_map_lookup_elem(readerStateFd, key, value) == 0 ? value.getInt(0) : -1;
    }

    /**
     * The program's side of {@link ImageExecKeeping}, or empty when this program cannot keep image execs (no fork
     * program: the object with helper reads, the classic tracepoint, a failed attach).
     */
    Optional<ImageExecKeeping.Kernel> imageExecKeeping() {
        if (object == null || forkLink == null) {
            return Optional.empty();
        }
        int rootsFd = libbpf.bpf_object__find_map_fd_by_name(object, IMAGE_ROOTS_MAP);
        int keepFd = libbpf.bpf_object__find_map_fd_by_name(object, IMAGE_KEEP_MAP);
        if (rootsFd < 0 || keepFd < 0) {
            return Optional.empty();
        }
        return Optional.of(new ImageExecKeeping.Kernel() {
            private final Pointer rootKey = Memory.allocateDirect(bindings.runtime(), 8);
            private final Pointer rootValue = Memory.allocateDirect(bindings.runtime(), 8);
            private final Pointer keepKey = Memory.allocateDirect(bindings.runtime(), 4);
            private final Pointer keepValue = Memory.allocateDirect(bindings.runtime(), 4);

            @Override
            public synchronized boolean rootOverlay(long cgroupId, long device) {
                if (object == null) {
                    return false;
                }
                rootKey.putLong(0, cgroupId);
                rootValue.putLong(0, device);
                return libbpf.bpf_map_update_elem(rootsFd, rootKey, rootValue, 0) == 0;
            }

            @Override
            public synchronized boolean keep(boolean on) {
                if (object == null) {
                    return false;
                }
                keepKey.putInt(0, 0);
                keepValue.putInt(0, on ? 1 : 0);
                return libbpf.bpf_map_update_elem(keepFd, keepKey, keepValue, 0) == 0;
            }

            @Override
            public long kept() {
                long[] c = counters();
                return Math.max(0, c[ExecRecordLayout.CTR_KEPT] - c[ExecRecordLayout.CTR_SENT_AT_FORK]);
            }
        });
    }

    /** The kernel-side counters summed over CPUs, indexed by {@code ExecRecordLayout.CTR_*}. */
    long[] counters() {
        long[] sums = new long[ExecRecordLayout.CTR_COUNT];
        if (object == null) {
            return sums;
        }
        Pointer key = Memory.allocateDirect(bindings.runtime(), 4);
        Pointer values = Memory.allocateDirect(bindings.runtime(), 8L * possibleCpus);
        for (int i = 0; i < sums.length; i++) {
            key.putInt(0, i);
            if (libbpf.bpf_map_lookup_elem(countersFd, key, values) != 0) {
                LOG.debug("reading counter {} failed: {}", i, Errno.describe(bindings.runtime().getLastError()));
                continue;
            }
            for (int cpu = 0; cpu < possibleCpus; cpu++) {
                sums[i] += values.getLong(8L * cpu);
            }
        }
        return sums;
    }

    /** Detaches the program, then closes the object (its maps and program fds). Idempotent. */
    @Override
    public void close() {
        detach();
        if (object != null) {
            libbpf.bpf_object__close(object);
            object = null;
        }
        // the ELF image must outlive the object
        Reference.reachabilityFence(objectBytes);
    }

    /** The kernel's write-tracking counters ({@code WriteRecordLayout.CTR_*}); zeros when not attached. */
    long[] originCounters() {
        return origin == null || object == null ? new long[WriteRecordLayout.CTR_COUNT] : origin.counters();
    }

    /** Whether the write programs are attached. */
    boolean writeTracking() {
        return origin != null;
    }

    /** Destroys the links: no new records after this returns. Idempotent. */
    void detach() {
        if (forkLink != null) {
            int rc = libbpf.bpf_link__destroy(forkLink);
            if (rc < 0) {
                LOG.warn("bpf_link__destroy of {} failed: {}", FORK_PROGRAM, Errno.describe(rc));
            }
            forkLink = null;
        }
        if (origin != null) {
            origin.close();
            origin = null;
        }
        if (mprotectLink != null) {
            int rc = libbpf.bpf_link__destroy(mprotectLink);
            if (rc < 0) {
                LOG.warn("bpf_link__destroy of the mprotect program failed: {}", Errno.describe(rc));
            }
            mprotectLink = null;
        }
        if (libraryLink != null) {
            int rc = libbpf.bpf_link__destroy(libraryLink);
            if (rc < 0) {
                LOG.warn("bpf_link__destroy of the library program failed: {}", Errno.describe(rc));
            }
            libraryLink = null;
        }
        if (link != null) {
            int rc = libbpf.bpf_link__destroy(link);
            if (rc < 0) {
                LOG.warn("bpf_link__destroy failed: {}", Errno.describe(rc));
            }
            link = null;
        }
    }
}
