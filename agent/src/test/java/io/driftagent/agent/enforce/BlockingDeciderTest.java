package io.driftagent.agent.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.classification.DriftClassifier;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.DeploymentIdentity;
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

    /** A classifier that can classify at once ({@code quick}) or only by {@link DriftClassifier#classify}. */
    private BlockingDecider deciderAtOnce(CompiledPolicy policy, boolean quick, List<ExecEvent> reportedEvents) {
        DriftClassifier classifier = new DriftClassifier() {
            @Override
            public Classification classify(ExecEvent event, ContainerContext container) {
                return classifyAs;
            }

            @Override
            public Optional<Classification> classifyAtOnce(ExecEvent event, ContainerContext container) {
                return quick ? Optional.of(classifyAs) : Optional.empty();
            }
        };
        return new BlockingDecider(
                event -> Optional.of(new ContainerContext(SHOP, ContainerRuntime.CONTAINERD, "/x", null, null)),
                classifier, id -> Optional.of(SHOP_POD), () -> policy,
                new AlertAssembler(new DeploymentIdentity("node", "cluster", null, null), Clock.systemUTC(), () -> "id"),
                (event, classification) -> reportedEvents.add(event));
    }

    /** The guard's request as the reading thread makes it: the placement only; the details read when reported. */
    private ExecPermissionRequest placedExec(List<String> detailsReadAfter) {
        ExecEvent placed = new ExecEvent(9, 9, 0, -1, -1, 0L, "big", "/tmp/big", new ExecEvent.FileId(1, 2),
                ExecEvent.FileId.NONE, 7, 8, new ExecEvent.Flags(true, true, false, false), ExecEvent.SourceKind.FANOTIFY, 0);
        return new ExecPermissionRequest(placed, false, pending, decided -> {
            detailsReadAfter.add("answers so far " + pending.answers);
            return new ExecEvent(decided.pid(), decided.tgid(), 77, 1000, 1000, 5L, decided.comm(), decided.filename(),
                    decided.file(), decided.interpreter(), decided.cgroupId(), decided.mountNsId(), decided.flags(),
                    decided.source(), decided.timestampNs());
        });
    }

    @Test
    void atOnceADenialIsReportedWithTheProcessDetailsReadWhileItStillWaitsForTheAnswer() throws Exception {
        List<ExecEvent> reportedEvents = new ArrayList<>();
        List<String> detailsReadAfter = new ArrayList<>();
        BlockingDecider decider = deciderAtOnce(policy(BLOCK_SHOP), true, reportedEvents);

        Optional<PermissionDecision> d = decider.decideAtOnce(placedExec(detailsReadAfter));

        assertThat(d).contains(PermissionDecision.DENY);
        assertThat(pending.answers).containsExactly(PermissionDecision.DENY);
        assertThat(detailsReadAfter).as("read before the answer: the process is certainly there")
                .containsExactly("answers so far []");
        assertThat(reportedEvents).singleElement().satisfies(e -> {
            assertThat(e.ppid()).isEqualTo(77);
            assertThat(e.uid()).isEqualTo(1000);
            assertThat(e.cgroupId()).isEqualTo(7);
        });
    }

    @Test
    void atOnceTheDecisionIsTheSameAsInTheLaneAndNothingIsDecidedWhenTheClassificationIsNotQuick() throws Exception {
        List<ExecEvent> reportedEvents = new ArrayList<>();
        List<String> detailsReadAfter = new ArrayList<>();
        classifyAs = new Classification(DriftKind.IMAGE, "/bin/sh", null, null, null, null);
        assertThat(deciderAtOnce(policy(BLOCK_SHOP), true, reportedEvents).decideAtOnce(placedExec(detailsReadAfter)))
                .contains(deciderAtOnce(policy(BLOCK_SHOP), true, reportedEvents).decide(placedExec(detailsReadAfter)))
                .contains(PermissionDecision.ALLOW_UNTIL_MODIFIED);

        classifyAs = new Classification(DriftKind.ADDED, "/tmp/big", "c".repeat(64), null, null, null);
        assertThat(deciderAtOnce(policy(BLOCK_SHOP), false, reportedEvents).decideAtOnce(placedExec(detailsReadAfter)))
                .isEmpty();
        assertThat(pending.answers).isEmpty();
        assertThat(reportedEvents).isEmpty();
        assertThat(detailsReadAfter).as("no /proc read for what is not reported").isEmpty();
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
