package io.driftagent.agent.source.ebpf;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.RecordHeader;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ExecRecordLayoutTest {
    @Test
    void javaLayoutConstantsEqualTheHeadersMacrosOneForOne() throws Exception {
        // given the macros of the C header (the single source of the layout)
        Map<String, Long> header = RecordHeader.read("exec_record.h", "EXEC").numericMacros();

        // when
        Map<String, Long> java = RecordHeader.intConstantsOf(ExecRecordLayout.class);

        // then
        assertThat(header).hasSizeGreaterThan(30);
        assertThat(java).isEqualTo(header);
    }

    @Test
    void theImageLayerTestIsTheHeadersMaskAndBits() throws Exception {
        // given the header's EXEC_IMAGE_LAYER_MASK / _BITS, each an OR of EXEC_FLAG_* macros
        RecordHeader header = RecordHeader.read("exec_record.h", "EXEC");
        String text = header.text();
        Map<String, Long> flags = new TreeMap<>();
        header.numericMacros().forEach((name, value) -> flags.put("EXEC_" + name, value));
        long mask = orOf(text, "EXEC_IMAGE_LAYER_MASK", flags);
        long bits = orOf(text, "EXEC_IMAGE_LAYER_BITS", flags);
        assertThat(mask).isNotZero();
        // then the Java test agrees with it for every flag combination
        for (int f = 0; f < 256; f++) {
            assertThat(ExecRecordLayout.isImageLayer(f)).as("flags 0x%x", f).isEqualTo((f & mask) == bits);
        }
    }

    private static long orOf(String header, String macro, Map<String, Long> flags) {
        Matcher m = Pattern.compile("^#define\\s+" + macro + "\\s+\\(?([A-Z_|\\s]+)\\)?\\s*$", Pattern.MULTILINE)
                .matcher(header);
        assertThat(m.find()).as(macro + " in the header").isTrue();
        long value = 0;
        for (String name : m.group(1).split("\\|")) {
            Long flag = flags.get(name.trim());
            assertThat(flag).as(name.trim()).isNotNull();
            value |= flag;
        }
        return value;
    }

    @Test
    void headerFieldsAreAlignedAndTheSectionsFitTheData() {
        assertThat(ExecRecordLayout.REC_OFF_PARENT_COMM + ExecRecordLayout.REC_COMM_LEN)
                .isEqualTo(ExecRecordLayout.REC_OFF_PARENT_START_TIME);
        assertThat(ExecRecordLayout.REC_OFF_ANCESTOR_TGID + 4 * ExecRecordLayout.REC_ANCESTORS_MAX)
                .isEqualTo(ExecRecordLayout.REC_OFF_ANCESTOR_START);
        assertThat(ExecRecordLayout.REC_OFF_ANCESTOR_START + 8 * ExecRecordLayout.REC_ANCESTORS_MAX)
                .isEqualTo(ExecRecordLayout.REC_HDR_SIZE);
        assertThat(ExecRecordLayout.REC_OFF_PARENT_START_TIME % 8).isZero();
        assertThat(ExecRecordLayout.REC_OFF_LEADER_START_TIME % 8).isZero();
        assertThat(ExecRecordLayout.REC_OFF_ANCESTOR_START % 8).isZero();
        assertThat(ExecRecordLayout.REC_OFF_COMM + ExecRecordLayout.REC_COMM_LEN)
                .isEqualTo(ExecRecordLayout.REC_OFF_PARENT_COMM);
        assertThat(ExecRecordLayout.REC_HDR_SIZE % 8).isZero();
        assertThat(ExecRecordLayout.REC_FILENAME_MAX + 1 + ExecRecordLayout.REC_PATH_MAX + 1
                + ExecRecordLayout.REC_ARGV_MAX + ExecRecordLayout.REC_CWD_MAX + 1)
                .isLessThanOrEqualTo(ExecRecordLayout.REC_DATA_LEN);
    }
}
