package io.driftagent.agent.ring;

import io.driftagent.agent.fs.PathBytes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Text fields of the eBPF events ring's records (exec, mapping, write), decoded through a caller-owned scratch array.
 * In a package of its own, which each record's decoder (source.ebpf, library, provenance) depends on, so that none of
 * them depends on another's.
 */
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
