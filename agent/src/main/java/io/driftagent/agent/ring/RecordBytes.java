package io.driftagent.agent.ring;

import io.driftagent.agent.fs.PathBytes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One record of the events ring, copied out of the shared memory into a reusable array with one bulk copy and read
 * from there with plain array loads (little-endian, as the programs write it). Reading the mapped ring's direct buffer
 * field by field pays a bounds check, a scope check and a byte-order step per field, through a chain of calls the
 * client compiler the agent runs with (C1, the chart's JVM options) does not inline: about a microsecond per exec
 * record of its forty fields. Names and comms seen lately are not decoded again ({@link RepeatedTexts}). One instance
 * per reader thread; a read outside the loaded record throws.
 */
public final class RecordBytes {
    private final byte[] bytes;
    private int length;
    private final RepeatedTexts names = new RepeatedTexts(PathBytes::decode);
    private final RepeatedTexts cStrings = new RepeatedTexts(
            (b, at, len) -> new String(b, at, len, StandardCharsets.UTF_8));

    /** @param capacity the longest record it loads */
    public RecordBytes(int capacity) {
        this.bytes = new byte[capacity];
    }

    /** Copies {@code ring[offset, offset + length)}; false (nothing loaded) when the record is longer than the capacity. */
    public boolean load(ByteBuffer ring, int offset, int length) {
        if (length < 0 || length > bytes.length) {
            this.length = 0;
            return false;
        }
        ring.get(offset, bytes, 0, length);
        this.length = length;
        return true;
    }

    public int length() {
        return length;
    }

    public int i32(int at) {
        within(at, 4);
        return (bytes[at] & 0xff) | (bytes[at + 1] & 0xff) << 8 | (bytes[at + 2] & 0xff) << 16 | bytes[at + 3] << 24;
    }

    public int u16(int at) {
        within(at, 2);
        return (bytes[at] & 0xff) | (bytes[at + 1] & 0xff) << 8;
    }

    public long u32(int at) {
        return i32(at) & 0xFFFF_FFFFL;
    }

    public long i64(int at) {
        return u32(at) | (long) i32(at + 4) << 32;
    }

    /** A NUL-terminated field of at most {@code max} bytes (a comm), as UTF-8. */
    public String cString(int at, int max) {
        within(at, max);
        int len = 0;
        while (len < max && bytes[at + len] != 0) {
            len++;
        }
        return cStrings.text(bytes, at, len);
    }

    /** A name of {@code len} bytes (a path), kept byte for byte where it is not UTF-8 ({@link PathBytes}). */
    public String name(int at, int len) {
        within(at, len);
        return names.text(bytes, at, len);
    }

    /** Whether {@code [a, a + len)} and {@code [b, b + len)} hold the same bytes. */
    public boolean sameBytes(int a, int b, int len) {
        within(a, len);
        within(b, len);
        return Arrays.equals(bytes, a, a + len, bytes, b, b + len);
    }

    /** A copy of {@code [at, at + len)}. */
    public byte[] copy(int at, int len) {
        within(at, len);
        return Arrays.copyOfRange(bytes, at, at + len);
    }

    private void within(int at, int size) {
        if (at < 0 || size < 0 || at > length - size) {
            throw new IndexOutOfBoundsException("bytes [" + at + ", " + at + " + " + size + ") of a record of "
                    + length);
        }
    }
}
