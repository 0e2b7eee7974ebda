package io.driftagent.agent.policysource;

import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.DriftPolicy;
import io.driftagent.policy.model.OnTimeout;
import io.driftagent.policy.model.PolicyRule;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Merges the policy file and the DriftPolicy resources into the one policy in force (docs/policy.md, "DriftPolicy
 * resources"):
 * <ol>
 * <li>Each source is a block of rules with a priority: a resource's {@code spec.priority}; the file's is 0.</li>
 * <li>Blocks go lowest priority first; at equal priority the file comes first, then resources by name.</li>
 * <li>Inside a block, rules go by their own {@code priority}, ties in the order written (as in a file).</li>
 * <li>A resource's rules are named {@code RESOURCE/RULE} in verdicts and alerts; the file's keep their names.</li>
 * <li>The default rule is that of the first block, in this order, that states one. The file always states one
 *     ({@code ignore} when it has no {@code defaultRule}), so a resource's {@code defaultRule} counts only when the
 *     resource comes before the file (negative priority) or there is no file. None at all: {@code ignore}.</li>
 * </ol>
 * The first rule that applies in the merged order decides, exactly as in one file. Pure and thread-safe.
 */
public final class PolicyComposer {
    /** The file's place among the resources. */
    public static final int FILE_PRIORITY = 0;

    private PolicyComposer() {
    }

    private record Block(int priority, boolean file, String name, DriftPolicy policy, boolean statesDefaultRule) {
    }

    /**
     * @param file      the policy file's policy (its last good version), empty when the agent runs without a file
     * @param resources the last good version of each DriftPolicy resource
     */
    public static CompiledPolicy compose(Optional<DriftPolicy> file, Collection<ResourcePolicy> resources) {
        List<Block> blocks = new ArrayList<>();
        file.ifPresent(policy -> blocks.add(new Block(FILE_PRIORITY, true, "", policy, true)));
        for (ResourcePolicy resource : resources) {
            blocks.add(new Block(resource.priority(), false, resource.name(), resource.policy(),
                    resource.statesDefaultRule()));
        }
        blocks.sort(Comparator.comparingInt(Block::priority)
                .thenComparing(b -> !b.file())
                .thenComparing(Block::name));

        List<PolicyRule> rules = new ArrayList<>();
        Action defaultAction = null;
        OnTimeout defaultOnTimeout = null;
        for (Block block : blocks) {
            List<PolicyRule> ordered = new ArrayList<>(block.policy().rules());
            ordered.sort(Comparator.comparingInt(PolicyRule::priority)); // stable: ties keep the written order
            for (PolicyRule rule : ordered) {
                rules.add(block.file() ? rule : renamed(rule, block.name() + "/" + rule.name()));
            }
            if (defaultAction == null && block.statesDefaultRule()) {
                defaultAction = block.policy().defaultAction();
                defaultOnTimeout = block.policy().defaultOnTimeout();
            }
        }
        if (defaultAction == null) {
            defaultAction = Action.IGNORE;
        }
        return CompiledPolicy.compileInOrder(new DriftPolicy(rules, defaultAction, defaultOnTimeout));
    }

    private static PolicyRule renamed(PolicyRule rule, String name) {
        return new PolicyRule(name, rule.priority(), rule.description(), rule.action(), rule.cloudScope(),
                rule.resourceScope(), rule.driftKinds(), rule.allowList(), rule.onTimeout(), rule.triggers());
    }
}
