package io.driftagent.agent.enforce;

import io.driftagent.agent.pipeline.AlertPublisher;
import io.driftagent.reporter.alert.Alert;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sees every alert on its way to the reporter and reacts to one kind: drift the policy blocks that ran anyway
 * ({@code BinaryDrift} with action {@code block}). In a guarded container that means the guard let the exec through:
 * a remembered allowance gone stale (content changed through a shared writable mapping raises no modify event), a
 * default answer, or an exec before the container was guarded. Every remembered allowance is then forgotten, so the
 * next exec of that file is asked about and denied; the alert itself goes on unchanged.
 */
public final class BlockEscapeResponder implements AlertPublisher {

    private static final Logger log = LoggerFactory.getLogger(BlockEscapeResponder.class);

    private final AlertPublisher next;
    private final Runnable forgetRememberedAllowances;
    private final LongAdder escapes = new LongAdder();

    public BlockEscapeResponder(AlertPublisher next, Runnable forgetRememberedAllowances) {
        this.next = next;
        this.forgetRememberedAllowances = forgetRememberedAllowances;
    }

    @Override
    public boolean publish(Alert alert) {
        if (alert.alertType() == Alert.AlertType.BinaryDrift && "block".equals(alert.action())) {
            escapes.increment();
            log.warn("drift under a block rule ran: {} in container {}; forgetting remembered allowances",
                    alert.drift() == null ? null : alert.drift().path(),
                    alert.container() == null ? null : alert.container().id());
            forgetRememberedAllowances.run();
        }
        return next.publish(alert);
    }

    /** Blockable drift execs that ran, since start. */
    public long escapes() {
        return escapes.sum();
    }
}
