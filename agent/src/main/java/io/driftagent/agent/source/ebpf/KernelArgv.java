package io.driftagent.agent.source.ebpf;

import io.driftagent.agent.source.ExecEvent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The argv bytes of one exec record, split into strings only when something reads them: most execs (image-layer
 * files) are never alerted, so the reader thread copies the bytes and counts the arguments, and the alert's
 * command line pays for the strings. Immutable; the split is idempotent, so a race only repeats it.
 */
final class KernelArgv extends ExecEvent.LazyArgs {
    private final byte[] bytes;
    private final int size;
    private volatile List<String> split;

    private KernelArgv(byte[] bytes, int size) {
        this.bytes = bytes;
        this.size = size;
    }

    /**
     * @param maxArgs the most arguments kept
     * @return the arguments in {@code raw[offset, offset + length)}, NUL-separated as /proc/<pid>/cmdline is (a final
     *         NUL ends the last argument; bytes after the last NUL are an argument cut by the kernel's bound)
     */
    static KernelArgv of(ByteBuffer raw, int offset, int length, int maxArgs) {
        byte[] bytes = new byte[length];
        raw.get(offset, bytes, 0, length);
        return new KernelArgv(bytes, (int) Math.min(count(bytes), maxArgs));
    }

    @Override
    public int byteLength() {
        return bytes.length;
    }

    /** How many arguments the bytes hold, before any bound. */
    long total() {
        return count(bytes);
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
