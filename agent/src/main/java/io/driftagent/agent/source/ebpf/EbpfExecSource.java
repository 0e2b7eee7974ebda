package io.driftagent.agent.source.ebpf;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.SourceStats;
import io.driftagent.agent.source.SourceUnavailableException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exec events from the kernel through the CO-RE program {@code exec.bpf.o} (see {@code src/main/bpf}), read from a
 * BPF ring buffer by one reader thread. The kernel side never waits: records that find the ring buffer full are
 * counted in the kernel ("ringbuf_full"); records the sink refuses are counted here ("queue_full"), as are records
 * that do not decode ("malformed_record") and sink exceptions ("sink_error").
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
     * @param pollTimeout     the longest the reader sleeps without a wakeup (the kernel wakes it for the first record
     *                        into a drained ring, close() wakes it too): a back-stop for a missed wakeup
     */
    public record Config(ProgramChoice program, int ringBufferBytes, Duration pollTimeout) {
        public Config {
            Objects.requireNonNull(program, "program");
            Objects.requireNonNull(pollTimeout, "pollTimeout");
            if (ringBufferBytes < 4096 || Integer.bitCount(ringBufferBytes) != 1) {
                throw new IllegalArgumentException("ringBufferBytes must be a power of two >= 4096: " + ringBufferBytes);
            }
            if (pollTimeout.isNegative() || pollTimeout.isZero() || pollTimeout.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("pollTimeout must be positive: " + pollTimeout);
            }
        }

        /**
         * 2 MiB: about 5,600 records, 0.45 s of a 12,000 execs/s storm. The reader drains over a million records a
         * second into the pipeline's source queue (8,192 by default), which absorbs bursts far more cheaply: the
         * ring's pages are mapped twice (its wrap-around view), so each MiB here is two MiB of the agent's RSS.
         */
        public static final int DEFAULT_RING_BUFFER_BYTES = 2 * 1024 * 1024;

        public static Config defaults() {
            return new Config(ProgramChoice.AUTO, DEFAULT_RING_BUFFER_BYTES, Duration.ofSeconds(1));
        }
    }

    /**
     * Pause after a batch: adds at most this to an exec's latency during a storm (an isolated exec wakes the reader at
     * once) and bounds the reader to ~500 cycles/s. Measured: 1 ms cost about twice the reader CPU per exec of the
     * earlier 64-record wakeups (docs/benchmarks.md, "Exec capture: eBPF").
     */
    private static final long BATCH_GATHER_NANOS = 2_000_000L;
    /** Records gathered in one {@link #BATCH_GATHER_NANOS} that make the reader drain on its own clock. */
    private static final int STORM_BATCH = 4;
    /** Empty drains (of {@link #BATCH_GATHER_NANOS} each) before the reader goes back to sleeping in poll(2). */
    private static final int IDLE_DRAINS_BEFORE_SLEEP = 5;

    private final Config config;
    private final EbpfPrerequisites prerequisites;
    private final Object lifecycle = new Object();
    private BpfExecProgram program;
    private ExecRingReader reader;
    private Thread readerThread;
    private volatile boolean running;
    private volatile long[] finalKernelCounters;

    public EbpfExecSource() {
        this(Config.defaults());
    }

    public EbpfExecSource(Config config) {
        this(config, EbpfPrerequisites.ofThisHost());
    }

    EbpfExecSource(Config config, EbpfPrerequisites prerequisites) {
        this.config = Objects.requireNonNull(config, "config");
        this.prerequisites = Objects.requireNonNull(prerequisites, "prerequisites");
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
            byte[] elf = EbpfPrerequisites.readObject();
            BpfExecProgram loaded = BpfExecProgram.load(bindings, elf, config.program(), config.ringBufferBytes());
            ExecRingReader ring;
            try {
                ring = new ExecRingReader(bindings, loaded.ringBufferFd(), config.ringBufferBytes(), sink);
            } catch (SourceUnavailableException e) {
                loaded.close();
                throw e;
            }
            program = loaded;
            reader = ring;
            running = true;
            readerThread = new Thread(this::readLoop, "ebpf-exec-reader");
            readerThread.setDaemon(true);
            readerThread.start();
            LOG.info("eBPF exec source started on {} (ring buffer {} bytes)", loaded.attachment().section(),
                    config.ringBufferBytes());
        }
    }

    /**
     * Sleeps in poll(2) while execs are rare (the program wakes it for the first record into a drained ring). Once
     * records come in batches ({@link #STORM_BATCH} within {@link #BATCH_GATHER_NANOS} of a wakeup) it drains on its
     * own clock, every {@link #BATCH_GATHER_NANOS}, and tells the program not to wake it:
     * a wakeup is an irq_work, on a VM an exit to the hypervisor, and under a storm those were most of the program's
     * cost. After {@link #IDLE_DRAINS_BEFORE_SLEEP} empty drains it goes back to sleeping.
     */
    private void readLoop() {
        int timeoutMs = (int) config.pollTimeout().toMillis();
        BpfExecProgram attached = program;
        boolean polling = false;
        int idleDrains = 0;
        while (running) {
            if (!polling) {
                int rc = reader.poll(timeoutMs);
                if (rc < 0 && -rc != Errno.EINTR) {
                    LOG.error("reading the exec ring buffer failed: {}; the reader stops", Errno.describe(rc));
                    return;
                }
                if (rc > 0) {
                    // let the next records gather; a wakeup that finds a batch means a storm: stop being woken
                    LockSupport.parkNanos(BATCH_GATHER_NANOS);
                    if (reader.consume() >= STORM_BATCH) {
                        polling = attached.setReaderState(ExecRecordLayout.READER_POLLING);
                        idleDrains = 0;
                    }
                }
                continue;
            }
            LockSupport.parkNanos(BATCH_GATHER_NANOS);
            if (reader.consume() > 0) {
                idleDrains = 0;
            } else if (++idleDrains >= IDLE_DRAINS_BEFORE_SLEEP) {
                attached.setReaderState(ExecRecordLayout.READER_SLEEPING);
                polling = false;
                // a record committed before the program saw SLEEPING woke nobody: take it now, then sleep
                if (reader.consume() > 0) {
                    polling = attached.setReaderState(ExecRecordLayout.READER_POLLING);
                    idleDrains = 0;
                }
            }
        }
        // the link is already destroyed: hand on what the kernel wrote before detaching
        reader.consume();
    }

    /** Whether the program currently leaves the reader unwoken (it drains on its own clock); for tests. */
    boolean readerPolling() {
        synchronized (lifecycle) {
            return program != null && program.readerState() == ExecRecordLayout.READER_POLLING;
        }
    }

    /** Which program is attached, once started. */
    public Optional<ExecAttachment> attachment() {
        synchronized (lifecycle) {
            return Optional.ofNullable(program).map(BpfExecProgram::attachment);
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
            program.detach();
            running = false;
            reader.wakeup();
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
            reader.close();
            program.close();
            program = null;
            LOG.info("eBPF exec source closed: {}", stats());
        }
    }
}
