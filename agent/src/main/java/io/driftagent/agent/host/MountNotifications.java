package io.driftagent.agent.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel's own notice of every mount and unmount of one mount namespace (fanotify {@code FAN_MNT_ATTACH} /
 * {@code FAN_MNT_DETACH} on a {@code FAN_MARK_MNTNS} mark, with {@code FAN_REPORT_MNT}; Linux 6.15), each mount
 * described at once by {@code statmount(2)} (Linux 6.8) on a thread that does nothing else. A mount table read after
 * every change (poll(2) on {@code mountinfo}) misses a mount that comes and goes between two reads, which under load
 * (a node executing thousands of processes a second) is a container that lived a few hundred milliseconds. Queued
 * notifications are never merged away: an attach read after its mount was detached again can no longer be described
 * ({@code statmount} fails), but is counted ({@link #gone()}).
 *
 * <p>Each described mount is handed to {@code onAttach} on this thread (a listener's chance to read what goes with the
 * mount while it exists: a runtime's bundle, a layer directory's creation time) and queued with its attach and
 * detach times for the mount table's watcher ({@link #drain()}). Where the kernel lacks the calls (older than 6.15),
 * or the agent lacks CAP_SYS_ADMIN, {@link #open} says why once and returns empty: the table reads alone then.
 *
 * <p>The namespace need not be the agent's own: in the chart's pod (a mount namespace of its own, hostPID) it is the
 * node's. {@code statmount} of the agent's own namespace names mount points from the agent's root; asked for another
 * namespace by its id ({@code mnt_ns_id} of a version-1 {@code struct mnt_id_req}, the id from ioctl
 * {@code NS_GET_MNTNS_ID}), the kernel names them from that namespace's root: the paths the node's {@code mountinfo}
 * shows.
 */
public final class MountNotifications implements AutoCloseable {

    /** What the calls need beyond {@link HostLibC}. */
    public interface LibC extends HostLibC {
        @SaveError
        int fanotify_init(int flags, int eventFileFlags);

        @SaveError
        int fanotify_mark(int fanotifyFd, int flags, long mask, int dirFd, String pathname);

        @SaveError
        @ssize_t long read(int fd, ByteBuffer buf, @size_t long count);

        @SaveError
        int statx(int dirFd, String pathname, int flags, int mask, ByteBuffer statxBuf);

        /** {@code syscall(SYS_statmount / SYS_listmount, req, buf, bufsize or count, flags)}. */
        @SaveError
        long syscall(long number, ByteBuffer req, ByteBuffer buf, long size, int flags);

        /** {@code ioctl(fd, request, arg)} with a buffer argument ({@code NS_GET_MNTNS_ID}: a {@code __u64}). */
        @SaveError
        int ioctl(int fd, long request, ByteBuffer arg);
    }

    /** One notice, in the kernel's order. */
    public sealed interface Note permits Attached, Detached {
        /** The mount's 64-bit id, never reused while the system runs. */
        long uniqueId();

        /** CLOCK_MONOTONIC when the notice was read: just after the mount changed. */
        long readNanos();
    }

    /**
     * A mount was attached.
     *
     * @param entry the mount as statmount described it when the notice was read; empty when it was detached before
     */
    public record Attached(long uniqueId, Optional<MountInfoEntry> entry, long readNanos) implements Note {
        public Attached {
            Objects.requireNonNull(entry, "entry");
        }
    }

    /** A mount was detached. */
    public record Detached(long uniqueId, long readNanos) implements Note {
    }

    static final int FAN_CLOEXEC = 0x1;
    static final int FAN_REPORT_MNT = 0x4000;
    static final int FAN_MARK_ADD = 0x1;
    static final int FAN_MARK_MNTNS = 0x110;
    static final long FAN_MNT_ATTACH = 0x01000000L;
    static final long FAN_MNT_DETACH = 0x02000000L;
    static final long FAN_Q_OVERFLOW = 0x4000L;
    static final int FAN_EVENT_INFO_TYPE_MNT = 7;
    static final int METADATA_LEN = 24;
    static final long SYS_STATMOUNT = 457; // x86_64 and the generic table (aarch64)
    static final long SYS_LISTMOUNT = 458;
    /** {@code _IOR(0xb7, 0x5, __u64)}: the 64-bit id of the mount namespace an nsfs fd refers to (Linux 6.11). */
    static final long NS_GET_MNTNS_ID = 0x8008b705L;
    /** {@code struct mnt_id_req} without, and with, {@code mnt_ns_id} (the namespace asked about). */
    static final int MNT_ID_REQ_SIZE_VER0 = 24;
    static final int MNT_ID_REQ_SIZE_VER1 = 32;
    /** listmount's {@code mnt_id} for "the mounts from the namespace's root". */
    static final long LSMT_ROOT = -1L;
    static final long STATMOUNT_MASK = 0x1 /* SB_BASIC */ | 0x2 /* MNT_BASIC */ | 0x8 /* MNT_ROOT */
            | 0x10 /* MNT_POINT */ | 0x20 /* FS_TYPE */ | 0x80 /* MNT_OPTS */ | 0x200 /* SB_SOURCE */;
    private static final int AT_FDCWD = -100;
    private static final int STATX_MNT_ID_UNIQUE = 0x4000;
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final short POLLIN = 0x1;
    private static final int POLL_MS = 500;
    private static final int STATMOUNT_BUF = 64 * 1024;
    private static final int MAX_QUEUED = 65_536;
    private static final int EINTR = 4;

    private static final Logger LOG = LoggerFactory.getLogger(MountNotifications.class);

    private final LibC libc;
    private final jnr.ffi.Runtime runtime;
    private final int fd;
    private final Path namespace;
    /** The watched namespace's id when it is not the agent's own (statmount is asked about it); 0: the agent's own. */
    private final long foreignNamespaceId;
    private final LongSupplier nanoClock;
    private final ConcurrentLinkedQueue<Note> queue = new ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger queued = new java.util.concurrent.atomic.AtomicInteger();
    private final LongAdder described = new LongAdder();
    private final LongAdder gone = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final ByteBuffer events = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.nativeOrder());
    private final ByteBuffer request = ByteBuffer.allocateDirect(MNT_ID_REQ_SIZE_VER1).order(ByteOrder.nativeOrder());
    private final ByteBuffer statmount = ByteBuffer.allocateDirect(STATMOUNT_BUF).order(ByteOrder.nativeOrder());
    private final ByteBuffer pollFds = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
    private Thread thread;
    private volatile boolean running;

    private MountNotifications(LibC libc, int fd, Path namespace, long foreignNamespaceId, LongSupplier nanoClock) {
        this.libc = libc;
        this.runtime = jnr.ffi.Runtime.getRuntime(libc);
        this.fd = fd;
        this.namespace = namespace;
        this.foreignNamespaceId = foreignNamespaceId;
        this.nanoClock = nanoClock;
    }

    /**
     * Notices of the mount namespace {@code namespace} ({@code /proc/<pid>/ns/mnt}: the agent's own, {@code
     * ownNamespace}, or another, e.g. the node's seen from the chart's pod); empty, with the reason logged at INFO,
     * where they cannot be had.
     */
    public static Optional<MountNotifications> open(Path namespace, Path ownNamespace, LongSupplier nanoClock) {
        Objects.requireNonNull(nanoClock, "nanoClock");
        boolean own;
        try {
            own = sameFile(namespace, ownNamespace);
        } catch (IOException | RuntimeException e) {
            LOG.info("mount notifications not used: cannot compare {} with {}: {}", namespace, ownNamespace,
                    e.toString());
            return Optional.empty();
        }
        LibC libc;
        try {
            libc = LibraryLoader.create(LibC.class).failImmediately().load("c");
        } catch (RuntimeException | LinkageError e) {
            LOG.info("mount notifications not used: cannot bind libc: {}", e.toString());
            return Optional.empty();
        }
        jnr.ffi.Runtime runtime = jnr.ffi.Runtime.getRuntime(libc);
        int fd = libc.fanotify_init(FAN_CLOEXEC | FAN_REPORT_MNT, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            LOG.info("mount notifications not used: fanotify_init(FAN_REPORT_MNT) failed, errno {} (the kernel has"
                    + " them since 6.15 and needs CAP_SYS_ADMIN); a container that lives shorter than a read of the"
                    + " mount table is not seen at its start", runtime.getLastError());
            return Optional.empty();
        }
        int ns = libc.open(namespace.toString(), O_RDONLY | O_CLOEXEC);
        if (ns < 0 || libc.fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_MNTNS, FAN_MNT_ATTACH | FAN_MNT_DETACH, ns,
                null) != 0) {
            int errno = runtime.getLastError();
            LOG.info("mount notifications not used: cannot watch the mount namespace {}: errno {}", namespace, errno);
            if (ns >= 0) {
                libc.close(ns);
            }
            libc.close(fd);
            return Optional.empty();
        }
        long foreignId = 0L;
        if (!own) {
            foreignId = namespaceId(libc, ns);
            if (foreignId == 0L) {
                LOG.info("mount notifications not used: the id of the mount namespace {} (not the agent's own) cannot"
                        + " be read, errno {} (ioctl NS_GET_MNTNS_ID, Linux 6.11): statmount could only name mount"
                        + " points from the agent's root; new mounts are found by reading the mount table", namespace,
                        runtime.getLastError());
                libc.close(ns);
                libc.close(fd);
                return Optional.empty();
            }
        }
        libc.close(ns); // the mark holds the namespace
        MountNotifications notifications = new MountNotifications(libc, fd, namespace, foreignId, nanoClock);
        if (!notifications.statmountWorks()) {
            libc.close(fd);
            return Optional.empty();
        }
        return Optional.of(notifications);
    }

    /** The 64-bit id of the mount namespace {@code nsFd} refers to; 0 when the kernel does not tell it. */
    private static long namespaceId(LibC libc, int nsFd) {
        ByteBuffer id = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
        if (libc.ioctl(nsFd, NS_GET_MNTNS_ID, id) != 0) {
            return 0L;
        }
        return id.getLong(0);
    }

    private static boolean sameFile(Path a, Path b) throws IOException {
        Object ka = java.nio.file.Files.readAttributes(a, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        Object kb = java.nio.file.Files.readAttributes(b, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        return ka != null && ka.equals(kb);
    }

    /**
     * Whether statmount(2) describes a mount of the namespace: the agent's own "/" (found by statx
     * STATX_MNT_ID_UNIQUE), or the first mount listmount(2) gives from another namespace's root.
     */
    private boolean statmountWorks() {
        long rootId = foreignNamespaceId == 0L ? rootMountId() : firstMountOfNamespace();
        if (rootId == 0L) {
            LOG.info(foreignNamespaceId == 0L
                    ? "mount notifications not used: statx(STATX_MNT_ID_UNIQUE) of / is not supported (Linux 6.8)"
                    : "mount notifications not used: listmount(2) of the mount namespace " + namespace
                            + " fails, errno " + runtime.getLastError() + " (Linux 6.11)");
            return false;
        }
        Optional<MountInfoEntry> root = describe(rootId);
        if (root.isEmpty()) {
            LOG.info("mount notifications not used: statmount(2) of the mount namespace {} fails, errno {} (Linux 6.8;"
                    + " another namespace than the agent's: 6.11)", namespace, runtime.getLastError());
            return false;
        }
        LOG.debug("mount notices of {}: statmount describes {}", namespace, root.get());
        return true;
    }

    /** The first mount listmount(2) gives from the root of the watched (foreign) namespace; 0 when it fails. */
    private long firstMountOfNamespace() {
        ByteBuffer req = ByteBuffer.allocateDirect(MNT_ID_REQ_SIZE_VER1).order(ByteOrder.nativeOrder());
        req.putInt(0, MNT_ID_REQ_SIZE_VER1).putInt(4, 0).putLong(8, LSMT_ROOT).putLong(16, 0L)
                .putLong(24, foreignNamespaceId);
        ByteBuffer ids = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
        long n = libc.syscall(SYS_LISTMOUNT, req, ids, 1, 0);
        return n == 1 ? ids.getLong(0) : 0L;
    }

    /** statx {@code STATX_MNT_ID_UNIQUE} of "/", 0 when the kernel does not give it. */
    private long rootMountId() {
        ByteBuffer statx = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());
        if (libc.statx(AT_FDCWD, "/", 0, STATX_MNT_ID_UNIQUE, statx) != 0
                || (statx.getInt(0) & STATX_MNT_ID_UNIQUE) == 0) {
            return 0L;
        }
        return statx.getLong(144);
    }

    /** Starts the thread that reads the notices; {@code onAttach} is told of each described mount on that thread. */
    public synchronized void start(Consumer<MountInfoEntry> onAttach) {
        if (thread != null) {
            return;
        }
        Objects.requireNonNull(onAttach, "onAttach");
        running = true;
        Thread t = new Thread(() -> run(onAttach), "drift-mount-notify");
        t.setDaemon(true);
        thread = t;
        t.start();
        LOG.info("mount notifications: every mount and unmount of the host's namespace ({}{}) is read as it happens"
                + " (fanotify FAN_MNT_ATTACH/FAN_MNT_DETACH, statmount)", namespace,
                foreignNamespaceId == 0L ? ", the agent's own"
                        : ", not the agent's own: mount points named from its root, namespace id " + foreignNamespaceId);
    }

    /** Every notice read since the last call, in order. */
    public List<Note> drain() {
        List<Note> out = new ArrayList<>();
        Note note;
        while ((note = queue.poll()) != null) {
            queued.decrementAndGet();
            out.add(note);
        }
        return out;
    }

    /** Mounts described at their attach. */
    public long described() {
        return described.sum();
    }

    /** Attached mounts detached again before their notice was read: nothing is known of them but that they were. */
    public long gone() {
        return gone.sum();
    }

    /** Notices not kept: the kernel's queue overflowed, or the watcher fell more than 65,536 notices behind. */
    public long dropped() {
        return dropped.sum();
    }

    private void run(Consumer<MountInfoEntry> onAttach) {
        try {
            while (running) {
                pollFds.putInt(0, fd).putShort(4, POLLIN).putShort(6, (short) 0);
                int n = libc.poll(pollFds, 1, POLL_MS);
                if (!running) {
                    break;
                }
                if (n < 0) {
                    if (runtime.getLastError() != EINTR) {
                        Thread.sleep(100);
                    }
                    continue;
                }
                if (n == 0) {
                    continue;
                }
                events.clear();
                long got = libc.read(fd, events, events.capacity());
                if (got <= 0) {
                    continue;
                }
                handle((int) got, onAttach);
            }
        } catch (InterruptedException stopping) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            LOG.error("the mount notification reader stopped: short-lived mounts are found by table reads only", e);
        }
    }

    private void handle(int limit, Consumer<MountInfoEntry> onAttach) {
        int off = 0;
        while (off + METADATA_LEN <= limit) {
            int eventLen = events.getInt(off);
            int metadataLen = events.getShort(off + 6) & 0xffff;
            long mask = events.getLong(off + 8);
            if (eventLen < METADATA_LEN || off + eventLen > limit) {
                LOG.warn("malformed mount notification (len {} at {} of {})", eventLen, off, limit);
                dropped.increment();
                return;
            }
            long now = nanoClock.getAsLong();
            if ((mask & FAN_Q_OVERFLOW) != 0) {
                dropped.increment();
                LOG.warn("the kernel's queue of mount notifications overflowed: mounts of that moment are found by"
                        + " reading the mount table only");
            } else {
                long mountId = mountIdOf(off + metadataLen, off + eventLen);
                if (mountId != 0L && (mask & FAN_MNT_ATTACH) != 0) {
                    Optional<MountInfoEntry> entry = describe(mountId);
                    if (entry.isPresent()) {
                        described.increment();
                        try {
                            onAttach.accept(entry.get());
                        } catch (RuntimeException e) {
                            LOG.warn("a listener of new mounts failed: {}", e.toString(), e);
                        }
                    } else {
                        gone.increment();
                        LOG.debug("mount {} was detached before its attach notice was read", mountId);
                    }
                    enqueue(new Attached(mountId, entry, now));
                }
                if (mountId != 0L && (mask & FAN_MNT_DETACH) != 0) {
                    enqueue(new Detached(mountId, now));
                }
            }
            off += eventLen;
        }
    }

    private void enqueue(Note note) {
        if (queued.incrementAndGet() > MAX_QUEUED) {
            queued.decrementAndGet();
            dropped.increment();
            return;
        }
        queue.add(note);
    }

    /** The mount id of the info record between {@code from} and {@code to}, 0 when there is none. */
    private long mountIdOf(int from, int to) {
        int at = from;
        while (at + 4 <= to) {
            int type = events.get(at) & 0xff;
            int len = events.getShort(at + 2) & 0xffff;
            if (len < 4 || at + len > to) {
                return 0L;
            }
            if (type == FAN_EVENT_INFO_TYPE_MNT && len >= 16) {
                return events.getLong(at + 8);
            }
            at += len;
        }
        return 0L;
    }

    /** statmount of one mount, as the line mountinfo would show (no propagation tags); empty when it cannot be read. */
    Optional<MountInfoEntry> describe(long mountId) {
        request.clear();
        request.putInt(0, foreignNamespaceId == 0L ? MNT_ID_REQ_SIZE_VER0 : MNT_ID_REQ_SIZE_VER1).putInt(4, 0)
                .putLong(8, mountId).putLong(16, STATMOUNT_MASK).putLong(24, foreignNamespaceId);
        statmount.clear();
        long rc = libc.syscall(SYS_STATMOUNT, request, statmount, STATMOUNT_BUF, 0);
        if (rc != 0) {
            return Optional.empty();
        }
        long mask = statmount.getLong(8);
        if ((mask & 0x3) != 0x3 || (mask & 0x10) == 0 || (mask & 0x20) == 0) {
            return Optional.empty();
        }
        long dev = DeviceNumber.makedev(Integer.toUnsignedLong(statmount.getInt(16)),
                Integer.toUnsignedLong(statmount.getInt(20)));
        int oldId = statmount.getInt(56);
        int oldParent = statmount.getInt(60);
        String fsType = string(statmount.getInt(36));
        String root = (mask & 0x8) != 0 ? string(statmount.getInt(104)) : "/";
        String mountPoint = string(statmount.getInt(108));
        String source = (mask & 0x200) != 0 ? string(statmount.getInt(124)) : "none";
        List<String> options = new ArrayList<>();
        if ((mask & 0x80) != 0) {
            String opts = string(statmount.getInt(4));
            if (!opts.isEmpty()) {
                for (String option : opts.split(",")) {
                    options.add(MountInfoParser.unescape(option));
                }
            }
        }
        return Optional.of(new MountInfoEntry(oldId, oldParent, dev, root, mountPoint, List.of(), fsType, source,
                options));
    }

    /** The NUL-terminated string at {@code offset} of statmount's string area (which starts at byte 512). */
    private String string(int offset) {
        int start = 512 + offset;
        int end = start;
        while (end < STATMOUNT_BUF && statmount.get(end) != 0) {
            end++;
        }
        byte[] bytes = new byte[end - start];
        statmount.get(start, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = thread;
        }
        if (t != null) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        libc.close(fd);
    }
}
