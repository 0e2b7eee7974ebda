package io.driftagent.agent.policysource;

import io.driftagent.policy.load.Problem;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What one agent has to say about one generation of a DriftPolicy resource.
 *
 * @param node              the agent's node
 * @param observedGeneration the generation read
 * @param appliedGeneration the generation in force on this node (the newest valid one), null when none was valid
 * @param valid             whether the observed generation is valid
 * @param problems          the observed generation's problems (errors and warnings)
 */
public record StatusReport(String node, long observedGeneration, Long appliedGeneration, boolean valid,
                           List<Problem> problems, Instant time) {
    public StatusReport {
        Objects.requireNonNull(node, "node");
        problems = List.copyOf(problems);
        Objects.requireNonNull(time, "time");
    }
}
