package io.driftagent.agent.source.ebpf;

import io.driftagent.agent.provenance.WriteRecordLayout;
import io.driftagent.agent.provenance.WriteTracking;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.ImageExecKeeping;
import io.driftagent.agent.source.SourceStats;
import io.driftagent.agent.source.SourceUnavailableException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exec events from the kernel through the CO-RE program {@code exec.bpf.o} (see {@code src/main/bpf}), read from a
 * BPF ring buffer by one reader thread. The kernel side never waits: records that find the ring buffer full are
 * counted in the kernel ("ringbuf_full"); records the sink refuses are counted here ("queue_full"), as are records
 * that do not decode ("malformed_record") and sink exceptions ("sink_error").
 *
 * <p>Delivery: a lone exec is handed on at once. During an exec storm, an exec that may be drift (anything but an
 * image-layer file) waits at most {@value ExecReaderLoop#GATHER_MS} ms and an image-layer exec at most
 * {@value ExecReaderLoop#LAZY_TICK_MS} ms: the reader drains on a clock instead of being woken per exec
 * ({@link ExecReaderLoop}).
 *
 * <p>Field notes: {@link ExecEvent#startTimeNs()} is the task's {@code start_boottime} (CLOCK_BOOTTIME ns, the value
 * {@code /proc/<pid>/stat} field 22 is derived from); {@code dev} is in stat(2) encoding; for a file on overlayfs,
 * dev/ino are the overlay inode's (what stat(2) in the container reports), not the layer file's. For a
 * {@code #!} script the file is the script and the interpreter is set; when the script's own file cannot be found
 * the file is {@link ExecEvent.FileId#NONE} (unknown) and only the interpreter is set.
 */
public final class EbpfExecSource implements ExecSource {
    private static final Logger LOG = LoggerFactory.getLogger(EbpfExecSource.class);

    /**
     * @param program         which exec program to attach
     * @param ringBufferBytes ring buffer size: a power of two and a multiple of the page size (one record is 376 bytes
     *                        with its header)
     * @param pollTimeout     the longest the reader sleeps without a wakeup while execs are rare (the program rings
     *                        its doorbell for each record then, close() wakes it too): a back-stop for a missed ring
     */
    public record Config(ProgramChoice program, int ringBufferBytes, Duration pollTimeout, boolean libraryMappings) {

        /** With library drift detection on (the library program, {@code library.bpf.c}). */
        public Config(ProgramChoice program, int ringBufferBytes, Duration pollTimeout) {
            this(program, ringBufferBytes, pollTimeout, true);
        }

        /** The same with library drift detection on or off. */
        public Config withLibraryMappings(boolean on) {
            return new Config(program, ringBufferBytes, pollTimeout, on);
        }

        public Config {
            Objects.requireNonNull(program, "program");
            Objects.requireNonNull(pollTimeout, "pollTimeout");
            if (ringBufferBytes < 4096 || ringBufferBytes > MAX_RING_BUFFER_BYTES
                    || Integer.bitCount(ringBufferBytes) != 1) {
                throw new IllegalArgumentException("ringBufferBytes must be a power of two from 4096 to "
                        + MAX_RING_BUFFER_BYTES + ": " + ringBufferBytes);
            }
            if (pollTimeout.isNegative() || pollTimeout.isZero() || pollTimeout.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("pollTimeout must be positive: " + pollTimeout);
            }
        }

        /**
         * 2 MiB. The reader drains the ring into the pipeline's source queue (8,192 by default) far faster than execs
         * arrive (docs/benchmarks.md, "Drain rate and cadence"), and that queue absorbs bursts more cheaply: the
         * ring's pages are mapped twice (its wrap-around view), so each MiB here is two MiB of the agent's RSS.
         */
        public static final int DEFAULT_RING_BUFFER_BYTES = 2 * 1024 * 1024;
        /** Read in place through one buffer over both views of the data: 2 x 256 MiB fits in an int. */
        public static final int MAX_RING_BUFFER_BYTES = 256 * 1024 * 1024;

        public static Config defaults() {
            return new Config(ProgramChoice.AUTO, DEFAULT_RING_BUFFER_BYTES, Duration.ofSeconds(1));
        }
    }

    private final Config config;
    private final EbpfPrerequisites prerequisites;
    private final WriteTracking writes;
    private final boolean directReads;
    private final ImageExecKeeping keeping;
    private final Object lifecycle = new Object();
    private BpfExecProgram program;
    private ExecRingReader reader;
    private ReaderWait readerWait;
    private ExecReaderLoop readerLoop;
    private Thread readerThread;
    private volatile long[] finalKernelCounters;
    private volatile long[] finalLibraryCounters;

    public EbpfExecSource() {
        this(Config.defaults());
    }

    public EbpfExecSource(Config config) {
        this(config, EbpfPrerequisites.ofThisHost());
    }

    EbpfExecSource(Config config, EbpfPrerequisites prerequisites) {
        this(config, prerequisites, WriteTracking.NONE);
    }

    /** With write tracking: the write programs attached when {@code writes} wants them, their records handed to it. */
    public EbpfExecSource(Config config, WriteTracking writes) {
        this(config, EbpfPrerequisites.ofThisHost(), writes);
    }

    /**
     * With write tracking, and keeping in the kernel the image execs {@code keeping} says the agent knows (told to
     * {@code keeping} once the program runs, when this kernel can).
     */
    public EbpfExecSource(Config config, WriteTracking writes, ImageExecKeeping keeping) {
        this(config, EbpfPrerequisites.ofThisHost(), writes, true, keeping);
    }

    EbpfExecSource(Config config, EbpfPrerequisites prerequisites, WriteTracking writes) {
        this(config, prerequisites, writes, true);
    }

    /** {@code directReads} false: only the object with helper reads, as on a kernel that refuses the other. */
    EbpfExecSource(Config config, EbpfPrerequisites prerequisites, WriteTracking writes, boolean directReads) {
        this(config, prerequisites, writes, directReads, new ImageExecKeeping());
    }

    EbpfExecSource(Config config, EbpfPrerequisites prerequisites, WriteTracking writes, boolean directReads,
                   ImageExecKeeping keeping) {
        this.config = Objects.requireNonNull(config, "config");
        this.prerequisites = Objects.requireNonNull(prerequisites, "prerequisites");
        this.writes = Objects.requireNonNull(writes, "writes");
        this.directReads = directReads;
        this.keeping = Objects.requireNonNull(keeping, "keeping");
    }

    @Override
    public void start(ExecEventSink sink) throws SourceUnavailableException {
        Objects.requireNonNull(sink, "sink");
        synchronized (lifecycle) {
            if (program != null || finalKernelCounters != null) {
                throw new IllegalStateException("an EbpfExecSource starts once");
            }
            Optional<String> unmet = prerequisites.unmetReason();
            if (unmet.isPresent()) {
                throw new SourceUnavailableException(unmet.get());
            }
            LibbpfBindings bindings;
            try {
                bindings = LibbpfBindings.get();
            } catch (LibbpfBindings.LibbpfMissingException e) {
                throw new SourceUnavailableException(e.getMessage(), e);
            }
            ExecObjects objects = EbpfPrerequisites.readObjects();
            BpfExecProgram loaded = BpfExecProgram.load(bindings, directReads ? objects : objects.helperReadsOnly(),
                    config.program(), config.ringBufferBytes(), config.libraryMappings(), writes);
            ExecRingReader ring = null;
            MappedRingBuffer doorbell = null;
            ReaderWait waiting;
            try {
                ring = ExecRingReader.open(bindings, loaded.ringBufferFd(), config.ringBufferBytes(), sink, writes);
                doorbell = new MappedRingBuffer(bindings.memory(), bindings.runtime(), loaded.doorbellFd(),
                        BpfExecProgram.doorbellBytes(bindings));
                waiting = new ReaderWait(bindings.memory(), bindings.runtime(), doorbell);
            } catch (SourceUnavailableException | java.io.IOException | RuntimeException e) {
                if (doorbell != null) {
                    doorbell.close();
                }
                if (ring != null) {
                    ring.close();
                }
                loaded.close();
                if (e instanceof SourceUnavailableException unavailable) {
                    throw unavailable;
                }
                throw new SourceUnavailableException("cannot map the exec doorbell ring: " + e.getMessage(), e);
            }
            program = loaded;
            reader = ring;
            readerWait = waiting;
            readerLoop = new ExecReaderLoop(ring, waiting, loaded::setReaderState,
                    (int) config.pollTimeout().toMillis(), keeping::refresh);
            Optional<ImageExecKeeping.Kernel> keeper = loaded.imageExecKeeping();
            keeper.ifPresent(keeping::attach);
            readerThread = new Thread(readerLoop, "ebpf-exec-reader");
            readerThread.setDaemon(true);
            readerThread.start();
            LOG.info("eBPF exec source started on {} (ring buffer {} bytes, kernel reads {}); library drift detection {};"
                    + " image execs of known container roots {}", loaded.attachment().section(),
                    config.ringBufferBytes(), loaded.kernelReads(), loaded.libraryStatus(), keeper.isPresent()
                            ? "kept in the kernel until their process forks" : "all sent (no fork program)");
            prerequisites.scriptFileDegradation().ifPresent(why -> LOG.warn("eBPF exec source degraded: {}", why));
        }
    }

    /** How the reader currently waits; for tests. */
    Optional<ExecReaderLoop.Mode> readerMode() {
        synchronized (lifecycle) {
            return Optional.ofNullable(readerLoop).map(ExecReaderLoop::mode);
        }
    }

    /** The reader's wakeups so far; for tests and the storm harness. */
    long readerWakeups() {
        synchronized (lifecycle) {
            return readerLoop == null ? 0 : readerLoop.wakeups();
        }
    }

    /** Records so far that may be drift (each rings a lazy reader); for tests. Read without a barrier: may lag. */
    long promptRecords() {
        synchronized (lifecycle) {
            return reader == null ? 0 : reader.promptRecords();
        }
    }

    /** How the attached program reads the kernel's structures, once started. */
    Optional<BpfExecProgram.KernelReads> kernelReads() {
        synchronized (lifecycle) {
            return Optional.ofNullable(program).map(BpfExecProgram::kernelReads);
        }
    }

    /** Which program is attached, once started. */
    public Optional<ExecAttachment> attachment() {
        synchronized (lifecycle) {
            return Optional.ofNullable(program).map(BpfExecProgram::attachment);
        }
    }

    /** Whether the mprotect(PROT_EXEC) program of library drift is attached (off alone on older kernels). */
    public boolean libraryMprotectAttached() {
        synchronized (lifecycle) {
            return program != null && program.mprotectAttached();
        }
    }

    /** Whether the library program (executable file mappings: library drift) is attached. */
    public boolean libraryMappingsAttached() {
        synchronized (lifecycle) {
            return program != null && program.libraryAttached();
        }
    }

    /**
     * The library program's kernel counters, indexed by {@code io.driftagent.agent.library.MapRecordLayout.CTR_*}:
     * candidates (executable file mappings in containers), image-layer files, own executables, duplicates, records
     * written, records lost to a full ring. Zeros when it is off.
     */
    public long[] libraryCounters() {
        long[] done = finalLibraryCounters;
        if (done != null) {
            return done;
        }
        synchronized (lifecycle) {
            if (finalLibraryCounters != null) {
                return finalLibraryCounters;
            }
            return program == null ? new long[io.driftagent.agent.library.MapRecordLayout.CTR_COUNT]
                    : program.libraryCounters();
        }
    }

    /** The kernel's write-tracking counters ({@code WriteRecordLayout.CTR_*}), zeros when write tracking is off. */
    public long[] writeCounters() {
        synchronized (lifecycle) {
            return program == null ? new long[WriteRecordLayout.CTR_COUNT] : program.originCounters();
        }
    }

    /** Whether the write programs are attached. */
    public boolean writeTracking() {
        synchronized (lifecycle) {
            return program != null && program.writeTracking();
        }
    }

    /** Execs the kernel program ran for (delivered + every loss reason), for checking that nothing vanished. */
    public long kernelExecsSeen() {
        return kernelCounters()[ExecRecordLayout.CTR_SEEN];
    }

    @Override
    public SourceStats stats() {
        long[] kernel = kernelCounters();
        ExecRingReader r;
        synchronized (lifecycle) {
            r = reader;
        }
        Map<String, Long> lost = new LinkedHashMap<>();
        lost.put("ringbuf_full", kernel[ExecRecordLayout.CTR_RINGBUF_FULL]);
        long delivered = 0;
        if (r != null) {
            lost.put("queue_full", r.queueFull());
            lost.put("malformed_record", r.malformed());
            lost.put("sink_error", r.sinkFailed());
            delivered = r.delivered();
        }
        return new SourceStats(delivered, lost);
    }

    private long[] kernelCounters() {
        long[] done = finalKernelCounters;
        if (done != null) {
            return done;
        }
        synchronized (lifecycle) {
            if (finalKernelCounters != null) {
                return finalKernelCounters;
            }
            return program == null ? new long[ExecRecordLayout.CTR_COUNT] : program.counters();
        }
    }

    @Override
    public ExecEvent.SourceKind kind() {
        return ExecEvent.SourceKind.EBPF;
    }

    /** Detaches the program, drains and stops the reader, frees the ring buffer, closes the object. Idempotent. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (program == null) {
                return;
            }
            keeping.detach();
            program.detach();
            readerLoop.stop();
            readerWait.wakeup();
            // the ring buffer must not be freed under the reader: wait it out (the poll timeout bounds the wait)
            boolean interrupted = false;
            while (readerThread != null && readerThread.isAlive()) {
                try {
                    readerThread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            finalKernelCounters = program.counters();
            finalLibraryCounters = program.libraryCounters();
            readerWait.close();
            reader.close();
            program.close();
            program = null;
            LOG.info("eBPF exec source closed: {}", stats());
        }
    }
}
