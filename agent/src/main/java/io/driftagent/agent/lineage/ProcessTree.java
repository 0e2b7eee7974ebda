package io.driftagent.agent.lineage;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.ProcessKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The images (executable and command line) of the processes the exec source saw exec, by {@link ProcessKey}
 * (tgid + start time: a reused pid is another key), so an ancestor that already exited is still named by what it ran.
 * A process keeps its last {@value #IMAGES_PER_PROCESS} images with their exec times, so an ancestor is named by the
 * image it had when its descendant exec'd ({@link #imageAt}), not by one it exec'd later (a shell's last command,
 * exec'd in its place).
 *
 * <p>Every exec record with kernel lineage facts passes here, but most processes never become anyone's ancestor (an
 * exec storm's short-lived children, a shell's last command). A process is therefore first kept among the most recent
 * execs only ({@value #DEFAULT_RECENT_ENTRIES} by default) and admitted to the tree when a later exec names it as its
 * parent or one of its ancestors; one that no exec names within that window is dropped without a count (should it fork
 * later, its descendants' alerts name it from {@code /proc} while it lives). This keeps the tree out of the JVM's old
 * generation under an exec storm: a short-lived process's entry dies young, where an entry admitted on sight was
 * promoted and later reclaimed by full collections that paused the whole agent for tens to hundreds of milliseconds.
 * The admitted processes are bounded by entries and by the bytes their strings take; the least recently used goes
 * first (counted as {@code drift.lineage.evictions}). A process that forked without exec'ing is not in it (its image
 * is its parent's).
 *
 * <p>Written by the exec source's reader thread, read by the {@code /proc} reader threads: its methods synchronize.
 */
public final class ProcessTree {

    /** What a process exec'd last: the kernel's path of the file (for a {@code #!} script, the script) and argv. */
    public record Image(String exe, List<String> argv) {
        public Image {
            argv = argv == null ? List.of() : argv;
        }
    }

    /** Entries and bytes a node's processes rarely exceed; about 2 MiB of heap at the byte bound. */
    public static final int DEFAULT_MAX_ENTRIES = 16_384;
    public static final long DEFAULT_MAX_BYTES = 2L * 1024 * 1024;
    /**
     * Recent execs kept until a later exec names their process (then admitted) or they age out: small enough to die
     * in the young generation under a storm, large enough for a parent's first child to follow it.
     */
    public static final int DEFAULT_RECENT_ENTRIES = 1024;
    /** Images kept per process, newest first. */
    static final int IMAGES_PER_PROCESS = 4;
    /**
     * {@link #imageAt}'s answer for a process the tree knows only by images exec'd after the time asked: what it ran
     * then is unknown (and /proc would show a later image).
     */
    public static final Image UNKNOWN_THEN = new Image(null, List.of());

    /** One exec of a process, linked to its previous one. */
    private record Entry(Image image, long execTimeNs, Entry previous, int depth) {
    }
    /** What an entry costs beside its strings: the key, the image, the map entry, the strings' headers. */
    static final int ENTRY_OVERHEAD_BYTES = 160;

    private final int maxEntries;
    private final long maxBytes;
    /** Admitted: named as a parent or an ancestor by some exec; access order, the least recently used first. */
    private final LinkedHashMap<ProcessKey, Entry> images = new LinkedHashMap<>(256, 0.75f, true);
    /** Not (yet) named by any exec; the one exec'd longest ago dropped first. */
    private final RecentExecs<Entry> recent;
    private final Counter evictions;
    private long bytes;

    public ProcessTree(int maxEntries, long maxBytes, MeterRegistry registry) {
        this(maxEntries, maxBytes, DEFAULT_RECENT_ENTRIES, registry);
    }

    /** @param maxRecent recent execs kept before a later exec names their process (see the class comment) */
    public ProcessTree(int maxEntries, long maxBytes, int maxRecent, MeterRegistry registry) {
        if (maxEntries < 1 || maxBytes < ENTRY_OVERHEAD_BYTES || maxRecent < 1) {
            throw new IllegalArgumentException("bounds too small: " + maxEntries + " entries, " + maxBytes
                    + " bytes, " + maxRecent + " recent");
        }
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
        this.recent = new RecentExecs<>(maxRecent);
        this.evictions = Counter.builder("drift.lineage.evictions")
                .description("processes the process tree forgot to stay within its bounds (their ancestors' exe "
                        + "and command line are then read from /proc while they live)")
                .register(registry);
    }

    /**
     * Admits the exec's parent and ancestors that are still among the recent execs, then records the exec's image
     * under its process; an event without kernel lineage facts (fanotify) is ignored.
     */
    public void record(ExecEvent event) {
        ExecEvent.KernelFacts kernel = event.kernel();
        ExecEvent.Lineage lineage = kernel.lineage();
        if (!lineage.known() || event.tgid() <= 0) {
            return;
        }
        synchronized (this) {
            if (!recent.isEmpty()) {
                List<ProcessKey> ancestors = lineage.ancestors();
                // the nearest ancestor is the parent when the parent is in the process's pid namespace
                boolean parentFirst = !ancestors.isEmpty() && ancestors.get(0).tgid() == event.ppid()
                        && ancestors.get(0).startTimeNs() == lineage.parentStartTimeNs();
                if (event.ppid() > 0 && !parentFirst) {
                    admit(new ProcessKey(event.ppid(), lineage.parentStartTimeNs()));
                }
                for (int i = 0; i < ancestors.size(); i++) {
                    admit(ancestors.get(i)); // indexed: no iterator per exec
                }
            }
            if (kernel.path() != null || kernel.argvKnown()) {
                put(new ProcessKey(event.tgid(), event.startTimeNs()),
                        new Image(kernel.pathTruncated() ? null : kernel.path(), kernel.argv()), event.timestampNs());
            }
        }
    }

    /** An admitted process's exec is chained in the tree; any other's among the recent execs. */
    synchronized void put(ProcessKey key, Image image, long execTimeNs) {
        Entry admitted = images.get(key);
        if (admitted != null) {
            Entry previous = admitted;
            if (admitted.depth() >= IMAGES_PER_PROCESS) {
                // keep the newest IMAGES_PER_PROCESS - 1 of the old chain
                bytes -= chainCost(admitted);
                previous = truncate(admitted, IMAGES_PER_PROCESS - 1);
                bytes += chainCost(previous);
            }
            images.put(key, new Entry(image, execTimeNs, previous, previous.depth() + 1));
            bytes += cost(image);
            enforceBounds();
            return;
        }
        Entry old = recent.remove(key);
        Entry previous = old != null && old.depth() >= IMAGES_PER_PROCESS ? truncate(old, IMAGES_PER_PROCESS - 1) : old;
        recent.putNew(key, new Entry(image, execTimeNs, previous, previous == null ? 1 : previous.depth() + 1));
    }

    private void admit(ProcessKey key) {
        Entry entry = recent.remove(key);
        if (entry != null) {
            images.put(key, entry);
            bytes += chainCost(entry);
            enforceBounds();
        }
    }

    private void enforceBounds() {
        if (images.size() <= maxEntries && bytes <= maxBytes) {
            return;
        }
        Iterator<Map.Entry<ProcessKey, Entry>> eldest = images.entrySet().iterator();
        while (eldest.hasNext() && (images.size() > maxEntries || bytes > maxBytes) && images.size() > 1) {
            bytes -= chainCost(eldest.next().getValue());
            eldest.remove();
            evictions.increment();
        }
    }

    /** The process's latest image, or null when the tree never saw it exec (or forgot it). */
    public synchronized Image image(ProcessKey key) {
        Entry entry = entryOf(key);
        return entry == null ? null : entry.image();
    }

    /**
     * The image the process had at {@code timeNs} (the exec timestamps' clock): its newest exec at or before then;
     * {@link #UNKNOWN_THEN} when the tree knows only later ones; null when the tree never saw it exec (or forgot it).
     */
    public synchronized Image imageAt(ProcessKey key, long timeNs) {
        Entry entry = entryOf(key);
        if (entry == null) {
            return null;
        }
        for (Entry e = entry; e != null; e = e.previous()) {
            if (e.execTimeNs() <= timeNs) {
                return e.image();
            }
        }
        return UNKNOWN_THEN;
    }

    private Entry entryOf(ProcessKey key) {
        Entry entry = images.get(key);
        return entry != null ? entry : recent.get(key);
    }

    /** Admitted processes. */
    public synchronized int size() {
        return images.size();
    }

    /** Recent execs whose process no exec named (yet). */
    synchronized int recentSize() {
        return recent.size();
    }

    synchronized long bytes() {
        return bytes;
    }

    private static Entry truncate(Entry entry, int keep) {
        if (entry == null || keep <= 0) {
            return null;
        }
        Entry rest = truncate(entry.previous(), keep - 1);
        return new Entry(entry.image(), entry.execTimeNs(), rest, rest == null ? 1 : rest.depth() + 1);
    }

    private static long chainCost(Entry entry) {
        long total = 0;
        for (Entry e = entry; e != null; e = e.previous()) {
            total += cost(e.image());
        }
        return total;
    }

    private static long cost(Image image) {
        long argv = 0;
        if (image.argv() instanceof ExecEvent.LazyArgs lazy) {
            argv = lazy.byteLength();
        } else {
            for (String arg : image.argv()) {
                argv += arg.length() + 1;
            }
        }
        return ENTRY_OVERHEAD_BYTES + (image.exe() == null ? 0 : image.exe().length()) + argv;
    }
}
