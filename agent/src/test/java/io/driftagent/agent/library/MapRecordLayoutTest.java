package io.driftagent.agent.library;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MapRecordLayoutTest {
    private static final Path HEADER = Path.of("src/main/bpf/map_record.h");
    private static final Pattern DEFINE = Pattern.compile("^#define\\s+MAP_(\\w+)\\s+(0x[0-9a-fA-F]+|\\d+)\\b",
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
        for (Field f : MapRecordLayout.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class) {
                f.setAccessible(true);
                java.put(f.getName(), (long) f.getInt(null));
            }
        }
        // then
        assertThat(header).hasSizeGreaterThan(40);
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
        assertThat(MapRecordLayout.REC_OFF_START_TIME % 8).isZero();
        assertThat(MapRecordLayout.REC_OFF_EXE_INO % 8).isZero();
        assertThat(MapRecordLayout.REC_HDR_SIZE % 8).isZero();
        assertThat(MapRecordLayout.REC_PATH_MAX + MapRecordLayout.REC_EXE_PATH_MAX + MapRecordLayout.REC_ARGV_MAX)
                .isLessThanOrEqualTo(MapRecordLayout.REC_DATA_LEN);
    }
}
