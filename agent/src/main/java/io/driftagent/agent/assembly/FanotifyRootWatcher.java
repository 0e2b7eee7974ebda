package io.driftagent.agent.assembly;

import io.driftagent.agent.attribution.ContainerAttributor;
import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.FallbackExecSource;
import io.driftagent.agent.source.fanotify.FanotifyExecSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With the fanotify source, marks each container's root filesystem the first time one of its execs is attributed.
 * The host-root mark alone reports a container exec as the layer's real file (the host disk's device) and, once a
 * short-lived process is gone, nothing then ties that file to a container; the overlay mark adds the overlay's own
 * device, which attribution maps back to the container after the process exited.
 */
final class FanotifyRootWatcher implements ContainerAttributor {

    private static final Logger log = LoggerFactory.getLogger(FanotifyRootWatcher.class);
    private static final int MAX_REMEMBERED = 65_536;

    private final ContainerAttributor delegate;
    private final ExecSource source;
    private final Set<ContainerId> watched = ConcurrentHashMap.newKeySet();

    FanotifyRootWatcher(ContainerAttributor delegate, ExecSource source) {
        this.delegate = delegate;
        this.source = source;
    }

    @Override
    public Optional<ContainerContext> attribute(ExecEvent event) {
        Optional<ContainerContext> container = delegate.attribute(event);
        if (container.isPresent() && event.source() == ExecEvent.SourceKind.FANOTIFY) {
            fanotify().ifPresent(f -> watchOnce(f, container.get().id(), event.tgid()));
        }
        return container;
    }

    private Optional<FanotifyExecSource> fanotify() {
        return fanotifyOf(source);
    }

    private static Optional<FanotifyExecSource> fanotifyOf(ExecSource source) {
        ExecSource s = source instanceof FallbackExecSource fallback ? fallback.active() : source;
        return s instanceof FanotifyExecSource f ? Optional.of(f) : Optional.empty();
    }

    /**
     * Has the fanotify source, when it is the one attached, watch the filesystem of {@code dir} (the self-test's exec
     * canary directory: in a pod, a memory emptyDir that no container root or host mark covers). Nothing for eBPF.
     */
    static void watchDirectory(ExecSource source, Path dir) {
        fanotifyOf(source).ifPresent(f -> {
            try {
                f.watch(dir);
            } catch (IOException | RuntimeException e) {
                log.warn("fanotify: cannot watch {} for the self-test's canary: {}", dir, e.getMessage());
            }
        });
    }

    private void watchOnce(FanotifyExecSource fanotify, ContainerId id, int tgid) {
        if (watched.contains(id)) {
            return;
        }
        if (watched.size() >= MAX_REMEMBERED) {
            watched.clear();
        }
        try {
            fanotify.watch(Path.of("/proc", Integer.toString(tgid), "root"));
            watched.add(id);
            log.debug("fanotify: marked the root filesystem of container {}", id);
        } catch (IOException | RuntimeException e) {
            // the process is already gone: the next exec of this container tries again
            log.debug("fanotify: cannot mark container {} through pid {}: {}", id, tgid, e.getMessage());
        }
    }
}
