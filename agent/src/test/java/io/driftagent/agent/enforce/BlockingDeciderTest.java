package io.driftagent.agent.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.DeploymentIdentity;
import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.model.DriftKind;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The decision path of one guarded exec, in the order its parts become known. */
class BlockingDeciderTest {

    private static final ContainerId SHOP = new ContainerId("b".repeat(64));
    private static final WorkloadMetadata SHOP_POD =
            new WorkloadMetadata("web-0", "shop", "uid", Map.of(), "web", "shop/web:1", null);

    /** What the guard's side saw: the late answer at each step, and the answers. */
    private static final class RecordingPending implements PendingExec {
        PermissionDecision onTimeout = PermissionDecision.ALLOW;
        String decidedBy = "blocking.onTimeout";
        PermissionDecision toldBefore;
        final List<PermissionDecision> answers = new ArrayList<>();

        @Override
        public void answerOnTimeout(PermissionDecision answer, String by) {
            onTimeout = answer;
            decidedBy = by;
        }

        @Override
        public String timeoutDecidedBy() {
            return decidedBy;
        }

        @Override
        public PermissionDecision answer(PermissionDecision decision) {
            answers.add(decision);
            return toldBefore != null ? toldBefore : decision;
        }
    }

    private final List<String> seenAtClassification = new ArrayList<>();
    private final List<String> reported = new ArrayList<>();
    private Classification classifyAs = new Classification(DriftKind.ADDED, "/tmp/big", "c".repeat(64), null, null, null);
    private final RecordingPending pending = new RecordingPending();

    private static CompiledPolicy policy(String yaml) {
        PolicyLoadResult r = new PolicyLoader().load("p.yaml", yaml.getBytes(StandardCharsets.UTF_8));
        return r.policy().orElseThrow(() -> new AssertionError(r.problems().toString()));
    }

    private BlockingDecider decider(CompiledPolicy policy) {
        return new BlockingDecider(
                event -> Optional.of(new ContainerContext(SHOP, ContainerRuntime.CONTAINERD, "/x", null, null)),
                (event, container) -> {
                    seenAtClassification.add(pending.onTimeout + " by " + pending.decidedBy);
                    return classifyAs;
                },
                id -> Optional.of(SHOP_POD),
                () -> policy,
                new AlertAssembler(new DeploymentIdentity("node", "cluster", null, null), Clock.systemUTC(), () -> "id"),
                (event, classification) -> reported.add(event.filename() + " " + classification.kind()));
    }

    private ExecPermissionRequest upperLayerExec() {
        return new ExecPermissionRequest(new ExecEvent(9, 9, 1, 0, 0, 1L, "big", "/tmp/big", new ExecEvent.FileId(1, 2),
                ExecEvent.FileId.NONE, 0, 0, new ExecEvent.Flags(true, true, false, false), ExecEvent.SourceKind.FANOTIFY, 0),
                false, pending);
    }

    private static final String BLOCK_SHOP = """
            apiVersion: drift.agent/v1
            kind: DriftPolicy
            rules:
              - name: block-shop
                priority: 1
                action: block
                resourceScope: [{field: namespace, operator: equals, values: [shop]}]
            """;

    @Test
    void theBlockRulesOnTimeoutIsHandedToTheGuardBeforeTheFileIsClassified() throws Exception {
        BlockingDecider decider = decider(policy(BLOCK_SHOP));

        PermissionDecision d = decider.decide(upperLayerExec());

        assertThat(seenAtClassification).containsExactly("DENY by onTimeout of rule 'block-shop'");
        assertThat(d).isEqualTo(PermissionDecision.DENY);
        assertThat(pending.answers).containsExactly(PermissionDecision.DENY);
        assertThat(reported).as("reported with the classification the decision used").containsExactly("/tmp/big ADDED");
    }

    @Test
    void aRuleThatAllowsOnTimeoutIsHandedOnAsAllow() throws Exception {
        BlockingDecider decider = decider(policy(BLOCK_SHOP.replace("action: block", "action: block\n    onTimeout: allow")));

        decider.decide(upperLayerExec());

        assertThat(seenAtClassification).containsExactly("ALLOW by onTimeout of rule 'block-shop'");
    }

    @Test
    void anExecNoBlockRuleCanDecideIsAllowedOnTimeout() throws Exception {
        BlockingDecider decider = decider(policy(BLOCK_SHOP.replace("values: [shop]", "values: [billing]")));

        assertThat(decider.decide(upperLayerExec())).isEqualTo(PermissionDecision.ALLOW);
        assertThat(seenAtClassification).containsExactly("ALLOW by policy (no block rule applies)");
        assertThat(reported).isEmpty();
    }

    @Test
    void aBlockVerdictForAnExecAlreadyAllowedAtTheDeadlineIsNotReportedAsBlocked() throws Exception {
        // given the deadline answered allow before the decision finished: the exec ran
        pending.toldBefore = PermissionDecision.ALLOW;
        BlockingDecider decider = decider(policy(BLOCK_SHOP));

        decider.decide(upperLayerExec());

        assertThat(reported).as("what ran is never reported as blocked").isEmpty();
    }

    @Test
    void anImageFileIsAllowedUntilModifiedAndTheLaneIsTheContainer() throws Exception {
        classifyAs = new Classification(DriftKind.IMAGE, "/bin/sh", null, null, null, null);
        BlockingDecider decider = decider(policy(BLOCK_SHOP));

        assertThat(decider.decide(upperLayerExec())).isEqualTo(PermissionDecision.ALLOW_UNTIL_MODIFIED);
        assertThat(decider.laneOf(upperLayerExec())).isEqualTo(SHOP);
        assertThat(reported).isEmpty();
    }

    @Test
    void theKernelsFactsNarrowTheKindsALateAnswerConsiders() {
        assertThat(BlockingDecider.possibleKinds(new ExecEvent.Flags(true, true, false, false)))
                .containsExactlyInAnyOrder(DriftKind.ADDED, DriftKind.MODIFIED, DriftKind.UNRESOLVED);
        assertThat(BlockingDecider.possibleKinds(new ExecEvent.Flags(false, false, true, true)))
                .containsExactlyInAnyOrder(DriftKind.FILELESS, DriftKind.UNRESOLVED);
        assertThat(BlockingDecider.possibleKinds(ExecEvent.Flags.NONE)).doesNotContain(DriftKind.IMAGE).hasSize(5);
    }
}
