package io.driftagent.policy.learn;

import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.model.DriftKind;
import java.util.Set;

/**
 * Which recorded alerts a suggestion should silence: those of the given namespaces, workloads and drift kinds (an
 * empty set does not narrow). A workload is named by its {@link WorkloadIdentity#workload() workload label's value}
 * (or, without one, its container name).
 */
public record SuggestScope(Set<String> namespaces, Set<String> workloads, Set<DriftKind> kinds) {
    public static final SuggestScope EVERYTHING = new SuggestScope(Set.of(), Set.of(), Set.of());

    public SuggestScope {
        namespaces = Set.copyOf(namespaces);
        workloads = Set.copyOf(workloads);
        kinds = Set.copyOf(kinds);
    }

    public boolean includes(RecordedAlert alert) {
        return includes(alert.facts());
    }

    public boolean includes(DriftFacts facts) {
        if (!kinds.isEmpty() && !kinds.contains(facts.kind())) {
            return false;
        }
        String namespace = facts.namespace();
        if (!namespaces.isEmpty() && (namespace == null || !namespaces.contains(namespace))) {
            return false;
        }
        String workload = WorkloadIdentity.of(facts).workload();
        return workloads.isEmpty() || (workload != null && workloads.contains(workload));
    }
}
