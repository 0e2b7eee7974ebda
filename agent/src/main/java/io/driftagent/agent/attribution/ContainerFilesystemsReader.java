package io.driftagent.agent.attribution;

import io.driftagent.agent.host.MountInfoEntry;
import io.driftagent.agent.host.MountInfoParser;
import io.driftagent.agent.host.OverlayOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a container's filesystems from the mountinfo of one of its processes. Layer paths are runtime-owned host
 * paths: relative (compacted) lower dirs and Docker overlay2's {@code l/<short>} links are resolved on the host,
 * under {@code hostRoot} (the host's {@code /} as the agent sees it), never inside a container.
 */
public final class ContainerFilesystemsReader {

    private static final Logger LOG = LoggerFactory.getLogger(ContainerFilesystemsReader.class);
    private static final Pattern DOCKER_SHORT_LINK_TARGET = Pattern.compile("\\.\\./([A-Za-z0-9_-]{1,128})/diff");
    private static final long MAX_MOUNTINFO_BYTES = 4L << 20;

    private final Path procRoot;
    private final Path hostRoot;
    private final MountInfoParser parser = new MountInfoParser();

    /**
     * @param procRoot the host's {@code /proc}
     * @param hostRoot the host's {@code /} as the agent sees it ({@code /} on the host, e.g. {@code /host} in a pod)
     */
    public ContainerFilesystemsReader(Path procRoot, Path hostRoot) {
        this.procRoot = procRoot;
        this.hostRoot = hostRoot;
    }

    /** The filesystems of the mount namespace of process {@code pid}; empty when the process is gone. */
    public Optional<ContainerFilesystems> read(int pid) {
        Path mountInfo = procRoot.resolve(Integer.toString(pid)).resolve("mountinfo");
        try {
            byte[] bytes = readBounded(mountInfo);
            return Optional.of(fromMountInfo(new String(bytes, StandardCharsets.UTF_8)));
        } catch (IOException gone) {
            LOG.debug("cannot read {}: {}", mountInfo, gone.toString());
            return Optional.empty();
        }
    }

    /**
     * The root overlay of a container none of whose processes is left to read its mounts through: the overlay whose
     * device is {@code overlayDev} (the kernel's device of an executed file) as the host's mount table still shows it
     * (containerd and Docker mount a container's rootfs in the host's mount namespace until the container is deleted).
     * Only the root is known that way, not the container's other mounts. Empty when no such overlay is mounted.
     */
    public Optional<ContainerFilesystems> readHostOverlay(long overlayDev) {
        return hostRootfs(overlayDev).map(HostRootfs::filesystems);
    }

    /**
     * A container's rootfs overlay as the host mounts it: where (the runtime's own path, e.g. containerd's
     * {@code /run/containerd/io.containerd.runtime.v2.task/<namespace>/<id>/rootfs}) and its layers.
     */
    public record HostRootfs(String mountPoint, ContainerFilesystems filesystems) {
    }

    /** {@link #readHostOverlay}, with the overlay's mount point on the host. */
    public Optional<HostRootfs> hostRootfs(long overlayDev) {
        for (String table : new String[] {"1/mountinfo", "self/mountinfo"}) {
            Path mountInfo = procRoot.resolve(table);
            try {
                String text = new String(readBounded(mountInfo), StandardCharsets.UTF_8);
                for (MountInfoEntry entry : parser.parse(text)) {
                    if (entry.dev() == overlayDev && entry.fsType().equals("overlay") && !entry.mountPoint().equals("/")) {
                        Optional<OverlayRoot> root = overlayRoot(entry);
                        if (root.isPresent()) {
                            return Optional.of(new HostRootfs(entry.mountPoint(), new ContainerFilesystems(root, List.of())));
                        }
                    }
                }
            } catch (IOException e) {
                LOG.debug("cannot read {}: {}", mountInfo, e.toString());
            }
        }
        return Optional.empty();
    }

    /** The layers of an overlay mount as host paths (under the host root); empty when it has no usable upper/lower dir. */
    public Optional<OverlayRoot> overlayRootOf(MountInfoEntry overlayMount) {
        return overlayMount.fsType().equals("overlay") ? overlayRoot(overlayMount) : Optional.empty();
    }

    /** The filesystems described by a mountinfo text (read from inside the container's mount namespace). */
    public ContainerFilesystems fromMountInfo(String mountInfoText) {
        List<MountInfoEntry> entries = parser.parse(mountInfoText);
        MountInfoEntry rootEntry = null;
        for (MountInfoEntry entry : entries) {
            if (entry.mountPoint().equals("/")) {
                rootEntry = entry; // the last mount on "/" is the visible one
            }
        }
        List<ContainerMount> others = new ArrayList<>();
        for (MountInfoEntry entry : entries) {
            if (entry != rootEntry) {
                others.add(ContainerMount.of(entry));
            }
        }
        Optional<OverlayRoot> root = Optional.empty();
        if (rootEntry != null && rootEntry.fsType().equals("overlay")) {
            root = overlayRoot(rootEntry);
        }
        return new ContainerFilesystems(root, others);
    }

    private Optional<OverlayRoot> overlayRoot(MountInfoEntry entry) {
        OverlayOptions options = OverlayOptions.fromSuperOptions(entry.superOptions());
        if (options.upperDir() == null || options.lowerDirs().isEmpty() || !options.upperDir().startsWith("/")) {
            LOG.debug("overlay root without a usable upper/lower dir: {}", options);
            return Optional.empty();
        }
        Path upper = onHost(options.upperDir());
        Path work = options.workDir() == null ? upper.resolveSibling("work") : onHost(options.workDir());
        List<Path> lowers = new ArrayList<>(options.lowerDirs().size());
        for (String lower : options.lowerDirs()) {
            lowers.add(resolveShortLink(lower.startsWith("/") ? onHost(lower) : relativeLower(lower, upper)));
        }
        return Optional.of(new OverlayRoot(ContainerMount.of(entry), lowers, upper, work));
    }

    /**
     * A lower dir the runtime wrote relative to the directory it mounted from (containerd's compacted
     * {@code 12/fs}, Docker's {@code l/ABC}): that directory is an ancestor of the upper dir
     * ({@code snapshots/<n>/fs}, {@code overlay2/<id>/diff}).
     */
    private static Path relativeLower(String relative, Path upper) {
        Path fallback = null;
        for (Path base = upper.getParent(); base != null; base = base.getParent()) {
            Path candidate = base.resolve(relative).normalize();
            if (fallback == null && base.equals(upper.getParent().getParent())) {
                fallback = candidate;
            }
            if (candidate.startsWith(base) && Files.exists(candidate, LinkOption.NOFOLLOW_LINKS)) {
                return candidate;
            }
        }
        return fallback != null ? fallback : upper.getParent().resolve(relative).normalize();
    }

    /** Docker overlay2: {@code <root>/l/<short>} is a symlink to {@code ../<layer>/diff}. */
    private static Path resolveShortLink(Path lower) {
        Path linkDir = lower.getParent();
        if (linkDir == null || linkDir.getFileName() == null || !linkDir.getFileName().toString().equals("l")
                || !Files.isSymbolicLink(lower)) {
            return lower;
        }
        try {
            Matcher m = DOCKER_SHORT_LINK_TARGET.matcher(Files.readSymbolicLink(lower).toString());
            if (m.matches()) {
                return linkDir.getParent().resolve(m.group(1)).resolve("diff");
            }
        } catch (IOException e) {
            LOG.debug("cannot read Docker layer link {}: {}", lower, e.toString());
        }
        return lower;
    }

    private Path onHost(String absolute) {
        return hostRoot.resolve(absolute.substring(1)).normalize();
    }

    private static byte[] readBounded(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes((int) MAX_MOUNTINFO_BYTES);
            return bytes;
        }
    }
}
