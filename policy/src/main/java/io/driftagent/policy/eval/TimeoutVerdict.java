package io.driftagent.policy.eval;

import io.driftagent.policy.model.OnTimeout;
import java.util.Objects;

/**
 * What a blocking guard answers for an exec whose decision is late, from what is known before its file is
 * classified (its workload, and which drift kinds the kernel's facts leave possible).
 *
 * @param onTimeout the answer
 * @param ruleName  the block rule whose {@code onTimeout} it is ({@value CompiledPolicy#DEFAULT_RULE_NAME} for the
 *                  default rule); null when no block rule can decide this exec (then {@link OnTimeout#ALLOW}: the
 *                  policy would not block it whatever the file is)
 */
public record TimeoutVerdict(OnTimeout onTimeout, String ruleName) {
    public TimeoutVerdict {
        Objects.requireNonNull(onTimeout, "onTimeout");
        if (ruleName == null && onTimeout == OnTimeout.DENY) {
            throw new IllegalArgumentException("only a block rule denies on timeout");
        }
    }

    /** No block rule can decide the exec. */
    public static final TimeoutVerdict NOT_BLOCKABLE = new TimeoutVerdict(OnTimeout.ALLOW, null);

    public boolean denies() {
        return onTimeout == OnTimeout.DENY;
    }

    @Override
    public String toString() {
        return ruleName == null ? "allow (no block rule applies)" : onTimeout.wireName() + " (rule '" + ruleName + "')";
    }
}
