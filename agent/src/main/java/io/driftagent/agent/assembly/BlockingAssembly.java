package io.driftagent.agent.assembly;

import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.TimeoutAction;
import io.driftagent.agent.enforce.BlockScopeGuardian;
import io.driftagent.agent.enforce.Enforcer;
import io.driftagent.agent.enforce.ExecPermissionDecider;
import io.driftagent.agent.enforce.FanotifyExecGuard;
import io.driftagent.agent.enforce.GuardConfig;
import io.driftagent.agent.enforce.GuardStats;
import io.driftagent.agent.enforce.PermissionDecision;
import io.driftagent.agent.source.SourceUnavailableException;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exec guard for {@code block} rules: a fanotify permission group with no marks until a container under a block
 * rule appears. On a kernel without fanotify permission events the agent still detects; blocking is then off, said
 * once in the log.
 */
final class BlockingAssembly {

    private static final Logger log = LoggerFactory.getLogger(BlockingAssembly.class);

    private BlockingAssembly() {
    }

    static FanotifyExecGuard guard(AgentConfig config, Clock clock) {
        GuardConfig guardConfig = GuardConfig.defaults()
                .withDecisionTimeout(config.blocking().decisionTimeout())
                .withDefaultDecision(config.blocking().onTimeout() == TimeoutAction.DENY
                        ? PermissionDecision.DENY : PermissionDecision.ALLOW);
        return new FanotifyExecGuard(guardConfig, clock);
    }

    private static final List<String> DEFAULT_REASONS = List.of("timeout", "decider_error", "null_decision", "overloaded",
            "fd_unreadable", "shutdown", "reader_failed");
    private static final List<String> NOT_REMEMBERED_REASONS = List.of("not_image_file", "touched_while_marking",
            "mark_refused");

    /**
     * The guard's counters, read at scrape: permission events, answers, defaults by reason, remembered allowances.
     *
     * @param onTimeout {@code blocking.onTimeout}: the answer of every default but a rule's own timeout
     */
    static void registerMetrics(FanotifyExecGuard guard, TimeoutAction onTimeout, MeterRegistry registry) {
        FunctionCounter.builder("drift.guard.permission.events", guard, g -> g.stats().received())
                .description("Exec permission events the guard read (guarded execs that were asked about)")
                .register(registry);
        FunctionCounter.builder("drift.guard.answers", guard, g -> g.stats().allowed())
                .description("Exec permission answers, by decision").tag("decision", "allow").register(registry);
        FunctionCounter.builder("drift.guard.answers", guard, g -> g.stats().denied())
                .description("Exec permission answers, by decision").tag("decision", "deny").register(registry);
        // only "timeout" can be answered either way (a rule's own onTimeout); every other default reason is answered
        // with blocking.onTimeout, so the other decision's series would stay 0 forever
        String configured = onTimeout == TimeoutAction.DENY ? "deny" : "allow";
        for (String reason : DEFAULT_REASONS) {
            if (reason.equals("timeout") || configured.equals("deny")) {
                FunctionCounter.builder("drift.guard.defaulted", guard,
                                g -> g.stats().defaultedDenied().getOrDefault(reason, 0L))
                        .description("Exec permission events not answered by a decision, by reason and answer")
                        .tag("reason", reason).tag("decision", "deny").register(registry);
            }
            if (reason.equals("timeout") || configured.equals("allow")) {
                FunctionCounter.builder("drift.guard.defaulted", guard, g -> g.stats().defaulted().getOrDefault(reason, 0L)
                                - g.stats().defaultedDenied().getOrDefault(reason, 0L))
                        .description("Exec permission events not answered by a decision, by reason and answer")
                        .tag("reason", reason).tag("decision", "allow").register(registry);
            }
        }
        FunctionCounter.builder("drift.guard.late.decisions", guard, g -> g.stats().lateDecisions())
                .description("Decisions finished after their exec had been answered at the deadline")
                .register(registry);
        FunctionCounter.builder("drift.guard.skipped", guard, g -> g.stats().skipped())
                .description("Execs answered at their deadline before their turn in their container's lane came; "
                        + "not decided then (a denied one is reported unclassified)")
                .register(registry);
        FunctionCounter.builder("drift.guard.overruled", guard, g -> g.stats().overruled())
                .description("Execs denied at the deadline that the decision, finished later, allowed")
                .register(registry);
        FunctionCounter.builder("drift.guard.decided", guard, g -> g.stats().answerTimes().decidedAtOnce())
                .description("Exec permission events answered by a decision (drift.guard.answer.seconds is their time),"
                        + " by where it was made: at once on the reading thread, or in the container's lane")
                .tag("where", "at_once").register(registry);
        FunctionCounter.builder("drift.guard.decided", guard,
                        g -> g.stats().answerTimes().decided() - g.stats().answerTimes().decidedAtOnce())
                .description("Exec permission events answered by a decision (drift.guard.answer.seconds is their time),"
                        + " by where it was made: at once on the reading thread, or in the container's lane")
                .tag("where", "lane").register(registry);
        Map<String, java.util.function.ToDoubleFunction<GuardStats.AnswerTimes>> phases = Map.of(
                "prepare", t -> t.prepareNanos() / 1e9, "lane_wait", t -> t.laneWaitNanos() / 1e9,
                "decide", t -> t.decideNanos() / 1e9);
        phases.forEach((phase, seconds) -> FunctionCounter.builder("drift.guard.answer.seconds", guard,
                        g -> seconds.applyAsDouble(g.stats().answerTimes()))
                .description("Time the decided execs waited in execve for their answer, from reading the event to "
                        + "writing the answer, by phase: prepare (facts from the fd, the container), lane_wait, decide")
                .tag("phase", phase).register(registry));
        FunctionCounter.builder("drift.guard.decided.before.proc", guard,
                        g -> g.stats().placements().decidedBeforeProc())
                .description("Execs allowed from their descriptor's facts alone (the container from the file's overlay),"
                        + " the process read from /proc only after the answer")
                .register(registry);
        FunctionCounter.builder("drift.guard.placement.mismatched", guard, g -> g.stats().placements().mismatched())
                .description("Of the execs allowed before their process was read, those whose process turned out to "
                        + "be placed elsewhere (outside the overlay's container): that overlay is read first from then on")
                .register(registry);
        FunctionCounter.builder("drift.guard.remembered", guard, g -> g.stats().remembered())
                .description("Image files whose allowance the kernel remembers until they are modified")
                .register(registry);
        for (String reason : NOT_REMEMBERED_REASONS) {
            FunctionCounter.builder("drift.guard.not.remembered", guard,
                            g -> g.stats().notRemembered().getOrDefault(reason, 0L))
                    .description("Allowances that could not be remembered (asked again next time), by reason")
                    .tag("reason", reason).register(registry);
        }
    }

    /**
     * The guard as the block-scope guardian attaches it, registering the guard's counters ({@link #registerMetrics(
     * FanotifyExecGuard, TimeoutAction, MeterRegistry)}) when the first container is put under it: before that no
     * exec can be asked about and every one of them would be a 0 series on every node that never blocks.
     */
    static BlockScopeGuardian.RootGuard meteredOnFirstUse(FanotifyExecGuard guard, TimeoutAction onTimeout,
                                                         MeterRegistry registry) {
        BlockScopeGuardian.RootGuard inner = BlockScopeGuardian.RootGuard.of(guard);
        AtomicBoolean registered = new AtomicBoolean();
        return new BlockScopeGuardian.RootGuard() {
            @Override
            public void guard(Path root) throws IOException {
                inner.guard(root);
                if (registered.compareAndSet(false, true)) {
                    registerMetrics(guard, onTimeout, registry);
                }
            }

            @Override
            public void unguard(Path root) {
                inner.unguard(root);
            }

            @Override
            public boolean available() {
                return inner.available();
            }
        };
    }

    static void registerMetrics(Enforcer enforcer, MeterRegistry registry) {
        FunctionCounter.builder("drift.guard.block.escapes", enforcer, Enforcer::escapes)
                .description("Drift under a block rule that ran (not denied); each one makes the guard forget its "
                        + "remembered allowances").register(registry);
    }

    static void registerMetrics(BlockScopeGuardian guardian, MeterRegistry registry) {
        FunctionCounter.builder("drift.guard.attach.failures", guardian, BlockScopeGuardian::attachFailures)
                .description("Tries to put a container under a block rule under the exec guard that failed (each is "
                        + "retried at its next exec and scan)").register(registry);
    }

    /** Starts the guard answering with {@code decider}'s decisions; a kernel without permission events is logged. */
    static ManagedService service(FanotifyExecGuard guard, ExecPermissionDecider decider) {
        return ManagedService.of("exec-guard", () -> {
            try {
                guard.start(decider);
            } catch (SourceUnavailableException e) {
                log.warn("blocking unavailable, block rules will alert only: {}", e.getMessage());
            }
        }, guard::close);
    }
}
