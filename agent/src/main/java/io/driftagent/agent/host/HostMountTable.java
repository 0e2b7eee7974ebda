package io.driftagent.agent.host;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
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

        /**
         * A mount was just attached, as the kernel's notice described it (only where {@link MountNotifications} can
         * be had): called at once on the notice reader's thread, before {@link #changed} tells of it, so a listener
         * can read what goes with the mount while it is there (a runtime's bundle, a layer directory). Must be quick
         * and thread-safe.
         */
        default void attached(MountInfoEntry entry) {
        }
    }

    /**
     * A mount that was attached and detached between two reads of the table: never in {@link Change#current()}.
     *
     * @param entry         as statmount described it when its attach was read
     * @param attachedNanos when its attach notice was read (CLOCK_MONOTONIC of the table's clock)
     * @param detachedNanos when its detach notice was read, or the read of the table that no longer showed it
     */
    public record Transient(MountInfoEntry entry, long attachedNanos, long detachedNanos) {
        public Transient {
            Objects.requireNonNull(entry, "entry");
        }
    }

    /**
     * One change of the table: {@code added} and {@code removed} are disjoint; {@code current} is the table now;
     * {@code transients} came and went since the last read (told by the kernel's notices); {@code noticedAt} is when
     * the kernel's notice of an added entry's attach, or of a removed entry's detach, was read (where one was).
     */
    public record Change(List<MountInfoEntry> current, List<MountInfoEntry> added, List<MountInfoEntry> removed,
                         List<Transient> transients, Map<MountInfoEntry, Long> noticedAt) {
        public Change {
            current = List.copyOf(current);
            added = List.copyOf(added);
            removed = List.copyOf(removed);
            transients = List.copyOf(transients);
            noticedAt = Map.copyOf(noticedAt);
        }

        public Change(List<MountInfoEntry> current, List<MountInfoEntry> added, List<MountInfoEntry> removed) {
            this(current, added, removed, List.of(), Map.of());
        }

        /** When the kernel said {@code entry} (added or removed) changed, else {@code fallback} (e.g. now). */
        public long noticedAt(MountInfoEntry entry, long fallback) {
            Long at = noticedAt.get(entry);
            return at == null ? fallback : at;
        }
    }

    static final int IDLE_REREAD_MS = 500;
    private static final int MAX_TABLE_BYTES = 16 << 20;
    private static final Logger LOG = LoggerFactory.getLogger(HostMountTable.class);

    private final Path mountInfo;
    /** The namespace whose mount notices are read ({@code /proc/<pid>/ns/mnt}), null: the table reads alone. */
    private final Path namespace;
    private final Path ownNamespace;
    private final LongSupplier nanoClock;
    private volatile MountNotifications notifications;
    private boolean notificationsTried;
    /** unique mount id -> the entry its attach notice described (while it is mounted; bounded) */
    private final Map<Long, MountInfoEntry> noticed = new java.util.LinkedHashMap<>();
    private static final int MAX_NOTICED = 65_536;
    /** Notices drained before a read of the table that failed: matched to the next one. */
    private final List<MountNotifications.Note> carriedNotes = new ArrayList<>();
    private final MountInfoParser parser = new MountInfoParser();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final LongAdder reads = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder transientsSeen = new LongAdder();
    private List<MountInfoEntry> current = List.of();
    private Set<MountInfoEntry> known = Set.of();
    private MountTableChanges changes;
    private Thread thread;
    private volatile boolean running;

    /** Watches {@code mountInfo} (a host process's {@code /proc/<pid>/mountinfo}) by reading it. */
    public HostMountTable(Path mountInfo, LongSupplier nanoClock) {
        this(mountInfo, null, null, nanoClock);
    }

    /**
     * Watches {@code mountInfo}, and where the kernel can tell of every mount as it happens, the notices of
     * {@code namespace} (the same process's {@code ns/mnt}, or another's of the same namespace) too;
     * {@code ownNamespace} is the agent's (see {@link MountNotifications#open}).
     */
    public HostMountTable(Path mountInfo, Path namespace, Path ownNamespace, LongSupplier nanoClock) {
        this.mountInfo = Objects.requireNonNull(mountInfo, "mountInfo");
        this.namespace = namespace;
        this.ownNamespace = ownNamespace;
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    }

    /**
     * The host's table as this agent sees it: that of the host process whose root the agent can reach
     * ({@link #hostProcess}), the one the fanotify source marks the node's root through, with the notices of its
     * namespace; where there is none, the host pid 1's mountinfo when readable, else this process's.
     */
    public static HostMountTable onThisHost(Path procRoot) {
        Path own = procRoot.resolve("self/ns/mnt");
        Optional<String> host = hostProcess(procRoot);
        if (host.isPresent()) {
            return new HostMountTable(procRoot.resolve(host.get() + "/mountinfo"),
                    procRoot.resolve(host.get() + "/ns/mnt"), own, System::nanoTime);
        }
        Path hostInit = procRoot.resolve("1/mountinfo");
        return Files.isReadable(hostInit)
                ? new HostMountTable(hostInit, namespaceOf(procRoot, "1"), own, System::nanoTime)
                : new HostMountTable(procRoot.resolve("self/mountinfo"), own, own, System::nanoTime);
    }

    /**
     * The host process through which the node is seen from a pod (hostPID): pid 1 when its root can be reached
     * ({@code <procRoot>/1/root}, which needs the same ptrace access as its {@code ns/mnt}); else kthreadd, pid 2,
     * whose namespace is always the initial one, when its root can be reached and its mount table reads the same as
     * pid 1's (the chart's pod where the node's init is not dumpable); else none. Both the one watcher of the host's
     * mount table and the fanotify source (which marks the node's root filesystem through it) follow this process,
     * so the node's mount table and its mount notices are read once.
     */
    public static Optional<String> hostProcess(Path procRoot) {
        if (Files.isDirectory(procRoot.resolve("1/root"))) {
            return Optional.of("1");
        }
        if (!Files.isDirectory(procRoot.resolve("2/root"))) {
            return Optional.empty();
        }
        try {
            for (int attempt = 0; attempt < 3; attempt++) { // a mount between the two reads: read both again
                if (java.util.Arrays.equals(readBounded(procRoot.resolve("1/mountinfo")),
                        readBounded(procRoot.resolve("2/mountinfo")))) {
                    return Optional.of("2");
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** The pid of the host process whose mount table this reads (see {@link #hostProcess}); empty for "self". */
    public Optional<String> hostPid() {
        Path dir = mountInfo.getParent();
        String name = dir == null || dir.getFileName() == null ? "" : dir.getFileName().toString();
        return name.chars().allMatch(Character::isDigit) && !name.isEmpty() ? Optional.of(name) : Optional.empty();
    }

    /**
     * {@code <procRoot>/<pid>/ns/mnt}; where that link cannot be read (a host init that is not dumpable) but the
     * process's mount table reads the same as the agent's own, the agent's own namespace, which it then shares; else
     * (the chart's pod: a namespace of its own) kthreadd's ({@code <procRoot>/2/ns/mnt}, always the initial mount
     * namespace) where its mount table reads the same as the process's.
     */
    static Path namespaceOf(Path procRoot, String pid) {
        Path ns = procRoot.resolve(pid + "/ns/mnt");
        if (readableLink(ns)) {
            return ns;
        }
        Path kthreadd = procRoot.resolve("2/ns/mnt");
        try {
            byte[] theirs = readBounded(procRoot.resolve(pid + "/mountinfo"));
            if (java.util.Arrays.equals(theirs, readBounded(procRoot.resolve("self/mountinfo")))) {
                return procRoot.resolve("self/ns/mnt");
            }
            if (pid.equals("2") || !readableLink(kthreadd)) {
                return ns;
            }
            for (int attempt = 0; attempt < 3; attempt++) { // a mount between the two reads: read both again
                if (java.util.Arrays.equals(theirs, readBounded(procRoot.resolve("2/mountinfo")))) {
                    return kthreadd;
                }
                theirs = readBounded(procRoot.resolve(pid + "/mountinfo"));
            }
            return ns;
        } catch (IOException e) {
            return ns;
        }
    }

    private static boolean readableLink(Path link) {
        try {
            Files.readSymbolicLink(link);
            return true;
        } catch (IOException | RuntimeException unreadable) {
            return false;
        }
    }

    /** The namespace whose mount notices are read (when they can be had); null: the table reads alone. */
    Path noticedNamespace() {
        return namespace;
    }

    /**
     * Where mount notices are read: attached mounts described at once, those detached before that ("gone"), notices
     * lost; empty when they are not used (see {@link MountNotifications#open}).
     */
    public Optional<Map<String, Long>> notices() {
        MountNotifications n = notifications;
        return n == null ? Optional.empty()
                : Optional.of(Map.of("described", n.described(), "gone", n.gone(), "dropped", n.dropped()));
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
        if (namespace != null && ownNamespace != null && !notificationsTried) {
            notificationsTried = true;
            notifications = MountNotifications.open(namespace, ownNamespace, nanoClock).orElse(null);
            if (notifications != null) {
                // started before the first read: a mount made after it is noticed, or in the table, or both
                notifications.start(this::attachedNow);
            }
        }
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

    /** On the notice reader's thread: tells every listener of a mount just attached. */
    private void attachedNow(MountInfoEntry entry) {
        for (Listener listener : listeners) {
            try {
                listener.attached(entry);
            } catch (RuntimeException e) {
                errors.increment();
                LOG.warn("a listener of the host mount table failed on a new mount ({}): {}", listener, e.toString(), e);
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
        } finally {
            MountNotifications n;
            synchronized (this) {
                n = notifications;
            }
            if (n != null) {
                n.close();
            }
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
        // the notices first: a mount attached before this point and not in the table read next came and went
        List<MountNotifications.Note> notes = new ArrayList<>(carriedNotes);
        carriedNotes.clear();
        if (notifications != null) {
            notes.addAll(notifications.drain());
        }
        List<MountInfoEntry> entries;
        try {
            entries = parser.parse(new String(readBounded(mountInfo), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            errors.increment();
            LOG.debug("cannot read {}: {}", mountInfo, e.toString());
            carriedNotes.addAll(notes.subList(Math.max(0, notes.size() - MAX_NOTICED), notes.size())); // next read
            return;
        }
        long readAt = nanoClock.getAsLong(); // a mount noticed before the read and not in it was detached by now
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
        Map<MountInfoEntry, Long> noticedAt = new java.util.HashMap<>();
        List<Transient> transients = notes.isEmpty() ? List.of()
                : fromNotices(notes, now, added, removed, noticedAt, readAt);
        current = List.copyOf(entries);
        known = now;
        if (added.isEmpty() && removed.isEmpty() && transients.isEmpty()) {
            return;
        }
        Change change = new Change(current, added, removed, transients, noticedAt);
        for (Listener listener : listeners) {
            deliver(listener, change);
        }
    }

    /**
     * Matches the notices to the table just read: when an added entry was attached and a removed one detached
     * ({@code noticedAt}), and which described mounts the table never showed (transients).
     */
    private List<Transient> fromNotices(List<MountNotifications.Note> notes, Set<MountInfoEntry> table,
                                        List<MountInfoEntry> added, List<MountInfoEntry> removed,
                                        Map<MountInfoEntry, Long> noticedAt, long readAt) {
        Map<Long, Long> attachedAt = new java.util.LinkedHashMap<>();
        Map<Long, Long> detachedAt = new java.util.HashMap<>();
        for (MountNotifications.Note note : notes) {
            if (note instanceof MountNotifications.Attached a && a.entry().isPresent()) {
                if (noticed.size() >= MAX_NOTICED) {
                    noticed.remove(noticed.keySet().iterator().next());
                }
                noticed.put(a.uniqueId(), a.entry().get());
                attachedAt.put(a.uniqueId(), a.readNanos());
            } else if (note instanceof MountNotifications.Detached d) {
                detachedAt.put(d.uniqueId(), d.readNanos());
            }
        }
        Set<MountKey> inTable = new HashSet<>();
        Set<MountKey> before = new HashSet<>();
        for (MountInfoEntry e : current) {
            before.add(MountKey.of(e));
        }
        Map<MountKey, MountInfoEntry> addedByKey = new java.util.HashMap<>();
        for (MountInfoEntry e : table) {
            inTable.add(MountKey.of(e));
        }
        for (MountInfoEntry e : added) {
            addedByKey.put(MountKey.of(e), e);
        }
        Map<MountKey, MountInfoEntry> removedByKey = new java.util.HashMap<>();
        for (MountInfoEntry e : removed) {
            removedByKey.put(MountKey.of(e), e);
        }
        List<Transient> transients = new ArrayList<>();
        for (Map.Entry<Long, Long> attach : attachedAt.entrySet()) {
            MountInfoEntry described = noticed.get(attach.getKey());
            if (described == null) {
                continue;
            }
            MountKey key = MountKey.of(described);
            MountInfoEntry shown = addedByKey.get(key);
            if (shown != null) {
                noticedAt.put(shown, attach.getValue());
            } else if (!inTable.contains(key) && !before.contains(key)) {
                Long detached = detachedAt.get(attach.getKey());
                transients.add(new Transient(described, attach.getValue(), detached != null ? detached : readAt));
                noticed.remove(attach.getKey());
                transientsSeen.increment();
            }
        }
        for (Map.Entry<Long, Long> detach : detachedAt.entrySet()) {
            MountInfoEntry described = noticed.remove(detach.getKey());
            if (described != null) {
                MountInfoEntry shown = removedByKey.get(MountKey.of(described));
                if (shown != null) {
                    noticedAt.put(shown, detach.getValue());
                }
            }
        }
        return transients;
    }

    /** What identifies a mount in both a table line and a statmount description. */
    private record MountKey(int mountId, long dev, String mountPoint) {
        static MountKey of(MountInfoEntry e) {
            return new MountKey(e.mountId(), e.dev(), e.mountPoint());
        }
    }

    /** Mounts that came and went between two reads of the table, known from the kernel's notices. */
    public long transients() {
        return transientsSeen.sum();
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
