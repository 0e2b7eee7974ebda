package io.driftagent.agent.storm;

import io.driftagent.agent.enforce.FanotifyExecGuard;
import io.driftagent.agent.enforce.GuardConfig;
import io.driftagent.agent.enforce.GuardStats;
import io.driftagent.agent.enforce.PermissionDecision;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.SourceStats;
import io.driftagent.agent.source.SourceUnavailableException;
import io.driftagent.agent.source.fanotify.FanotifyExecSource;
import io.driftagent.agent.source.fanotify.FanotifySourceConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The fanotify storm modes. All mark the storm's own filesystem (an overlay, see {@link StormFilesystem}); the
 * observer also marks the host root as in production, so it pays for every other exec on the machine too.
 */
public final class FanotifyStormModes {
    private FanotifyStormModes() {
    }

    /** {@link FanotifyExecSource} with its defaults (host root marked) plus a mark on the storm's filesystem. */
    public static StormMode observe(Path stormFs) {
        return new StormMode("fanotify-observe", () -> new WatchingSource(stormFs));
    }

    /**
     * {@link FanotifyExecGuard} with its defaults guarding the storm's filesystem, every exec allowed by the decider.
     * Seen through the harness as a source: each decision is "delivered"; a default answer (timeout, decider error,
     * overload...) or a failed answer counts as "lost", since the decider never saw that exec.
     */
    public static StormMode blockAllowAll(Path stormFs) {
        return new StormMode("fanotify-block-allow-all", () -> new AllowAllGuard(stormFs, PermissionDecision.ALLOW));
    }

    /**
     * The guard as the agent runs it for a container's own binaries: the decider answers ALLOW_UNTIL_MODIFIED (what
     * {@code BlockingDecider} answers for an IMAGE exec), the guard remembers it in the kernel, and the storm binary
     * (an image-layer file of the storm's overlay) raises no further permission event. "delivered" = decisions made.
     */
    static StormMode blockImageRemembered(Path stormFs) {
        return new StormMode("fanotify-block-image-remembered",
                Optional.of(() -> new AllowAllGuard(stormFs, PermissionDecision.ALLOW_UNTIL_MODIFIED)), false);
    }

    private static final class WatchingSource extends DelegatingSource {
        private final Path stormFs;

        WatchingSource(Path stormFs) {
            super(new FanotifyExecSource(FanotifySourceConfig.defaults(), Clock.systemUTC()));
            this.stormFs = stormFs;
        }

        @Override
        public void start(ExecEventSink sink) throws SourceUnavailableException {
            source.start(sink);
            try {
                ((FanotifyExecSource) source).watch(stormFs);
            } catch (IOException e) {
                source.close();
                throw new SourceUnavailableException("cannot mark the storm filesystem: " + e.getMessage(), e);
            }
        }
    }

    private static final class AllowAllGuard implements ExecSource {
        private final Path stormFs;
        private volatile ExecEventSink sink;
        private final FanotifyExecGuard guard;
        private final PermissionDecision answer;

        AllowAllGuard(Path stormFs, PermissionDecision answer) {
            this.stormFs = stormFs;
            this.answer = answer;
            this.guard = new FanotifyExecGuard(GuardConfig.defaults(), Clock.systemUTC());
        }

        @Override
        public void start(ExecEventSink sink) throws SourceUnavailableException {
            this.sink = sink;
            guard.start(request -> {
                sink.offer(request.event());
                return answer;
            });
            try {
                guard.guard(stormFs);
            } catch (IOException e) {
                guard.close();
                throw new SourceUnavailableException("cannot guard the storm filesystem: " + e.getMessage(), e);
            }
        }

        @Override
        public SourceStats stats() {
            GuardStats g = guard.stats();
            Map<String, Long> lost = new HashMap<>(g.defaulted());
            if (g.answerFailed() > 0) {
                lost.put("answer_failed", g.answerFailed());
            }
            long defaulted = g.defaulted().values().stream().mapToLong(Long::longValue).sum();
            return new SourceStats(g.answered() - defaulted, lost);
        }

        @Override
        public ExecEvent.SourceKind kind() {
            return ExecEvent.SourceKind.FANOTIFY;
        }

        @Override
        public void close() {
            guard.close();
        }
    }
}
