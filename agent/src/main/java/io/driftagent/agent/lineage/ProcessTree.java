package io.driftagent.agent.lineage;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.ProcessKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The latest image (executable and command line) of every process the exec source saw exec, by {@link ProcessKey}
 * (tgid + start time: a reused pid is another key), so an ancestor that already exited is still named by what it ran.
 * Every exec record with kernel lineage facts updates it, not only drifted ones. Bounded by entries and by the bytes
 * its strings take; the least recently used entry goes first (counted as {@code drift.lineage.evictions}). A process
 * that forked without exec'ing is not in it (its image is its parent's).
 *
 * <p>Written by the attribute stage's thread, read by the {@code /proc} reader threads: its methods synchronize.
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
    /** What an entry costs beside its strings: the key, the image, the map entry, the strings' headers. */
    static final int ENTRY_OVERHEAD_BYTES = 160;

    private final int maxEntries;
    private final long maxBytes;
    private final LinkedHashMap<ProcessKey, Image> images = new LinkedHashMap<>(256, 0.75f, true);
    private final Counter evictions;
    private long bytes;

    public ProcessTree(int maxEntries, long maxBytes, MeterRegistry registry) {
        if (maxEntries < 1 || maxBytes < ENTRY_OVERHEAD_BYTES) {
            throw new IllegalArgumentException("bounds too small: " + maxEntries + " entries, " + maxBytes + " bytes");
        }
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
        this.evictions = Counter.builder("drift.lineage.evictions")
                .description("processes the process tree forgot to stay within its bounds (their ancestors' exe "
                        + "and command line are then read from /proc while they live)")
                .register(registry);
        Gauge.builder("drift.lineage.processes", this, ProcessTree::size)
                .description("processes whose latest image the process tree holds").register(registry);
    }

    /** Records the exec's image under its process; an event without kernel lineage facts (fanotify) is ignored. */
    public void record(ExecEvent event) {
        ExecEvent.KernelFacts kernel = event.kernel();
        if (!kernel.lineage().known() || event.tgid() <= 0 || (kernel.path() == null && !kernel.argvKnown())) {
            return;
        }
        String exe = kernel.pathTruncated() ? null : kernel.path();
        put(new ProcessKey(event.tgid(), event.startTimeNs()), new Image(exe, kernel.argv()));
    }

    synchronized void put(ProcessKey key, Image image) {
        Image old = images.put(key, image);
        if (old != null) {
            bytes -= cost(old);
        }
        bytes += cost(image);
        if (images.size() > maxEntries || bytes > maxBytes) {
            Iterator<Map.Entry<ProcessKey, Image>> eldest = images.entrySet().iterator();
            while (eldest.hasNext() && (images.size() > maxEntries || bytes > maxBytes) && images.size() > 1) {
                bytes -= cost(eldest.next().getValue());
                eldest.remove();
                evictions.increment();
            }
        }
    }

    /** The process's latest image, or null when the tree never saw it exec (or forgot it). */
    public synchronized Image image(ProcessKey key) {
        return images.get(key);
    }

    public synchronized int size() {
        return images.size();
    }

    synchronized long bytes() {
        return bytes;
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
