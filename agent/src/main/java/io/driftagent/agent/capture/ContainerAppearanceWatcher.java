package io.driftagent.agent.capture;

import io.driftagent.agent.attribution.CgroupIdentity;
import io.driftagent.agent.attribution.CgroupNamespaceView;
import io.driftagent.agent.attribution.CgroupPathParser;
import io.driftagent.agent.attribution.ContainerFilesystems;
import io.driftagent.agent.attribution.ContainerFilesystemsReader;
import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.ContainerMount;
import io.driftagent.agent.attribution.ContainerRuntime;
import io.driftagent.agent.attribution.OverlayRoot;
import io.driftagent.agent.host.CgroupMounts;
import io.driftagent.agent.host.HostMountTable;
import io.driftagent.agent.host.MountInfoEntry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Captures every containerd container when it appears, before its first process runs: containerd mounts a task's
 * rootfs overlay in the host's mount namespace ({@code <state>/io.containerd.runtime.v2.task/<namespace>/<id>/rootfs},
 * which names the container) before runc creates the container, and its bundle's {@code config.json} (annotations,
 * cgroup path) is written before that. Told by the {@link HostMountTable} watcher of each new mount, it reads the new
 * rootfs overlay's layers and the bundle, then, while the container's
 * init lives (its pid in the bundle's {@code init.pid}, written when runc created it), its cgroup (id), mount
 * namespace and mounts; all into the {@link ContainerCaptureRegistry}. An unmounted rootfs marks its container gone.
 *
 * <p>Everything read is a runtime-owned host file; bounded, never following a symlink. A container whose init exited
 * before it could be read (it lived a few milliseconds) keeps what its mount and bundle gave (counted: {@code missed}).
 */
public final class ContainerAppearanceWatcher implements AutoCloseable, HostMountTable.Listener {

    private static final Logger LOG = LoggerFactory.getLogger(ContainerAppearanceWatcher.class);
    static final Pattern CONTAINERD_ROOTFS =
            Pattern.compile(".*/io\\.containerd\\.runtime\\.v2\\.task/([^/]+)/([^/]+)/rootfs");
    private static final long MAX_CONFIG_BYTES = 1L << 20;
    private static final int MAX_ANNOTATIONS = 256;
    private static final int PENDING_POLL_MS = 5;
    private static final int IDLE_POLL_MS = 1000;
    private static final long PENDING_GIVE_UP_NANOS = 10_000_000_000L;

    private final ContainerCaptureRegistry registry;
    private final Path procRoot;
    private final Path hostRoot;
    private final ContainerFilesystemsReader reader;
    private final CgroupMounts cgroupMounts;
    private final CgroupNamespaceView cgroupView;
    private final LongSupplier nanoClock;
    private final CgroupPathParser parser = new CgroupPathParser();
    private final ObjectMapper json = JsonMapper.builder().build();
    private final Set<String> mounted = new HashSet<>();
    private final Map<String, Pending> pending = new LinkedHashMap<>();
    private final LongAdder missed = new LongAdder();
    private final LongAdder skipped = new LongAdder();
    private final HostMountTable table;
    private final boolean ownsTable;
    private final AtomicBoolean started = new AtomicBoolean();

    private record Pending(ContainerId id, Path bundle, long sinceNanos) {
    }

    /** A bundle's config.json as read when the kernel told of its rootfs mount: annotations and cgroups path. */
    private record EarlyBundle(Map<String, String> annotations, String cgroupsPath) {
    }

    private static final int MAX_EARLY_BUNDLES = 1024;
    /** rootfs mount key -> its bundle as read at the mount's notice (before the table showed it, if it ever does) */
    private final Map<String, EarlyBundle> earlyBundles = new java.util.concurrent.ConcurrentHashMap<>();
    private final LongAdder transients = new LongAdder();

    /**
     * @param procRoot     the host's {@code /proc} (hostPID)
     * @param hostRoot     the host's {@code /} as the agent sees it (layer and bundle paths are resolved under it)
     * @param cgroupMounts the host's cgroup mounts (the unified hierarchy gives the cgroup id)
     * @param cgroupView   how the agent reads other processes' cgroup paths
     * @param table        the watcher of the host's mount table this listens to
     * @param ownsTable    whether {@link #close()} closes {@code table} too (else its creator does)
     */
    public ContainerAppearanceWatcher(ContainerCaptureRegistry registry, Path procRoot, Path hostRoot,
                                      ContainerFilesystemsReader reader, CgroupMounts cgroupMounts,
                                      CgroupNamespaceView cgroupView, LongSupplier nanoClock, HostMountTable table,
                                      boolean ownsTable) {
        this.table = table;
        this.ownsTable = ownsTable;
        this.registry = registry;
        this.procRoot = procRoot;
        this.hostRoot = hostRoot;
        this.reader = reader;
        this.cgroupMounts = cgroupMounts;
        this.cgroupView = cgroupView;
        this.nanoClock = nanoClock;
    }

    /** For the host the agent runs on, with its own watcher of the host's mount table. */
    public static ContainerAppearanceWatcher onThisHost(ContainerCaptureRegistry registry, Path procRoot, Path hostRoot)
            throws IOException {
        return onThisHost(registry, procRoot, hostRoot, HostMountTable.onThisHost(procRoot), true);
    }

    /** For the host the agent runs on, listening to {@code table} (which its creator starts and closes). */
    public static ContainerAppearanceWatcher onThisHost(ContainerCaptureRegistry registry, Path procRoot, Path hostRoot,
                                                        HostMountTable table) throws IOException {
        return onThisHost(registry, procRoot, hostRoot, table, false);
    }

    private static ContainerAppearanceWatcher onThisHost(ContainerCaptureRegistry registry, Path procRoot,
                                                         Path hostRoot, HostMountTable table, boolean owns)
            throws IOException {
        CgroupMounts mounts = CgroupMounts.ofThisProcess(procRoot);
        return new ContainerAppearanceWatcher(registry, procRoot, hostRoot,
                new ContainerFilesystemsReader(procRoot, hostRoot), mounts,
                CgroupNamespaceView.discover(mounts, ProcessHandle.current().pid()), System::nanoTime, table, owns);
    }

    /**
     * Listens to the host's mount table (starting its watcher if no one did): when this returns, the table is open
     * for change notification and the containers running now are read, so no container start goes unnoticed.
     */
    public void start() {
        if (started.getAndSet(true)) {
            return;
        }
        LOG.info("capturing containers at their start from {}", table.source());
        table.addListener(this);
        table.start();
    }

    @Override
    public void close() {
        table.removeListener(this);
        if (ownsTable) {
            table.close();
        }
    }

    /** Containers whose init exited before its cgroup, namespace and mounts could be read. */
    public long missed() {
        return missed.sum();
    }

    /** Rootfs mounts not captured: an id that is not a container id, an overlay without usable layers. */
    public long skipped() {
        return skipped.sum();
    }

    /** Mount table reads (by the shared watcher of the host's mount table). */
    public long rescans() {
        return table.reads();
    }

    @Override
    public int wakeWithinMs() {
        synchronized (this) {
            return pending.isEmpty() ? IDLE_POLL_MS : PENDING_POLL_MS;
        }
    }

    @Override
    public void woke() {
        completePending();
        registry.expire();
    }

    /**
     * On the mount notice reader's thread, as a rootfs is mounted: its bundle's config.json is read now, while it is
     * there (a container that lives shorter than a read of the mount table has its bundle deleted by then).
     */
    @Override
    public void attached(MountInfoEntry entry) {
        String key = keyOf(entry);
        if (key == null) {
            return;
        }
        Map<String, String> annotations = new HashMap<>();
        String cgroupsPath = readBundleConfig(onHost(entry.mountPoint()).getParent(), annotations);
        if (earlyBundles.size() >= MAX_EARLY_BUNDLES) {
            earlyBundles.clear(); // each is taken at once by the next change; leftovers are of mounts never shown
        }
        earlyBundles.put(key, new EarlyBundle(Map.copyOf(annotations), cgroupsPath));
    }

    /** Containers that came and went between two reads of the mount table, captured from the kernel's notices. */
    public long transients() {
        return transients.sum();
    }

    /** Diffs the host's rootfs mounts with those known: new ones appear, vanished ones are gone. */
    @Override
    public synchronized void changed(HostMountTable.Change change) {
        long now = nanoClock.getAsLong();
        Set<String> stillMounted = new HashSet<>();
        for (MountInfoEntry entry : change.current()) {
            String key = keyOf(entry);
            if (key != null) {
                stillMounted.add(key);
            }
        }
        for (MountInfoEntry entry : change.removed()) {
            String key = keyOf(entry);
            // a mount whose line changed (its propagation peer group, say, once the container's namespace copied it)
            // is removed and added in one change: it is still mounted, its container not gone
            if (key != null && !stillMounted.contains(key) && mounted.remove(key)) {
                pending.remove(key);
                registry.gone(key, change.noticedAt(entry, now));
            }
        }
        for (MountInfoEntry entry : change.added()) {
            String key = keyOf(entry);
            if (key != null && mounted.add(key)) {
                appeared(key, entry, change.noticedAt(entry, now));
            }
        }
        // mounted and unmounted since the last read: known by its mount line and the bundle read at its notice
        for (HostMountTable.Transient t : change.transients()) {
            String key = keyOf(t.entry());
            if (key != null && !mounted.contains(key)) {
                appeared(key, t.entry(), t.attachedNanos());
                pending.remove(key);
                registry.gone(key, t.detachedNanos());
                transients.increment();
                LOG.debug("container rootfs {} was mounted and unmounted between two reads of the mount table:"
                        + " captured from the kernel's notices", t.entry().mountPoint());
            }
        }
    }

    /** The key of a containerd rootfs overlay, null for any other mount. */
    private static String keyOf(MountInfoEntry entry) {
        return entry.fsType().equals("overlay") && CONTAINERD_ROOTFS.matcher(entry.mountPoint()).matches()
                ? entry.mountId() + ":" + entry.mountPoint() : null;
    }

    private void appeared(String key, MountInfoEntry entry, long atNanos) {
        Matcher m = CONTAINERD_ROOTFS.matcher(entry.mountPoint());
        if (!m.matches()) {
            return;
        }
        ContainerId id;
        try {
            id = new ContainerId(m.group(2));
        } catch (IllegalArgumentException notAnId) {
            skipped.increment();
            return;
        }
        Optional<OverlayRoot> root = reader.overlayRootOf(entry);
        if (root.isEmpty()) {
            skipped.increment();
            return;
        }
        Path bundle = onHost(entry.mountPoint()).getParent();
        Map<String, String> annotations = new HashMap<>();
        EarlyBundle early = earlyBundles.remove(key);
        String cgroupsPath = readBundleConfig(bundle, annotations);
        if (early != null && cgroupsPath == null && annotations.isEmpty()) {
            // deleted since its mount's notice (the container is gone already): as it was read then
            annotations.putAll(early.annotations());
            cgroupsPath = early.cgroupsPath();
        }
        registry.appeared(key, identityFromBundle(id, m.group(1), cgroupsPath, annotations), root.get(), annotations,
                atNanos);
        pending.put(key, new Pending(id, bundle, nanoClock.getAsLong()));
        LOG.debug("container {} appeared: rootfs {} lower {} upper {}", id, entry.mountPoint(),
                root.get().lowerDirs(), root.get().upperDir());
    }

    /** Reads, through each pending container's init, its cgroup (id), mount namespace and mounts. */
    synchronized void completePending() {
        for (Iterator<Map.Entry<String, Pending>> it = pending.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Pending> next = it.next();
            Pending p = next.getValue();
            Optional<Integer> pid = readPid(p.bundle().resolve("init.pid"));
            if (pid.isEmpty()) {
                if (nanoClock.getAsLong() - p.sinceNanos() > PENDING_GIVE_UP_NANOS) {
                    it.remove();
                    missed.increment();
                }
                continue;
            }
            it.remove();
            if (!complete(next.getKey(), p.id(), pid.get())) {
                missed.increment();
                LOG.debug("container {}: its init {} exited before it could be read; kept: its rootfs layers",
                        p.id(), pid.get());
            }
        }
    }

    private boolean complete(String key, ContainerId id, int pid) {
        Optional<String> cgroupText = readSmall(procRoot.resolve(pid + "/cgroup"));
        if (cgroupText.isEmpty()) {
            return false;
        }
        boolean unified = cgroupMounts.unified().isPresent();
        Optional<CgroupIdentity> identity = parser.parseProcCgroup(cgroupView.translateProcCgroup(cgroupText.get()),
                unified).filter(i -> i.id().equals(id));
        long mountNs = mountNamespaceOf(pid);
        Optional<ContainerFilesystems> fs = reader.read(pid);
        if (identity.isEmpty() || fs.isEmpty() || mountNs == 0) {
            return false;
        }
        long cgroupId = 0;
        if (unified && identity.get().cgroupPath().length() > 1) {
            try {
                Object ino = Files.getAttribute(cgroupMounts.unified().get().resolve(
                        identity.get().cgroupPath().substring(1)), "unix:ino", LinkOption.NOFOLLOW_LINKS);
                cgroupId = ((Number) ino).longValue();
            } catch (IOException | RuntimeException gone) {
                return false;
            }
        }
        List<ContainerMount> mounts = fs.get().mounts();
        registry.completed(key, identity.get(), cgroupId, mountNs, mounts);
        return true;
    }

    /**
     * Who a container is before its process runs: from its bundle's cgroup path where that names it (CRI, plain
     * {@code ctr run}), else by its rootfs path alone, with the pod uid of its CRI annotations.
     */
    private CgroupIdentity identityFromBundle(ContainerId id, String namespace, String cgroupsPath,
                                              Map<String, String> annotations) {
        if (cgroupsPath != null) {
            Optional<CgroupIdentity> parsed = parser.parse(cgroupsPath).filter(i -> i.id().equals(id));
            if (parsed.isPresent()) {
                return parsed.get();
            }
        }
        String path = cgroupsPath != null && cgroupsPath.startsWith("/") ? cgroupsPath : "/" + namespace + "/" + id;
        return new CgroupIdentity(id, ContainerRuntime.CONTAINERD, annotations.get("io.kubernetes.cri.sandbox-uid"),
                path);
    }

    /** Fills {@code annotations} from the bundle's config.json; returns its {@code linux.cgroupsPath} (or null). */
    private String readBundleConfig(Path bundle, Map<String, String> annotations) {
        Path config = bundle.resolve("config.json");
        try {
            Optional<byte[]> bytes = readRegular(config, MAX_CONFIG_BYTES);
            if (bytes.isEmpty()) {
                return null;
            }
            JsonNode spec = json.readTree(bytes.get());
            JsonNode node = spec.path("annotations");
            if (node.isObject()) {
                for (Map.Entry<String, JsonNode> annotation : node.properties()) {
                    if (annotation.getValue().isString() && annotations.size() < MAX_ANNOTATIONS) {
                        annotations.put(annotation.getKey(), annotation.getValue().stringValue());
                    }
                }
            }
            JsonNode cgroups = spec.path("linux").path("cgroupsPath");
            return cgroups.isString() ? cgroups.stringValue() : null;
        } catch (IOException | JacksonException e) {
            LOG.debug("cannot read bundle config {}: {}", config, e.toString());
            return null;
        }
    }

    private Path onHost(String absolute) {
        return hostRoot.resolve(absolute.substring(1)).normalize();
    }

    private long mountNamespaceOf(int pid) {
        try {
            String link = Files.readSymbolicLink(procRoot.resolve(pid + "/ns/mnt")).toString();
            return Long.parseLong(link.substring(link.indexOf('[') + 1, link.length() - 1));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static Optional<Integer> readPid(Path file) {
        try {
            Optional<byte[]> bytes = readRegular(file, 32);
            if (bytes.isEmpty()) {
                return Optional.empty();
            }
            int pid = Integer.parseInt(new String(bytes.get(), StandardCharsets.US_ASCII).trim());
            return pid > 0 ? Optional.of(pid) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> readSmall(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return Optional.of(new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8));
        } catch (IOException gone) {
            return Optional.empty();
        }
    }

    /** A regular file's bytes (never a symlink, FIFO or device), empty when absent; larger than max is an error. */
    private static Optional<byte[]> readRegular(Path file, long maxBytes) throws IOException {
        try {
            if (!Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS).isRegularFile()) {
                throw new IOException("not a regular file: " + file);
            }
            try (var channel = Files.newByteChannel(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
                 InputStream in = Channels.newInputStream(channel)) {
                byte[] content = in.readNBytes((int) maxBytes + 1);
                if (content.length > maxBytes) {
                    throw new IOException("larger than " + maxBytes + " bytes: " + file);
                }
                return Optional.of(content);
            }
        } catch (NoSuchFileException absent) {
            return Optional.empty();
        }
    }
}
