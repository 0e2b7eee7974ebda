package io.driftagent.policy.learn;

import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.eval.CompiledRule;
import io.driftagent.policy.eval.Verdict;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A what-if: evaluates a policy against the facts of recorded alerts and compares each verdict with the one the log
 * recorded (its {@code action}, and its {@code rule.name} when recorded).
 */
public final class PolicyReplay {

    public Report replay(CompiledPolicy policy, List<RecordedAlert> alerts) {
        Map<String, Tally> tallies = new LinkedHashMap<>();
        for (CompiledRule rule : policy.rules()) {
            tallies.put(rule.name(), new Tally(rule.name(), rule.priority(), false));
        }
        tallies.put(CompiledPolicy.DEFAULT_RULE_NAME, new Tally(CompiledPolicy.DEFAULT_RULE_NAME, null, true));
        List<Change> changes = new ArrayList<>();
        Map<String, Long> transitions = new LinkedHashMap<>();
        long occurrences = 0;
        for (RecordedAlert alert : alerts) {
            Verdict verdict = policy.evaluate(alert.facts());
            tallies.get(verdict.ruleName()).add(verdict.decision(), alert.count());
            occurrences += alert.count();
            String now = verdict.decision().wireName();
            boolean decisionChanged = !now.equals(alert.action());
            boolean ruleChanged = alert.ruleName() != null && !alert.ruleName().equals(verdict.ruleName());
            if (decisionChanged || ruleChanged) {
                changes.add(new Change(alert, verdict));
                if (decisionChanged) {
                    transitions.merge(alert.action() + " -> " + now, (long) alert.count(), Long::sum);
                }
            }
        }
        List<RuleCounts> rules = tallies.values().stream().map(Tally::counts).toList();
        return new Report(alerts.size(), occurrences, rules, transitions, changes);
    }

    /**
     * @param alerts      alert lines replayed
     * @param occurrences execs they stand for
     * @param rules       per rule in evaluation order, then the default rule: execs by the decision it now takes
     * @param transitions recorded action {@code ->} decision now, in execs, for the lines whose decision changed
     * @param changes     each line whose decision or deciding rule differs from the recorded one
     */
    public record Report(long alerts, long occurrences, List<RuleCounts> rules, Map<String, Long> transitions,
                         List<Change> changes) {
        public Report {
            rules = List.copyOf(rules);
            transitions = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(transitions));
            changes = List.copyOf(changes);
        }
    }

    /** One rule's verdicts in execs; {@code alerts} counts lines. */
    public record RuleCounts(String name, Integer priority, boolean defaultRule, long alerts,
                             Map<Verdict.Decision, Long> execs) {
        public RuleCounts {
            Objects.requireNonNull(name, "name");
            execs = java.util.Collections.unmodifiableMap(new EnumMap<>(execs));
        }

        public long execs(Verdict.Decision decision) {
            return execs.getOrDefault(decision, 0L);
        }
    }

    /** A recorded alert whose verdict now differs (decision, or deciding rule). */
    public record Change(RecordedAlert alert, Verdict now) {
        public boolean decisionChanged() {
            return !now.decision().wireName().equals(alert.action());
        }
    }

    private static final class Tally {
        private final String name;
        private final Integer priority;
        private final boolean defaultRule;
        private final EnumMap<Verdict.Decision, Long> execs = new EnumMap<>(Verdict.Decision.class);
        private long alerts;

        Tally(String name, Integer priority, boolean defaultRule) {
            this.name = name;
            this.priority = priority;
            this.defaultRule = defaultRule;
            for (Verdict.Decision d : Verdict.Decision.values()) {
                execs.put(d, 0L);
            }
        }

        void add(Verdict.Decision decision, int count) {
            alerts++;
            execs.merge(decision, (long) count, Long::sum);
        }

        RuleCounts counts() {
            return new RuleCounts(name, priority, defaultRule, alerts, execs);
        }
    }
}
