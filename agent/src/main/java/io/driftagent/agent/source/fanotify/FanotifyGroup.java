package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.host.DeviceNumber;
import io.driftagent.agent.host.Errno;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One fanotify group (its fd), an eventfd to wake its reader, and the marks it holds. Marks are reference
 * counted per superblock (filesystem marks) or per mount (mount marks), because two watched paths on the
 * same filesystem share one kernel mark: unwatching one must not blind the other. A device number and a mount id
 * name a superblock and a mount only while mounted (the kernel hands both out again at once): a watched path that no
 * longer names what it was marked through stands for nothing, so a new mount is marked in the kernel unless a watched
 * path still names that very mount.
 */
public final class FanotifyGroup implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FanotifyGroup.class);

    private final Native nat;
    private final LinuxLibC libc;
    private final long mask;
    private final int fanotifyFd;
    private final int wakeFd;
    private final ByteBuffer pollFds = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
    private final ByteBuffer statxBuf = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());
    private final Map<Path, MarkRef> marks = new HashMap<>();
    private boolean closed;

    /** What a path was marked through: the kind of mark, and the device and mount id the path named then. */
    private record MarkRef(MarkKind kind, long dev, long mountId) {
        /** Whether the kernel holds one mark for both: the same superblock, or the same mount. */
        boolean sharesKernelMark(MarkRef other) {
            return kind == other.kind && dev == other.dev && (kind == MarkKind.FILESYSTEM || mountId == other.mountId);
        }
    }

    public FanotifyGroup(Native nat, int initFlags, long mask) throws IOException {
        this.nat = nat;
        this.libc = nat.libc;
        this.mask = mask;
        int flags = initFlags | Native.FAN_CLOEXEC | Native.FAN_NONBLOCK;
        int fd = libc.fanotify_init(flags, Native.O_RDONLY | Native.O_LARGEFILE | Native.O_CLOEXEC);
        if (fd < 0) {
            throw new IOException("fanotify_init failed: " + Native.strerror(nat.errno())
                    + " (needs CAP_SYS_ADMIN and a kernel with fanotify)");
        }
        int efd = libc.eventfd(0, Native.EFD_CLOEXEC | Native.EFD_NONBLOCK);
        if (efd < 0) {
            int err = nat.errno();
            libc.close(fd);
            throw new IOException("eventfd failed: " + Native.strerror(err));
        }
        this.fanotifyFd = fd;
        this.wakeFd = efd;
    }

    int fd() {
        return fanotifyFd;
    }

    /** Marks the filesystem holding {@code path}, or its mount where a filesystem mark is refused. */
    public synchronized MarkKind mark(Path path) throws IOException {
        return mark(path, true);
    }

    /**
     * @param filesystemAllowed false: never a filesystem mark, only the mount {@code path} is on (used by the
     *                          guard so that a path on the host root filesystem can never put the whole host root
     *                          under permission events)
     */
    public synchronized MarkKind mark(Path path, boolean filesystemAllowed) throws IOException {
        Objects.requireNonNull(path, "path");
        ensureOpen();
        String p = path.toString();
        long[] devAndMount = devAndMountId(p);
        long dev = devAndMount[0];
        long mountId = devAndMount[1];
        MarkRef existing = marks.get(path);
        if (existing != null) {
            if (existing.dev() == dev && existing.mountId() == mountId) {
                return existing.kind();
            }
            // the path names another mount now (a /proc/<pid>/root whose pid went to another container's process)
            marks.remove(path);
        }
        if (!filesystemAllowed) {
            return markMount(p, path, dev, mountId, 0);
        }
        MarkRef fsRef = new MarkRef(MarkKind.FILESYSTEM, dev, mountId);
        if (watchedLive(fsRef)) {
            marks.put(path, fsRef);
            return MarkKind.FILESYSTEM;
        }
        // a watched path with this device but another mount, or one no longer mounted, may have been another
        // superblock given the same (reused) device number: the kernel is asked, adding to a mark it already has
        if (libc.fanotify_mark(fanotifyFd, Native.FAN_MARK_ADD | Native.FAN_MARK_FILESYSTEM, mask, Native.AT_FDCWD, p) == 0) {
            marks.put(path, fsRef);
            log.debug("fanotify filesystem mark on {} (dev {}, mount {})", p, dev, mountId);
            return MarkKind.FILESYSTEM;
        }
        int fsErr = nat.errno();
        return markMount(p, path, dev, mountId, fsErr);
    }

    private MarkKind markMount(String p, Path path, long dev, long mountId, int fsErr) throws IOException {
        MarkRef mountRef = new MarkRef(MarkKind.MOUNT, dev, mountId);
        if (watchedLive(mountRef)) {
            marks.put(path, mountRef);
            return MarkKind.MOUNT;
        }
        if (libc.fanotify_mark(fanotifyFd, Native.FAN_MARK_ADD | Native.FAN_MARK_MOUNT, mask, Native.AT_FDCWD, p) == 0) {
            marks.put(path, mountRef);
            if (fsErr != 0) {
                log.info("fanotify filesystem mark on {} refused ({}), marked its mount instead", p, Native.strerror(fsErr));
            }
            return MarkKind.MOUNT;
        }
        int mountErr = nat.errno();
        throw new IOException("cannot mark " + p + ": filesystem mark " + (fsErr == 0 ? "not tried" : Native.strerror(fsErr))
                + ", mount mark " + Native.strerror(mountErr));
    }

    /** Whether a watched path still names the very mount {@code ref} was marked through (same kind, device, mount id). */
    private boolean watchedLive(MarkRef ref) {
        for (Map.Entry<Path, MarkRef> e : marks.entrySet()) {
            if (e.getValue().equals(ref) && stillNames(e.getKey(), ref)) {
                return true;
            }
        }
        return false;
    }

    /** Drops the mark for {@code path}; the kernel mark goes when no other watched path shares it. */
    public synchronized boolean unmark(Path path) {
        MarkRef ref = marks.remove(path);
        if (ref == null || closed) {
            return false;
        }
        for (Map.Entry<Path, MarkRef> e : marks.entrySet()) {
            // a filesystem mark is the superblock's, whichever mount it was made through; a path that no longer names
            // what it was marked through holds nothing (its device may be another superblock's by now)
            if (e.getValue().sharesKernelMark(ref) && stillNames(e.getKey(), e.getValue())) {
                return true;
            }
        }
        if (!stillNames(path, ref)) {
            // unmounted: the path now names what was under the mount point (the host root, say), whose mark must
            // stay; the kernel dropped this mark with its superblock / mount
            return true;
        }
        int kindFlag = ref.kind() == MarkKind.FILESYSTEM ? Native.FAN_MARK_FILESYSTEM : Native.FAN_MARK_MOUNT;
        if (libc.fanotify_mark(fanotifyFd, Native.FAN_MARK_REMOVE | kindFlag, mask, Native.AT_FDCWD, path.toString()) != 0) {
            // The path is gone (a dead process's /proc/<pid>/root): the kernel drops the mark with the
            // superblock/mount; otherwise it goes when the group is closed.
            log.debug("removing fanotify mark on {} failed: {}", path, Native.strerror(nat.errno()));
        }
        return true;
    }

    private boolean stillNames(Path path, MarkRef ref) {
        try {
            long[] devAndMount = devAndMountId(path.toString());
            return ref.dev() == devAndMount[0] && ref.mountId() == devAndMount[1];
        } catch (IOException e) {
            return false;
        }
    }

    public synchronized Map<Path, MarkKind> marks() {
        Map<Path, MarkKind> copy = new HashMap<>();
        marks.forEach((p, r) -> copy.put(p, r.kind()));
        return copy;
    }

    /** [dev, mount id] of {@code p}, following symlinks (a /proc/<pid>/root magic link included). */
    public synchronized long[] devAndMountId(String p) throws IOException {
        statxBuf.clear();
        if (libc.statx(Native.AT_FDCWD, p, 0, Native.STATX_BASIC_STATS | Native.STATX_MNT_ID, statxBuf) != 0) {
            throw new IOException("cannot stat " + p + ": " + Native.strerror(nat.errno()));
        }
        long dev = DeviceNumber.makedev(Integer.toUnsignedLong(statxBuf.getInt(136)), Integer.toUnsignedLong(statxBuf.getInt(140)));
        return new long[] {dev, statxBuf.getLong(144)};
    }

    /**
     * Waits up to {@code timeoutMs} for events, then reads what is there into {@code buf} (position 0, limit =
     * bytes read). Returns false when woken by {@link #wakeup()} or on timeout with nothing to read.
     */
    public boolean awaitAndRead(ByteBuffer buf, int timeoutMs) throws IOException {
        return awaitAndRead(buf, pollFds, timeoutMs, true);
    }

    /**
     * As {@link #awaitAndRead(ByteBuffer, int)} for several reader threads: each brings its own 16-byte poll buffer,
     * and with {@code consumeWake} false a {@link #wakeup()} stays signalled, so it wakes every reader.
     */
    public boolean awaitAndRead(ByteBuffer buf, ByteBuffer fds, int timeoutMs, boolean consumeWake) throws IOException {
        fds.putInt(0, fanotifyFd).putShort(4, Native.POLLIN).putShort(6, (short) 0);
        fds.putInt(8, wakeFd).putShort(12, Native.POLLIN).putShort(14, (short) 0);
        int n = libc.poll(fds, 2, timeoutMs);
        if (n < 0) {
            int err = nat.errno();
            if (err == Errno.EINTR) {
                return false;
            }
            throw new IOException("poll on fanotify fd failed: " + Native.strerror(err));
        }
        if (consumeWake && (fds.getShort(14) & Native.POLLIN) != 0) {
            ByteBuffer drain = ByteBuffer.allocateDirect(8);
            libc.read(wakeFd, drain, 8);
        }
        if ((fds.getShort(6) & Native.POLLIN) == 0) {
            buf.limit(0);
            return false;
        }
        return readAvailable(buf);
    }

    /** Non-blocking read of queued events; false when none. */
    public boolean readAvailable(ByteBuffer buf) throws IOException {
        buf.clear();
        long got = libc.read(fanotifyFd, buf, buf.capacity());
        if (got < 0) {
            int err = nat.errno();
            if (err == Errno.EAGAIN || err == Errno.EINTR) {
                buf.limit(0);
                return false;
            }
            throw new IOException("read on fanotify fd failed: " + Native.strerror(err));
        }
        buf.limit((int) got);
        return got > 0;
    }

    /** Answers one permission event. Returns false if the kernel refused the answer. */
    public boolean respond(ByteBuffer scratch8, int eventFd, boolean allow) {
        scratch8.clear();
        scratch8.putInt(0, eventFd).putInt(4, allow ? Native.FAN_ALLOW : Native.FAN_DENY);
        long written = libc.write(fanotifyFd, scratch8, 8);
        if (written != 8) {
            log.warn("fanotify response for event fd {} failed: {}", eventFd, Native.strerror(nat.errno()));
            return false;
        }
        return true;
    }

    /**
     * Adds {@code FAN_OPEN_EXEC_PERM} to the ignore mask of the inode that {@code fd} refers to: this group gets no
     * permission event for that inode until the kernel clears the mask at the inode's next modification (no
     * FAN_MARK_IGNORED_SURV_MODIFY). Evictable: the mark never pins the inode in memory, it goes with it.
     *
     * @return 0, or the errno (EINVAL on kernels before 5.19, which lack evictable marks)
     */
    public int ignoreExecPermissionOf(int fd) {
        int flags = Native.FAN_MARK_ADD | Native.FAN_MARK_IGNORED_MASK | Native.FAN_MARK_EVICTABLE;
        return libc.fanotify_mark(fanotifyFd, flags, Native.FAN_OPEN_EXEC_PERM, fd, null) == 0 ? 0 : nat.errno();
    }

    /** Undoes {@link #ignoreExecPermissionOf(int)}; returns 0 or the errno. */
    public int stopIgnoringExecPermissionOf(int fd) {
        int flags = Native.FAN_MARK_REMOVE | Native.FAN_MARK_IGNORED_MASK;
        return libc.fanotify_mark(fanotifyFd, flags, Native.FAN_OPEN_EXEC_PERM, fd, null) == 0 ? 0 : nat.errno();
    }

    /** Removes every inode mark of this group (the ignore marks); filesystem and mount marks stay. */
    public int flushInodeMarks() {
        return libc.fanotify_mark(fanotifyFd, Native.FAN_MARK_FLUSH, 0, Native.AT_FDCWD, null) == 0 ? 0 : nat.errno();
    }

    public void wakeup() {
        ByteBuffer one = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
        one.putLong(0, 1L);
        libc.write(wakeFd, one, 8);
    }

    public void closeEventFd(int fd) {
        if (fd >= 0) {
            libc.close(fd);
        }
    }

    /** Removes every mark, then closes the group and the wake fd. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        for (Path p : new java.util.ArrayList<>(marks.keySet())) {
            unmark(p);
        }
        closed = true;
        libc.close(fanotifyFd);
        libc.close(wakeFd);
    }

    /** Stops new events by removing every mark, keeping the fd open so queued events can still be read. */
    public synchronized void removeAllMarks() {
        for (Path p : new java.util.ArrayList<>(marks.keySet())) {
            unmark(p);
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("fanotify group is closed");
        }
    }
}
