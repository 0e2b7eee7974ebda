package io.driftagent.agent.provenance;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.RecordHeader;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WriteRecordLayoutTest {
    @Test
    void javaLayoutConstantsEqualTheHeadersMacrosOneForOne() throws Exception {
        // given the macros of the C header (the single source of the layout)
        Map<String, Long> header = RecordHeader.read("write_record.h", "WRITE").numericMacros();

        // when
        Map<String, Long> java = RecordHeader.intConstantsOf(WriteRecordLayout.class);

        // then
        assertThat(header).hasSizeGreaterThan(15);
        assertThat(java).isEqualTo(header);
    }
}
