package io.driftagent.agent.policysource;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.policy.load.Problem;
import io.driftagent.policy.load.ProblemCode;
import io.driftagent.policy.load.Severity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The status an agent writes: bounded, its own entry replaced, a newer verdict never overwritten by an older one. */
class StatusDocumentTest {
    private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");

    private static Problem problem(int i) {
        return new Problem(Severity.ERROR, ProblemCode.UNKNOWN_ACTION, "driftpolicy/x", 1, i + 1, "spec.rules[" + i
                + "].action", "unknown action");
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> nodes(Map<String, Object> status) {
        return (List<Map<String, Object>>) status.get("nodes");
    }

    @Test
    void beyondTheBoundTheLeastRecentlyUpdatedOtherNodesGoAndThisNodeStays() {
        // given a status already holding the maximum of node entries, node-0 updated longest ago
        Map<String, Object> status = new LinkedHashMap<>();
        List<Map<String, Object>> entries = new ArrayList<>();
        for (int i = 0; i < DriftPolicyResources.MAX_STATUS_NODES; i++) {
            entries.add(new LinkedHashMap<>(Map.of("node", "node-" + i, "observedGeneration", 1,
                    "lastUpdateTime", T0.plusSeconds(i).toString())));
        }
        status.put("nodes", entries);

        // when a node not yet listed reports
        Map<String, Object> merged = StatusDocument.merge(status,
                new StatusReport("node-new", 1, 1L, true, List.of(), T0.plusSeconds(10_000)));

        // then the list stays at the bound, the oldest entry went, the new one is there
        assertThat(nodes(merged)).hasSize(DriftPolicyResources.MAX_STATUS_NODES);
        assertThat(nodes(merged)).extracting(n -> n.get("node")).contains("node-new", "node-1").doesNotContain("node-0");
    }

    @Test
    void problemsAreBoundedAndCountedAndAnOlderGenerationNeverOverwritesANewerVerdict() {
        List<Problem> many = new ArrayList<>();
        for (int i = 0; i < 70; i++) {
            many.add(problem(i));
        }
        Map<String, Object> newer = StatusDocument.merge(null, new StatusReport("node-a", 5, 4L, false, many, T0));
        assertThat((List<?>) newer.get("problems")).hasSize(DriftPolicyResources.MAX_STATUS_PROBLEMS);
        assertThat(newer).containsEntry("problemCount", 70).containsEntry("valid", false);

        // when a node that is behind reports generation 4 (valid)
        Map<String, Object> merged = StatusDocument.merge(newer, new StatusReport("node-b", 4, 4L, true, List.of(), T0));

        // then the verdict on generation 5 stays, and node-b's entry is added
        assertThat(merged).containsEntry("observedGeneration", 5L).containsEntry("valid", false);
        assertThat(nodes(merged)).extracting(n -> n.get("node")).containsExactly("node-a", "node-b");
    }

    @Test
    void aReportThatChangesNothingButTheTimeIsRecognisedSoItIsNotWritten() {
        Map<String, Object> first = StatusDocument.merge(null, new StatusReport("node-a", 2, 2L, true, List.of(), T0));
        Map<String, Object> again = StatusDocument.merge(first,
                new StatusReport("node-a", 2, 2L, true, List.of(), T0.plusSeconds(60)));
        Map<String, Object> moved = StatusDocument.merge(first,
                new StatusReport("node-a", 3, 3L, true, List.of(), T0.plusSeconds(60)));

        assertThat(StatusDocument.sameApartFromTime(first, again, "node-a")).isTrue();
        assertThat(StatusDocument.sameApartFromTime(first, moved, "node-a")).isFalse();
    }
}
