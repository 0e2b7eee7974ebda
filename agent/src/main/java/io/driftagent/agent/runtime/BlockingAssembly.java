package io.driftagent.agent.runtime;

import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.TimeoutAction;
import io.driftagent.agent.source.SourceUnavailableException;
import io.driftagent.agent.source.fanotify.ExecPermissionDecider;
import io.driftagent.agent.source.fanotify.FanotifyExecGuard;
import io.driftagent.agent.source.fanotify.GuardConfig;
import io.driftagent.agent.source.fanotify.PermissionDecision;
import java.time.Clock;
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

    static FanotifyExecGuard guard(AgentConfig config, Clock clock, ExecPermissionDecider decider) {
        GuardConfig guardConfig = GuardConfig.defaults()
                .withDecisionTimeout(config.blocking().decisionTimeout())
                .withDefaultDecision(config.blocking().onTimeout() == TimeoutAction.DENY
                        ? PermissionDecision.DENY : PermissionDecision.ALLOW);
        return new FanotifyExecGuard(guardConfig, decider, clock);
    }

    static ManagedService service(FanotifyExecGuard guard) {
        return ManagedService.of("exec-guard", () -> {
            try {
                guard.start();
            } catch (SourceUnavailableException e) {
                log.warn("blocking unavailable, block rules will alert only: {}", e.getMessage());
            }
        }, guard::close);
    }
}
