package io.driftagent.agent.source.ebpf;

import io.driftagent.agent.fs.PathBytes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Text fields of the ring's records (exec, mapping), decoded through a caller-owned scratch array. */
public final class RecordText {

    private RecordText() {
    }

    /** A NUL-terminated field of at most {@code max} bytes (a comm), as UTF-8. */
    public static String cString(ByteBuffer b, int offset, int max, byte[] scratch) {
        b.get(offset, scratch, 0, max);
        int len = 0;
        while (len < max && scratch[len] != 0) {
            len++;
        }
        return new String(scratch, 0, len, StandardCharsets.UTF_8);
    }

    /**
     * A name of {@code len} bytes (a path). Names are bytes in the kernel: the PathBytes mapping keeps bytes that are
     * not UTF-8, so the file can be found again by its exact name.
     */
    public static String name(ByteBuffer b, int offset, int len, byte[] scratch) {
        b.get(offset, scratch, 0, len);
        return PathBytes.decode(scratch, 0, len);
    }
}
