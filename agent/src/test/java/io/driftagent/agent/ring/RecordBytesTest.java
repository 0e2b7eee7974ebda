package io.driftagent.agent.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftagent.agent.fs.PathBytes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RecordBytesTest {

    @Test
    void readsLittleEndianNumbersFromTheRecordWhereItLiesInTheRing() {
        ByteBuffer ring = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
        ring.putInt(8, 0x8765_4321).putLong(12, 0x0102_0304_0506_0708L).putShort(20, (short) 0xBEEF);
        RecordBytes rec = new RecordBytes(32);

        assertThat(rec.load(ring, 8, 16)).isTrue();

        assertThat(rec.i32(0)).isEqualTo(0x8765_4321);
        assertThat(rec.u32(0)).isEqualTo(0x8765_4321L);
        assertThat(rec.i64(4)).isEqualTo(0x0102_0304_0506_0708L);
        assertThat(rec.u16(12)).isEqualTo(0xBEEF);
    }

    @Test
    void neverReadsPastTheLoadedRecordNorLoadsOneLongerThanItsCapacity() {
        ByteBuffer ring = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
        RecordBytes rec = new RecordBytes(32);
        rec.load(ring, 0, 8);

        // the array holds 32 bytes, but a read past the record's 8 is the previous record's leftovers: refused
        assertThatThrownBy(() -> rec.i64(4)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> rec.copy(-1, 2)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(rec.load(ring, 0, 33)).isFalse();
        assertThat(rec.length()).isZero();
    }

    @Test
    void textFieldsAreCommsUpToTheirNulAndNamesByteForByte() {
        byte[] notUtf8 = {'/', 't', 'm', 'p', '/', (byte) 0xff, 'x'};
        ByteBuffer ring = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
        ring.put(0, "sh\0garbage".getBytes(StandardCharsets.UTF_8)).put(16, notUtf8);
        RecordBytes rec = new RecordBytes(64);
        rec.load(ring, 0, 16 + notUtf8.length);

        assertThat(rec.cString(0, 16)).isEqualTo("sh");
        String name = rec.name(16, notUtf8.length);
        assertThat(PathBytes.encode(name)).isEqualTo(notUtf8);
        assertThat(rec.sameBytes(16, 16, notUtf8.length)).isTrue();
        assertThat(rec.sameBytes(0, 16, 2)).isFalse();
        assertThat(rec.copy(17, 3)).containsExactly('t', 'm', 'p');
    }
}
