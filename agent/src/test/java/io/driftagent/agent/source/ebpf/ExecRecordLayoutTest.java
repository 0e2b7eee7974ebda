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
    void recordFieldsAreAlignedAndInsideTheRecord() {
        assertThat(ExecRecordLayout.REC_OFF_FILENAME + ExecRecordLayout.REC_FILENAME_LEN)
                .isEqualTo(ExecRecordLayout.REC_SIZE);
        assertThat(ExecRecordLayout.REC_OFF_COMM + ExecRecordLayout.REC_COMM_LEN)
                .isEqualTo(ExecRecordLayout.REC_OFF_FILENAME);
        assertThat(ExecRecordLayout.REC_OFF_START_TIME % 8).isZero();
        assertThat(ExecRecordLayout.REC_SIZE % 8).isZero();
    }
}
