package io.driftagent.agent.attribution;

import java.util.List;
import java.util.OptionalInt;

/** The containers that have a live process now, each with a process that outlives a short exec (its init). */
public interface LiveContainers {

    /** A container and its longest-lived live process. */
    record LiveContainer(ContainerId id, int anchorPid) {
        public LiveContainer {
            java.util.Objects.requireNonNull(id, "id");
            if (anchorPid <= 0) {
                throw new IllegalArgumentException("pid " + anchorPid);
            }
        }
    }

    /** Every container with a live process. */
    List<LiveContainer> scan();

    /** The longest-lived live process of {@code id}, if it has one. */
    OptionalInt anchorOf(ContainerId id);

    /** Knows no container (for hosts without /proc access, and tests). */
    LiveContainers NONE = new LiveContainers() {
        @Override
        public List<LiveContainer> scan() {
            return List.of();
        }

        @Override
        public OptionalInt anchorOf(ContainerId id) {
            return OptionalInt.empty();
        }
    };
}
