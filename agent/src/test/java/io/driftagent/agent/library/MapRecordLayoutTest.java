package io.driftagent.agent.library;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.RecordHeader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MapRecordLayoutTest {
    @Test
    void javaLayoutConstantsEqualTheHeadersMacrosOneForOne() throws Exception {
        // given the macros of the C header (the single source of the layout)
        Map<String, Long> header = RecordHeader.read("map_record.h", "MAP").numericMacros();

        // when
        Map<String, Long> java = RecordHeader.intConstantsOf(MapRecordLayout.class);

        // then
        assertThat(header).hasSizeGreaterThan(30);
        assertThat(java).isEqualTo(header);
    }

    @Test
    void theMagicSpellsLibrAndIsNoExecRecordVersion() {
        byte[] bigEndian = {0x4c, 0x49, 0x42, 0x52};
        assertThat(new String(bigEndian, StandardCharsets.US_ASCII)).isEqualTo("LIBR");
        assertThat(MapRecordLayout.REC_MAGIC).isEqualTo(0x4c494252).isGreaterThan(1 << 16);
    }

    @Test
    void headerFieldsAreAlignedAndTheSectionsFitTheData() {
        assertThat(MapRecordLayout.REC_OFF_COMM + MapRecordLayout.REC_COMM_LEN).isEqualTo(MapRecordLayout.REC_HDR_SIZE);
        assertThat(MapRecordLayout.REC_OFF_EXE_INO % 8).isZero();
        assertThat(MapRecordLayout.REC_HDR_SIZE % 8).isZero();
        assertThat(MapRecordLayout.REC_PATH_MAX + MapRecordLayout.REC_EXE_PATH_MAX + MapRecordLayout.REC_ARGV_MAX)
                .isLessThanOrEqualTo(MapRecordLayout.REC_DATA_LEN);
    }
}
