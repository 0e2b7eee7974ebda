package io.driftagent.agent.sandbox;

import io.driftagent.agent.attribution.ContainerAttributor;
import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerFilesystems;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.attribution.OverlayRoot;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.classification.DriftClassifier;
import io.driftagent.agent.classification.HashBudget;
import io.driftagent.agent.metadata.MetadataProvider;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertPublisher;
import io.driftagent.agent.source.ExecEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The agent's own sandbox containers (self-test canary, demo). They have no runtime, so attribution, metadata and
 * classification learn of them here; everything else treats them as ordinary containers. Without a registered
 * sandbox every wrapper passes straight through to the real component.
 *
 * <p>Also the self-test's exec canary where no sandbox can be had (a pod's read-only root, no overlay mount): a
 * file the agent copied and execs itself, watched by its identity (dev, inode). Its execs are reported to the
 * watcher as the source delivered them and as classified, and never reach the alert sinks.
 */
public final class SandboxContainers {

    /** Told of the execs of a watched canary file, on the pipeline's threads. Must not block. */
    public interface CanaryObserver {
        /** The exec source delivered an exec of the file; {@code container} is what attribution made of it. */
        void seen(ExecEvent event, Optional<ContainerContext> container);

        /** The exec was attributed to a container and classified. */
        void classified(ExecEvent event, Classification classification);
    }

    /** A watch on a canary file; closing it stops the reports (its alerts stay suppressed). */
    public interface CanaryWatch extends AutoCloseable {
        @Override
        void close();
    }

    private record Canary(long dev, long ino, String fileName, CanaryObserver observer) {
    }

    /** An exec of a canary, remembered so its alert (published later, on another thread) is dropped. */
    private record CanaryExec(int pid, String fileName) {
    }

    private static final int CANARY_EXECS_REMEMBERED = 64;
    private final Map<Long, Canary> canaries = new ConcurrentHashMap<>();
    private final AtomicLong canaryIds = new AtomicLong();
    private volatile Runnable canaryWatchesChanged = () -> { };
    private final Deque<CanaryExec> canaryExecs = new ArrayDeque<>();

    /** Told of every classification of an exec in a sandbox, on the classify stage's thread. Must not block. */
    @FunctionalInterface
    public interface Observer {
        void classified(ExecEvent event, Classification classification);
    }

    private record Registered(OverlaySandbox sandbox, ContainerContext context, long cgroupId, String hostPrefix,
                              WorkloadMetadata metadata, boolean reportAlerts, Observer observer) {
        long overlayDev() {
            return context.filesystems().rootDevice().orElse(-1L);
        }
    }

    private final Map<ContainerId, Registered> byId = new ConcurrentHashMap<>();
    /**
     * Sandboxes whose alerts stay out of the sinks (the self-test's), after they were unregistered: an exec attributed
     * while the sandbox was registered can reach publishing after the self-test is done with it (a source that reports
     * late, like fanotify), and must still not alert. Ids are unique per run; the oldest are forgotten past the bound.
     */
    private final Set<String> retiredSilent = java.util.Collections.synchronizedSet(
            java.util.Collections.newSetFromMap(new java.util.LinkedHashMap<String, Boolean>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > RETIRED_REMEMBERED;
                }
            }));
    private static final int RETIRED_REMEMBERED = 1024;

    /**
     * Makes a sandbox known as a container.
     *
     * @param reportAlerts whether its alerts go to the sinks (demo) or are kept out of them (self-test)
     */
    public ContainerId register(OverlaySandbox sandbox, WorkloadMetadata metadata, boolean reportAlerts,
                                Observer observer) throws IOException {
        ContainerId id = new ContainerId("drift-sandbox-" + sandbox.id());
        OverlayRoot root = sandbox.overlayRoot();
        ContainerContext context = new ContainerContext(id, ContainerRuntime.UNKNOWN,
                "/drift-agent-sandbox/" + sandbox.id(), null,
                new ContainerFilesystems(Optional.of(root), List.of(root.mount())));
        byId.put(id, new Registered(sandbox, context, sandbox.cgroupId(), sandbox.baseDir() + "/", metadata,
                reportAlerts, observer));
        return id;
    }

    public void unregister(ContainerId id) {
        Registered r = byId.remove(id);
        if (r != null && !r.reportAlerts()) {
            retiredSilent.add(id.value());
        }
    }

    /**
     * The exec's sandbox: by its overlay's device, by a host path inside the sandbox, by a layer of the sandbox holding exactly that file
     * (fanotify's host-root view of a process that is already gone), or by cgroup id for a file on an overlay. A
     * source that reads the cgroup after the exec (fanotify) sees the set-up tools (chroot) already moved into the
     * sandbox's cgroup; their files are the host's, which is why a cgroup match alone is not enough.
     */
    Optional<ContainerContext> attribute(ExecEvent event) {
        for (Registered r : byId.values()) {
            if (event.file().dev() == r.overlayDev() || event.filename().startsWith(r.hostPrefix())
                    || inSandboxLayers(r.sandbox(), event)) {
                return Optional.of(r.context());
            }
            if (event.cgroupId() != 0 && event.cgroupId() == r.cgroupId() && event.flags().overlay()) {
                return Optional.of(r.context());
            }
        }
        return Optional.empty();
    }

    private static boolean inSandboxLayers(OverlaySandbox sandbox, ExecEvent event) {
        String relative = event.filename().replaceFirst("^/+", "");
        if (relative.isEmpty()) {
            return false;
        }
        for (Path layer : List.of(sandbox.upperDir(), sandbox.lowerDir())) {
            try {
                Path file = layer.resolve(relative);
                long ino = ((Number) Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue();
                long dev = ((Number) Files.getAttribute(file, "unix:dev", LinkOption.NOFOLLOW_LINKS)).longValue();
                if (ino == event.file().ino() && dev == event.file().dev()) {
                    return true;
                }
            } catch (IOException | RuntimeException e) {
                // not in this layer
            }
        }
        return false;
    }

    /**
     * Watches execs of the file {@code file} (its dev and inode as the exec source reports them).
     *
     * @param file the canary as the agent sees it; its name marks the canary's alerts for suppression
     */
    public CanaryWatch watchCanary(Path file, CanaryObserver observer) throws IOException {
        long dev = ((Number) Files.getAttribute(file, "unix:dev", LinkOption.NOFOLLOW_LINKS)).longValue();
        long ino = ((Number) Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue();
        long key = canaryIds.incrementAndGet();
        canaries.put(key, new Canary(dev, ino, file.getFileName().toString(), observer));
        canaryWatchesChanged.run();
        return () -> {
            canaries.remove(key);
            canaryWatchesChanged.run();
        };
    }

    /**
     * Run (on the watching thread) when a canary watch starts, before its exec can run, and when one ends: the exec
     * source is told then that the canary's exec must reach the agent ({@code source.ImageExecKeeping#refresh}).
     */
    public void onCanaryWatchesChanged(Runnable listener) {
        canaryWatchesChanged = java.util.Objects.requireNonNull(listener, "listener");
    }

    /** Whether the exec is of a canary the self-test watches now (its dev and inode). */
    public boolean isWatchedCanary(ExecEvent event) {
        return !canaries.isEmpty() && canaryOf(event) != null;
    }

    private Canary canaryOf(ExecEvent event) {
        for (Canary c : canaries.values()) {
            if (event.file().dev() == c.dev() && event.file().ino() == c.ino()) {
                return c;
            }
        }
        return null;
    }

    private void rememberCanaryExec(int pid, String fileName) {
        synchronized (canaryExecs) {
            if (canaryExecs.size() == CANARY_EXECS_REMEMBERED) {
                canaryExecs.removeFirst();
            }
            canaryExecs.addLast(new CanaryExec(pid, fileName));
        }
    }

    private boolean isCanaryAlert(io.driftagent.reporter.alert.Alert alert) {
        if (alert.process() == null || alert.drift() == null || alert.drift().path() == null) {
            return false;
        }
        synchronized (canaryExecs) {
            for (CanaryExec e : canaryExecs) {
                if (e.pid() == alert.process().pid() && alert.drift().path().endsWith("/" + e.fileName())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isSandboxCgroup(ContainerContext context) {
        return context.cgroupPath().contains("/" + OverlaySandbox.CGROUP_PARENT + "/");
    }

    public ContainerAttributor attributorOver(ContainerAttributor delegate) {
        return event -> {
            if (byId.isEmpty() && canaries.isEmpty()) {
                Optional<ContainerContext> result = delegate.attribute(event);
                return result.isPresent() && isSandboxCgroup(result.get()) ? Optional.empty() : result;
            }
            Optional<ContainerContext> sandbox = byId.isEmpty() ? Optional.empty() : attribute(event);
            Optional<ContainerContext> result = sandbox.isPresent() ? sandbox : delegate.attribute(event);
            if (sandbox.isEmpty() && result.isPresent() && isSandboxCgroup(result.get())) {
                // a host tool setting a sandbox up (unshare, chroot, sh) already moved into its cgroup when a source
                // read the cgroup late (fanotify), or a sandbox's straggler after it closed: never a workload's exec
                result = Optional.empty();
            }
            Canary canary = canaries.isEmpty() ? null : canaryOf(event);
            if (canary != null) {
                rememberCanaryExec(event.tgid(), canary.fileName());
                canary.observer().seen(event, result);
            }
            return result;
        };
    }

    public MetadataProvider metadataOver(MetadataProvider delegate) {
        return new MetadataProvider() {
            @Override
            public Optional<WorkloadMetadata> lookup(ContainerId id) {
                Registered r = byId.get(id);
                return r != null ? Optional.of(r.metadata()) : delegate.lookup(id);
            }

            @Override
            public Optional<WorkloadMetadata> lastResort(ContainerId id) {
                return delegate.lastResort(id);
            }
        };
    }

    public DriftClassifier classifierOver(DriftClassifier delegate) {
        return new DriftClassifier() {
            @Override
            public Classification classify(ExecEvent event, ContainerContext container) {
                return observed(event, container, delegate.classify(event, container));
            }

            @Override
            public Classification classify(ExecEvent event, ContainerContext container, HashBudget budget) {
                return observed(event, container, delegate.classify(event, container, budget));
            }

            @Override
            public java.util.Optional<Classification> classifyAtOnce(ExecEvent event, ContainerContext container) {
                return delegate.classifyAtOnce(event, container).map(c -> observed(event, container, c));
            }

            @Override
            public boolean observesEveryExec(ContainerContext container) {
                return byId.containsKey(container.id()) || delegate.observesEveryExec(container);
            }

            @Override
            public boolean observes(ExecEvent event) {
                return !canaries.isEmpty() && canaryOf(event) != null || delegate.observes(event);
            }

            @Override
            public boolean observesSome() {
                return !canaries.isEmpty() || delegate.observesSome();
            }
        };
    }

    private Classification observed(ExecEvent event, ContainerContext container, Classification classification) {
        Registered r = byId.get(container.id());
        if (r != null) {
            r.observer().classified(event, classification);
        }
        Canary canary = canaries.isEmpty() ? null : canaryOf(event);
        if (canary != null) {
            canary.observer().classified(event, classification);
        }
        return classification;
    }

    public AlertPublisher publisherOver(AlertPublisher delegate) {
        return alert -> {
            if (isCanaryAlert(alert)) {
                return true;
            }
            if (alert.container() != null && retiredSilent.contains(alert.container().id())) {
                return true;
            }
            if (!byId.isEmpty() && alert.container() != null) {
                for (Registered r : byId.values()) {
                    if (!r.reportAlerts() && r.context().id().value().equals(alert.container().id())) {
                        return true;
                    }
                }
            }
            return delegate.publish(alert);
        };
    }
}
