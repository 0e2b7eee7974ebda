package io.driftagent.policy.learn;

import io.driftagent.policy.model.AllowListEntry;
import io.driftagent.policy.model.PolicyRule;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One rule a suggestion adds: a copy of the rule that decided the alerts (or of the default rule), narrowed to one
 * workload and the drift kinds seen, with the learned allow-list entries.
 *
 * @param rule      the rule as it goes into the policy
 * @param workload  the workload it is scoped to
 * @param basedOn   the name of the rule it copies ({@code default} for the default rule)
 * @param entries   the learned allow-list entries and what each silences
 */
public record LearnedRule(PolicyRule rule, WorkloadIdentity workload, String basedOn,
                          Map<AllowListEntry, Silenced> entries) {
    public LearnedRule {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(basedOn, "basedOn");
        entries = Map.copyOf(entries);
    }

    /**
     * What one allow-list entry silences in the log it was learned from.
     *
     * @param alerts      alert lines
     * @param occurrences execs (a deduplicated line stands for its {@code count})
     * @param first       earliest exec time, null when no line had one
     * @param last        latest exec time, null when no line had one
     * @param paths       the executed paths it covers
     */
    public record Silenced(long alerts, long occurrences, Instant first, Instant last, Set<String> paths) {
        public Silenced {
            paths = Set.copyOf(paths);
        }
    }
}
