package io.driftagent.agent.ring;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.RecordHeader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecordHeadLayoutTest {
    @Test
    void javaLayoutConstantsEqualTheCommonHeadersRecordHeadMacrosOneForOne() throws Exception {
        // given the RECORD_HEAD_* macros of common.bpf.h (the single source of the head's layout)
        Map<String, Long> header = RecordHeader.read("common.bpf.h", "RECORD").numericMacros();

        // when
        Map<String, Long> java = RecordHeader.intConstantsOf(RecordHeadLayout.class);

        // then
        assertThat(header).hasSize(14);
        assertThat(java).isEqualTo(header);
    }

    @Test
    void theHeadsU64FieldsAreAlignedAndTheRecordsOwnFieldsStartAligned() {
        assertThat(RecordHeadLayout.HEAD_OFF_START_TIME % 8).isZero();
        assertThat(RecordHeadLayout.HEAD_OFF_FILE_INO + 8).isEqualTo(RecordHeadLayout.HEAD_SIZE);
        assertThat(RecordHeadLayout.HEAD_SIZE % 8).isZero();
    }

    @Test
    void theKindIsTheFirstU32AndNoneForARecordTooShortToHaveOne() {
        // given a record whose first u32 is "ORIG" (a write record's kind), at offset 4 of the ring
        ByteBuffer ring = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 0x4f524947);

        // then its kind is read where it lies; a record of 3 bytes has none
        assertThat(RecordHeadLayout.kind(ring, 4, 12)).isEqualTo(0x4f524947);
        assertThat(RecordHeadLayout.kind(ring, 4, 3)).isZero();
    }
}
