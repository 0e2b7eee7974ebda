package io.driftagent.agent.host;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one watcher of the host's mount table: one thread waits in poll(2) for {@code POLLPRI} on a host process's
 * {@code mountinfo} (the kernel raises it after every mount or unmount in that namespace), re-reads the table and
 * tells each {@link Listener} which mounts were added and which removed. The table is also re-read every
 * {@value #IDLE_REREAD_MS} ms, which is all there is when poll(2) cannot be had (said once at start). A table that
 * cannot be read and a listener that throws are counted ({@link #errors()}) and logged; the thread goes on.
 *
 * <p>{@link #start()} opens the table for notification and delivers the whole table (as added) to the listeners
 * before it returns, so no mount made after it goes unnoticed; a listener added later gets the current table (as
 * added) at once, on the caller's thread. Listeners are called one at a time, under this object's lock, in the
 * order they were added; a listener must not block.
 */
public final class HostMountTable implements AutoCloseable {

    /** Told of the table's changes, on the watcher's thread (or the thread of {@link #start} / {@link #addListener}). */
    public interface Listener {
        /** The mounts added and removed since the last call; {@code current} is the whole table now. */
        void changed(Change change);

        /** Called after every wake of the watcher, changed or not (the listener's own retries). */
        default void woke() {
        }

        /** How soon the listener wants the next {@link #woke()} (ms); the watcher waits at most this long. */
        default int wakeWithinMs() {
            return Integer.MAX_VALUE;
        }
    }

    /** One change of the table: {@code added} and {@code removed} are disjoint; {@code current} is the table now. */
    public record Change(List<MountInfoEntry> current, List<MountInfoEntry> added, List<MountInfoEntry> removed) {
        public Change {
            current = List.copyOf(current);
            added = List.copyOf(added);
            removed = List.copyOf(removed);
        }
    }

    static final int IDLE_REREAD_MS = 500;
    private static final int MAX_TABLE_BYTES = 16 << 20;
    private static final Logger LOG = LoggerFactory.getLogger(HostMountTable.class);

    private final Path mountInfo;
    private final LongSupplier nanoClock;
    private final MountInfoParser parser = new MountInfoParser();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final LongAdder reads = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private List<MountInfoEntry> current = List.of();
    private Set<MountInfoEntry> known = Set.of();
    private MountTableChanges changes;
    private Thread thread;
    private volatile boolean running;

    /** Watches {@code mountInfo} (a host process's {@code /proc/<pid>/mountinfo}). */
    public HostMountTable(Path mountInfo, LongSupplier nanoClock) {
        this.mountInfo = Objects.requireNonNull(mountInfo, "mountInfo");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    }

    /** The host's table as this agent sees it: the host pid 1's mountinfo when readable, else this process's. */
    public static HostMountTable onThisHost(Path procRoot) {
        Path hostInit = procRoot.resolve("1/mountinfo");
        return new HostMountTable(Files.isReadable(hostInit) ? hostInit : procRoot.resolve("self/mountinfo"),
                System::nanoTime);
    }

    /** The mountinfo file watched. */
    public Path source() {
        return mountInfo;
    }

    /**
     * Adds a listener; when the watcher runs, the listener is given the current table (as added) before this returns.
     */
    public synchronized void addListener(Listener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        if (running) {
            deliver(listener, new Change(current, current, List.of()));
        }
    }

    /** Removes a listener (the watcher keeps running for the others); a call to it under way ends first. */
    public synchronized void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    /**
     * Opens the table for change notification, reads it and gives it to the listeners, then starts the thread that
     * follows its changes. Does nothing when already started.
     */
    public synchronized void start() {
        if (thread != null) {
            return;
        }
        changes = MountTableChanges.open(mountInfo);
        LOG.info("watching the host's mount table {} ({})", mountInfo,
                changes.signalled() ? "woken by poll(2) on mount changes" : "re-read every " + IDLE_REREAD_MS + " ms");
        running = true;
        long failedBefore = errors.sum();
        reread();
        if (errors.sum() > failedBefore) {
            LOG.warn("cannot read the host's mount table {}: new mounts (containers) are seen once it can be read",
                    mountInfo);
        }
        Thread t = new Thread(this::watch, "drift-host-mount-table");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /** Whether mount changes wake the watcher (else it only re-reads periodically). */
    public synchronized boolean signalled() {
        return changes != null && changes.signalled();
    }

    /** Reads of the table. */
    public long reads() {
        return reads.sum();
    }

    /** Reads that failed and listener calls that threw. */
    public long errors() {
        return errors.sum();
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = thread;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void watch() {
        MountTableChanges watched;
        synchronized (this) {
            watched = changes;
        }
        try (watched) {
            long lastRead = nanoClock.getAsLong();
            while (running) {
                int timeout;
                synchronized (this) {
                    timeout = timeoutMs();
                }
                boolean changed = watched.await(timeout);
                if (!running) {
                    break;
                }
                long now = nanoClock.getAsLong();
                synchronized (this) {
                    if (changed || now - lastRead >= IDLE_REREAD_MS * 1_000_000L) {
                        reread();
                        lastRead = now;
                    }
                    for (Listener listener : listeners) {
                        try {
                            listener.woke();
                        } catch (RuntimeException e) {
                            failed(listener, e);
                        }
                    }
                }
            }
        } catch (InterruptedException stopping) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            LOG.error("the host mount table watcher stopped: new mounts are no longer seen", e);
        }
    }

    private int timeoutMs() {
        int timeout = IDLE_REREAD_MS;
        for (Listener listener : listeners) {
            try {
                timeout = Math.min(timeout, Math.max(0, listener.wakeWithinMs()));
            } catch (RuntimeException e) {
                failed(listener, e);
            }
        }
        return timeout;
    }

    /** Reads the table and tells every listener what changed. */
    private void reread() {
        reads.increment();
        List<MountInfoEntry> entries;
        try {
            entries = parser.parse(new String(readBounded(mountInfo), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            errors.increment();
            LOG.debug("cannot read {}: {}", mountInfo, e.toString());
            return;
        }
        Set<MountInfoEntry> now = new HashSet<>(entries);
        List<MountInfoEntry> added = new ArrayList<>();
        for (MountInfoEntry entry : entries) {
            if (!known.contains(entry)) {
                added.add(entry);
            }
        }
        List<MountInfoEntry> removed = new ArrayList<>();
        for (MountInfoEntry entry : current) {
            if (!now.contains(entry)) {
                removed.add(entry);
            }
        }
        current = List.copyOf(entries);
        known = now;
        if (added.isEmpty() && removed.isEmpty()) {
            return;
        }
        Change change = new Change(current, added, removed);
        for (Listener listener : listeners) {
            deliver(listener, change);
        }
    }

    private void deliver(Listener listener, Change change) {
        try {
            listener.changed(change);
        } catch (RuntimeException e) {
            failed(listener, e);
        }
    }

    private void failed(Listener listener, RuntimeException e) {
        errors.increment();
        LOG.warn("a listener of the host mount table failed ({}): {}", listener, e.toString(), e);
    }

    private static byte[] readBounded(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_TABLE_BYTES + 1);
            if (bytes.length > MAX_TABLE_BYTES) {
                throw new IOException("larger than " + MAX_TABLE_BYTES + " bytes: " + file);
            }
            return bytes;
        }
    }
}
