package io.driftagent.agent.http;

import java.util.Objects;

/** One condition for readiness (source attached, policy loaded, informer synced). Must answer fast, without I/O. */
@FunctionalInterface
public interface ReadinessCheck {

    Result check();

    /** @param reason why it is not ready; null when ready */
    record Result(boolean ready, String reason) {
        private static final Result READY = new Result(true, null);

        public Result {
            if (!ready) {
                Objects.requireNonNull(reason, "a failing check needs a reason");
            }
        }

        public static Result passing() {
            return READY;
        }

        public static Result failing(String reason) {
            return new Result(false, reason);
        }
    }
}
