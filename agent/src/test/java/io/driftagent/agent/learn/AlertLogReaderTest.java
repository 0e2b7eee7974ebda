package io.driftagent.agent.learn;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.learn.RecordedAlert;
import io.driftagent.policy.model.DriftKind;
import java.io.ByteArrayInputStream;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class AlertLogReaderTest {

    @Test
    void readsTheAgentsAlertLinesAndSkipsEveryMalformedLineWithItsNumber() throws Exception {
        // given a log with alert lines as the agent writes them and lines that are not alerts
        byte[] log = new AlertLines()
                .add("shop", "web", "ADDED", "/usr/bin/tool", 1)
                .raw("{\"schemaVersion\":1,\"id\":\"frag")                      // line 2: a fragment (disk full)
                .add("shop", "web", "MODIFIED", "/usr/bin/curl", 4)               // line 3: a summary of 4
                .raw("")                                                         // line 4: blank, not counted
                .raw("{\"drift\":{\"kind\":\"IMAGE\",\"path\":\"/bin/sh\"},\"action\":\"alert\"}") // line 5
                .raw("{\"drift\":{\"kind\":\"ADDED\",\"path\":7},\"action\":\"alert\"}")           // line 6
                .raw("[1,2]")                                                    // line 7
                .raw("{\"drift\":{\"kind\":\"ADDED\",\"path\":\"/x\"},\"action\":\"alert\",\"count\":0}") // line 8
                .raw("{\"drift\":{\"kind\":\"ADDED\",\"path\":\"/x\",\"mitre\":[\"T1105\"]},\"action\":\"alert\",\"tags\":{}}")
                .bytes();

        // when it is read
        AlertLog read = new AlertLogReader().read(new ByteArrayInputStream(log));

        // then three alerts are read (unknown additive fields ignored), five lines are reported with why
        assertThat(read.alerts()).extracting(RecordedAlert::line).containsExactly(1L, 3L, 9L);
        RecordedAlert first = read.alerts().get(0);
        assertThat(first.facts().namespace()).isEqualTo("shop");
        assertThat(first.facts().podLabels()).containsEntry("app", "web");
        assertThat(first.facts().containerName()).isEqualTo("web");
        assertThat(first.facts().kind()).isEqualTo(DriftKind.ADDED);
        assertThat(first.time()).isEqualTo(Instant.parse("2026-11-27T10:01:00Z"));
        assertThat(first.ruleName()).isEqualTo("default");
        assertThat(read.alerts().get(1).count()).isEqualTo(4);
        assertThat(read.malformed()).extracting(AlertLog.Malformed::line).containsExactly(2L, 5L, 6L, 7L, 8L);
        assertThat(read.malformed().get(0).reason()).startsWith("not JSON");
        assertThat(read.malformed().get(1).reason()).contains("IMAGE");
        assertThat(read.malformed().get(2).reason()).isEqualTo("drift.path must be a string");
    }

    @Test
    void anOverlongLineIsSkippedWithoutReadingItIntoMemoryAndTheNextLineStillCounts() throws Exception {
        byte[] huge = new byte[AlertLogReader.MAX_LINE_BYTES + 10];
        java.util.Arrays.fill(huge, (byte) 'x');
        byte[] next = new AlertLines().add("shop", "web", "ADDED", "/a", 1).bytes();
        byte[] log = new byte[huge.length + 1 + next.length];
        System.arraycopy(huge, 0, log, 0, huge.length);
        log[huge.length] = '\n';
        System.arraycopy(next, 0, log, huge.length + 1, next.length);

        AlertLog read = new AlertLogReader().read(new ByteArrayInputStream(log));

        assertThat(read.malformed()).extracting(AlertLog.Malformed::line).containsExactly(1L);
        assertThat(read.alerts()).extracting(RecordedAlert::line).containsExactly(2L);
    }
}
