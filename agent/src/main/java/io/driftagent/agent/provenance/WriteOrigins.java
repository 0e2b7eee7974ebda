package io.driftagent.agent.provenance;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.FileId;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last writer of each file written by a process in a container, from the eBPF source's write records, kept until
 * the file runs or its container ends, and asked when a drifted file is alerted.
 *
 * <p>Files are found by their dev/ino as the exec record reports them (for a file on overlayfs, the overlay inode's),
 * so a file renamed or reached by another name is still found; bounds and forgetting go by container (the writer's
 * mount namespace): at most {@link Limits#perContainer()} files per container and {@link Limits#total()} in all, the
 * oldest evicted first (counted; an evicted file's alert says so). A container's files are forgotten
 * {@link Limits#goneGrace()} after its rootfs was unmounted (capture tells {@link #containerGone}), so its last execs,
 * still in the pipeline then, find their writers, and a namespace number or overlay device the kernel reuses later
 * never finds a stale writer.
 *
 * <p>A writer is a process (tgid + start time): when it execs another program after it opened the file (the shell's
 * {@code cat > f} opens f in the forked shell, then the shell execs cat) it is named by its latest image, from the exec
 * records of the same process. Thread-safe: records and execs come from the source's reader thread, lookups from the
 * pipeline, {@code containerGone} from capture.
 */
public final class WriteOrigins implements WriteTracking, OriginLookup {
    private static final Logger LOG = LoggerFactory.getLogger(WriteOrigins.class);

    /**
     * @param perContainer most files kept per container (writer mount namespace)
     * @param total        most files kept in all
     * @param evictedKept  how many evicted files are remembered, so their alerts say "evicted"
     * @param goneGrace    how long a container's files are kept after it ended
     */
    public record Limits(int perContainer, int total, int evictedKept, Duration goneGrace) {
        public static final int DEFAULT_PER_CONTAINER = 4096;
        public static final int DEFAULT_TOTAL = 65_536;

        public Limits {
            if (perContainer <= 0 || total <= 0 || evictedKept < 0) {
                throw new IllegalArgumentException("limits must be positive: " + perContainer + ", " + total + ", "
                        + evictedKept);
            }
            Objects.requireNonNull(goneGrace, "goneGrace");
        }

        public static Limits defaults() {
            return new Limits(DEFAULT_PER_CONTAINER, DEFAULT_TOTAL, 16_384, Duration.ofSeconds(10));
        }
    }

    private final Limits limits;
    private final LongSupplier nanoClock;
    private final boolean wanted;
    private final WriteRecordParser parser = new WriteRecordParser();
    private volatile boolean active;

    /** Oldest written first (a rewrite moves a file to the end). */
    private final LinkedHashMap<FileId, FileEntry> files = new LinkedHashMap<>();
    private final Map<Long, Group> groups = new HashMap<>();
    private final Map<WriterKey, Writer> writers = new HashMap<>();
    private final LinkedHashMap<FileId, OriginUnknown> evicted = new LinkedHashMap<>();

    private final AtomicLong writeRecords = new AtomicLong();
    private final AtomicLong remoteRecords = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();
    private final AtomicLong evictedContainer = new AtomicLong();
    private final AtomicLong evictedNode = new AtomicLong();
    private final AtomicLong forgotten = new AtomicLong();
    private final AtomicLong writerUpdates = new AtomicLong();

    /**
     * @param wanted    whether the eBPF source should attach the write programs (false, turned off: every answer
     *                  is {@link OriginUnknown#TURNED_OFF})
     * @param nanoClock CLOCK_MONOTONIC nanoseconds ({@code System::nanoTime}), the clock of the records' timestamps
     */
    public WriteOrigins(Limits limits, boolean wanted, LongSupplier nanoClock) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.wanted = wanted;
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    }

    public static WriteOrigins withDefaults() {
        return withDefaults(true);
    }

    /** With the default bounds; {@code wanted} false: write tracking turned off. */
    public static WriteOrigins withDefaults(boolean wanted) {
        return new WriteOrigins(Limits.defaults(), wanted, System::nanoTime);
    }

    @Override
    public boolean wanted() {
        return wanted;
    }

    @Override
    public void started() {
        active = true;
    }

    @Override
    public void unavailable(String why) {
        active = false;
        LOG.warn("write tracking unavailable, drift.origin will say so: {}", why);
    }

    /** Whether write records are being recorded. */
    public boolean active() {
        return active;
    }

    @Override
    public void onWriteRecord(ByteBuffer raw, int offset, int length) {
        WriteRecord record = parser.parse(raw, offset, length);
        if (record == null) {
            malformed.incrementAndGet();
            return;
        }
        accept(record);
    }

    /** Records one write (or remote update). */
    public synchronized void accept(WriteRecord record) {
        purgeGone();
        WriterKey key = new WriterKey(record.tgid(), record.startTimeNs());
        if (record.remoteUpdate()) {
            remoteRecords.incrementAndGet();
            Writer writer = writers.get(key);
            if (writer != null && record.remote() != null) {
                writer.remote = record.remote();
            }
            return;
        }
        writeRecords.incrementAndGet();
        Writer writer = writers.get(key);
        if (writer == null) {
            writer = new Writer(record.tgid());
            writers.put(key, writer);
        }
        writer.refs++; // before the file's previous entry is let go: it may be this writer's
        // the record is the process's image when it opened the file: its latest
        if (record.exe() != null) {
            writer.exe = record.exe();
        }
        if (!record.argv().isEmpty()) {
            writer.argv = record.argv();
        }
        if (record.remote() != null) {
            writer.remote = record.remote();
        }
        FileEntry previous = files.remove(record.file());
        if (previous != null) {
            detach(previous);
        }
        Group group = groups.get(record.mountNs());
        if (group != null && group.goneAtNanos >= 0) {
            // a namespace number reused by a new container: the old one's files go now
            forget(record.mountNs(), group);
            group = null;
        }
        if (group == null) {
            group = new Group();
            groups.put(record.mountNs(), group);
        }
        FileEntry entry = new FileEntry(record.file(), record.mountNs(), key, writer, record.timestampNs(),
                previous == null ? null : previous.lastState());
        files.put(record.file(), entry);
        group.files.add(record.file());
        evicted.remove(record.file());
        while (group.files.size() > limits.perContainer()) {
            FileId oldest = group.files.iterator().next();
            evict(files.get(oldest), OriginUnknown.EVICTED_CONTAINER);
            evictedContainer.incrementAndGet();
        }
        while (files.size() > limits.total()) {
            evict(files.values().iterator().next(), OriginUnknown.EVICTED_NODE);
            evictedNode.incrementAndGet();
        }
    }

    @Override
    public void onExec(ExecEvent event) {
        synchronized (this) {
            if (writers.isEmpty()) {
                return;
            }
            Writer writer = writers.get(new WriterKey(event.tgid(), event.startTimeNs()));
            if (writer == null) {
                return;
            }
            writerUpdates.incrementAndGet();
            writer.exe = event.kernel().path();
            writer.argv = List.copyOf(event.kernel().argv());
        }
    }

    /**
     * The last writer of the file an exec ran, as it was when the exec happened.
     *
     * @param event the exec (its source, its time)
     * @param file  the drifted file: the exec'd file, or the script for an interpreted one
     */
    @Override
    public WriteOrigin originOf(ExecEvent event, FileId file) {
        if (event.source() == ExecEvent.SourceKind.FANOTIFY) {
            return WriteOrigin.unknown(OriginUnknown.FANOTIFY);
        }
        if (!active) {
            return WriteOrigin.unknown(wanted ? OriginUnknown.UNAVAILABLE : OriginUnknown.TURNED_OFF);
        }
        synchronized (this) {
            FileEntry entry = files.get(file);
            if (entry != null) {
                Group group = groups.get(entry.mountNs);
                boolean stale = group != null && group.goneAtNanos >= 0 && group.goneAtNanos < event.timestampNs();
                if (!stale) {
                    // a rewrite after the exec: the writer before it is the one that wrote what ran
                    if (entry.timestampNs > event.timestampNs() && entry.before != null
                            && entry.before.timestampNs() <= event.timestampNs()) {
                        return entry.before;
                    }
                    return entry.state();
                }
            }
            OriginUnknown why = evicted.get(file);
            return WriteOrigin.unknown(why != null ? why : OriginUnknown.NOT_SEEN);
        }
    }

    /** A container (its processes' mount namespace) ended: its files are forgotten after the grace period. */
    public synchronized void containerGone(long mountNs) {
        Group group = groups.get(mountNs);
        if (group != null && group.goneAtNanos < 0) {
            group.goneAtNanos = nanoClock.getAsLong();
        }
        purgeGone();
    }

    /** Files kept now. */
    public synchronized int size() {
        return files.size();
    }

    /** Counters: write, remote, malformed records; evicted_container, evicted_node; forgotten (container ended); writer_updates (a writer's later exec). */
    public Map<String, Long> stats() {
        Map<String, Long> stats = new LinkedHashMap<>();
        stats.put("write", writeRecords.get());
        stats.put("remote", remoteRecords.get());
        stats.put("malformed", malformed.get());
        stats.put("evicted_container", evictedContainer.get());
        stats.put("evicted_node", evictedNode.get());
        stats.put("forgotten", forgotten.get());
        stats.put("writer_updates", writerUpdates.get());
        return stats;
    }

    private void purgeGone() {
        long now = nanoClock.getAsLong();
        long grace = limits.goneGrace().toNanos();
        Iterator<Map.Entry<Long, Group>> it = groups.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, Group> e = it.next();
            Group group = e.getValue();
            if (group.goneAtNanos >= 0 && now - group.goneAtNanos >= grace) {
                dropFiles(group);
                it.remove();
            }
        }
    }

    private void forget(long mountNs, Group group) {
        dropFiles(group);
        groups.remove(mountNs);
    }

    private void dropFiles(Group group) {
        for (FileId id : group.files) {
            FileEntry entry = files.remove(id);
            if (entry != null) {
                release(entry);
                forgotten.incrementAndGet();
            }
        }
        group.files.clear();
    }

    private void evict(FileEntry entry, OriginUnknown why) {
        files.remove(entry.file);
        detach(entry);
        if (limits.evictedKept() > 0) {
            evicted.put(entry.file, why);
            if (evicted.size() > limits.evictedKept()) {
                Iterator<FileId> it = evicted.keySet().iterator();
                it.next();
                it.remove();
            }
        }
    }

    /** Takes the entry out of its group and its writer. */
    private void detach(FileEntry entry) {
        Group group = groups.get(entry.mountNs);
        if (group != null) {
            group.files.remove(entry.file);
            if (group.files.isEmpty() && group.goneAtNanos < 0) {
                groups.remove(entry.mountNs);
            }
        }
        release(entry);
    }

    private void release(FileEntry entry) {
        if (--entry.writer.refs <= 0) {
            writers.remove(entry.writerKey, entry.writer);
        }
    }

    private record WriterKey(int tgid, long startTimeNs) {
    }

    /** A writing process; its image may change (a later exec). Guarded by the store's lock. */
    private static final class Writer {
        final int tgid;
        String exe;
        List<String> argv = List.of();
        String remote;
        int refs;

        Writer(int tgid) {
            this.tgid = tgid;
        }
    }

    private static final class FileEntry {
        final FileId file;
        final long mountNs;
        final WriterKey writerKey;
        final Writer writer;
        final long timestampNs;
        /** The writer before this one, as it was: answers for an exec that came before this write. */
        final WriteOrigin before;

        FileEntry(FileId file, long mountNs, WriterKey writerKey, Writer writer, long timestampNs, WriteOrigin before) {
            this.file = file;
            this.mountNs = mountNs;
            this.writerKey = writerKey;
            this.writer = writer;
            this.timestampNs = timestampNs;
            this.before = before;
        }

        WriteOrigin state() {
            return new WriteOrigin(writer.tgid, writer.exe, writer.argv, timestampNs, writer.remote, null);
        }

        WriteOrigin lastState() {
            return state();
        }
    }

    private static final class Group {
        final LinkedHashSet<FileId> files = new LinkedHashSet<>();
        long goneAtNanos = -1;
    }
}
