package io.driftagent.agent.attribution;

import io.driftagent.agent.host.CgroupMounts;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps a cgroup v2 id (what {@code bpf_get_current_cgroup_id()} returns: the inode number of the cgroup's directory
 * on the unified hierarchy) to the cgroup's path. Answers from a map built by walking the hierarchy; a miss triggers
 * a rescan at most once per {@code minRescanInterval}, and each rescan rebuilds the map, so cgroups that went away
 * are forgotten. Thread-safe.
 */
public final class CgroupIdResolver {

    private static final Logger LOG = LoggerFactory.getLogger(CgroupIdResolver.class);

    private final Path unifiedRoot;
    private final Clock clock;
    private final Duration minRescanInterval;
    private final int maxDirectories;
    private volatile Map<Long, String> pathsById = Map.of();
    private long lastScanMillis = Long.MIN_VALUE / 2;
    private final AtomicLong scans = new AtomicLong();

    /**
     * @param unifiedRoot       mount point of the unified hierarchy (see {@link CgroupMounts#unified()})
     * @param minRescanInterval least time between two rescans triggered by misses
     * @param maxDirectories    a rescan stops after this many directories (bounds the work on huge hosts)
     */
    public CgroupIdResolver(Path unifiedRoot, Clock clock, Duration minRescanInterval, int maxDirectories) {
        this.unifiedRoot = unifiedRoot;
        this.clock = clock;
        this.minRescanInterval = minRescanInterval;
        this.maxDirectories = maxDirectories;
    }

    /** The cgroup path ("/kubepods/...") of this id; empty when unknown even after an allowed rescan. */
    public Optional<String> pathOf(long cgroupId) {
        String path = pathsById.get(cgroupId);
        if (path != null) {
            return Optional.of(path);
        }
        synchronized (this) {
            path = pathsById.get(cgroupId);
            if (path == null && clock.millis() - lastScanMillis >= minRescanInterval.toMillis()) {
                rescan();
                path = pathsById.get(cgroupId);
            }
        }
        return Optional.ofNullable(path);
    }

    /**
     * The path of the cgroup whose last component names container {@code containerId} ({@code <id>},
     * {@code cri-containerd-<id>.scope}, {@code docker-<id>.scope}); rescans (rate-limited) when none is known.
     */
    public Optional<String> pathOfContainer(String containerId) {
        Optional<String> found = findContainer(containerId);
        if (found.isPresent()) {
            return found;
        }
        synchronized (this) {
            if (clock.millis() - lastScanMillis >= minRescanInterval.toMillis()) {
                rescan();
            }
        }
        return findContainer(containerId);
    }

    private Optional<String> findContainer(String containerId) {
        for (String path : pathsById.values()) {
            String last = path.substring(path.lastIndexOf('/') + 1);
            if (last.equals(containerId) || last.endsWith("-" + containerId + ".scope")) {
                return Optional.of(path);
            }
        }
        return Optional.empty();
    }

    /** Whether the cgroup at this path still exists. */
    public boolean exists(String cgroupPath) {
        return Files.isDirectory(unifiedRoot.resolve(cgroupPath.substring(cgroupPath.startsWith("/") ? 1 : 0)),
                LinkOption.NOFOLLOW_LINKS);
    }

    /** Drops a cgroup id whose cgroup is known to be gone. */
    public synchronized void forget(long cgroupId) {
        if (pathsById.containsKey(cgroupId)) {
            Map<Long, String> copy = new HashMap<>(pathsById);
            copy.remove(cgroupId);
            pathsById = Map.copyOf(copy);
        }
    }

    /** How many times the hierarchy was walked. */
    public long scans() {
        return scans.get();
    }

    private void rescan() {
        lastScanMillis = clock.millis();
        scans.incrementAndGet();
        Map<Long, String> fresh = new HashMap<>(Math.max(16, pathsById.size() * 2));
        try {
            Files.walkFileTree(unifiedRoot, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    if (fresh.size() >= maxDirectories) {
                        return FileVisitResult.TERMINATE;
                    }
                    try {
                        long ino = ((Number) Files.getAttribute(dir, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue();
                        String relative = unifiedRoot.relativize(dir).toString();
                        fresh.put(ino, "/" + relative);
                    } catch (IOException vanished) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE; // a cgroup removed during the walk
                }
            });
        } catch (IOException e) {
            LOG.debug("cgroup rescan of {} failed: {}", unifiedRoot, e.toString());
        }
        pathsById = Map.copyOf(fresh);
        LOG.debug("cgroup rescan: {} cgroups", fresh.size());
    }
}
