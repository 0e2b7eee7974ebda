package io.driftagent.agent.source;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel's argv of a process, split into strings only when something reads them: the argv area of one BPF ring
 * record (exec, mapping, write), or what a read of {@code /proc/<pid>/cmdline} returned (the pipeline's process
 * snapshot, lineage's ancestors). Most execs (image-layer files) are never alerted, so the reader thread copies the
 * bytes and counts the arguments, and the alert's command line pays for the strings. The one splitter of the kernel's
 * NUL-separated argv.
 *
 * <p>The bytes are NUL-separated as {@code /proc/<pid>/cmdline} is: a final NUL ends the last argument; bytes after
 * the last NUL are an argument cut by the kernel's bound, kept as far as it goes. Each argument is decoded as UTF-8,
 * a byte sequence that is not UTF-8 (also a character cut by that bound) shown as U+FFFD, as {@code docs/alerts.md}
 * says of command lines and as the fanotify source reads {@code /proc/<pid>/cmdline}. An argument is only shown, never
 * used to find a file again, so it does not need {@code fs.PathBytes}' lossless mapping of names.
 *
 * <p>Immutable; the split is idempotent, so a race only repeats it.
 */
public final class KernelArgv extends ExecEvent.LazyArgs {
    private final byte[] bytes;
    private final int size;
    private final long total;
    private volatile List<String> split;

    private KernelArgv(byte[] bytes, int maxArgs) {
        if (maxArgs < 0) {
            throw new IllegalArgumentException("maxArgs must not be negative: " + maxArgs);
        }
        this.bytes = bytes;
        this.total = count(bytes);
        this.size = (int) Math.min(total, maxArgs);
    }

    /**
     * @param maxArgs the most arguments kept ({@link #total()} tells whether there were more)
     * @return the arguments in {@code raw[offset, offset + length)}
     */
    public static KernelArgv of(ByteBuffer raw, int offset, int length, int maxArgs) {
        byte[] bytes = new byte[length];
        raw.get(offset, bytes, 0, length);
        return new KernelArgv(bytes, maxArgs);
    }

    /**
     * @param argv    the argv area alone, owned by the result from now on (a ring record's copy)
     * @param maxArgs the most arguments kept ({@link #total()} tells whether there were more)
     */
    public static KernelArgv owning(byte[] argv, int maxArgs) {
        return new KernelArgv(argv, maxArgs);
    }

    /**
     * @param bytes   what a read of {@code /proc/<pid>/cmdline} returned, in {@code bytes[0, length)} (copied)
     * @param maxArgs the most arguments kept ({@link #total()} tells whether there were more)
     * @return the arguments in those bytes
     */
    public static KernelArgv of(byte[] bytes, int length, int maxArgs) {
        return of(ByteBuffer.wrap(bytes), 0, length, maxArgs);
    }

    @Override
    public int byteLength() {
        return bytes.length;
    }

    /** How many arguments the bytes hold, before any bound: more than {@link #size()} when some were left out. */
    public long total() {
        return total;
    }

    private static long count(byte[] bytes) {
        long n = 0;
        for (byte b : bytes) {
            if (b == 0) {
                n++;
            }
        }
        return bytes.length > 0 && bytes[bytes.length - 1] != 0 ? n + 1 : n;
    }

    @Override
    public String get(int index) {
        return strings().get(index);
    }

    @Override
    public int size() {
        return size;
    }

    private List<String> strings() {
        List<String> s = split;
        if (s == null) {
            List<String> args = new ArrayList<>(size);
            int start = 0;
            for (int i = 0; i <= bytes.length && args.size() < size; i++) {
                if (i == bytes.length || bytes[i] == 0) {
                    args.add(new String(bytes, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            s = List.copyOf(args);
            split = s;
        }
        return s;
    }
}
