package io.driftagent.agent.source.ebpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ExecRecordLayoutTest {
    private static final Path HEADER = Path.of("src/main/bpf/exec_record.h");
    private static final Pattern DEFINE = Pattern.compile("^#define\\s+EXEC_(\\w+)\\s+(0x[0-9a-fA-F]+|\\d+)\\b",
            Pattern.MULTILINE);

    @Test
    void javaLayoutConstantsEqualTheHeadersMacrosOneForOne() throws Exception {
        // given the macros of the C header (the single source of the layout)
        Map<String, Long> header = new TreeMap<>();
        Matcher m = DEFINE.matcher(Files.readString(HEADER));
        while (m.find()) {
            header.put(m.group(1), Long.decode(m.group(2)));
        }
        // when
        Map<String, Long> java = new TreeMap<>();
        for (Field f : ExecRecordLayout.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
                f.setAccessible(true);
                java.put(f.getName(), (long) f.getInt(null));
            }
        }
        // then
        assertThat(header).hasSizeGreaterThan(30);
        assertThat(java).isEqualTo(header);
    }

    @Test
    void theImageLayerTestIsTheHeadersMaskAndBits() throws Exception {
        // given the header's EXEC_IMAGE_LAYER_MASK / _BITS, each an OR of EXEC_FLAG_* macros
        String text = Files.readString(HEADER).replace("\\\n", " ");
        Map<String, Long> flags = new TreeMap<>();
        Matcher d = DEFINE.matcher(text);
        while (d.find()) {
            flags.put("EXEC_" + d.group(1), Long.decode(d.group(2)));
        }
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
        assertThat(ExecRecordLayout.REC_OFF_START_TIME % 8).isZero();
        assertThat(ExecRecordLayout.REC_HDR_SIZE % 8).isZero();
        assertThat(ExecRecordLayout.REC_FILENAME_MAX + 1 + ExecRecordLayout.REC_PATH_MAX + 1
                + ExecRecordLayout.REC_ARGV_MAX + ExecRecordLayout.REC_CWD_MAX + 1)
                .isLessThanOrEqualTo(ExecRecordLayout.REC_DATA_LEN);
    }
}
