package io.driftagent.agent.policywatch;

import io.driftagent.agent.fs.RegularFiles;
import io.driftagent.policy.load.LoadLimits;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the policy when its file changes. Two detectors, because neither is enough alone: a watch on the file's
 * directory (a Kubernetes ConfigMap mount swaps a {@code ..data} symlink, which is reported on the directory, never
 * on the file) and a poll every {@code pollInterval} of the file's fingerprint (target, inode, mtime, size), for
 * file systems and mounts where no watch event arrives. Bursts of events are debounced. A reload happens only when
 * the content (sha256) differs from the last one tried, so {@code touch} or a failed file is not reloaded again and
 * again; a rejected file leaves the previous policy active ({@link PolicyReloader}) and is counted.
 *
 * <p>The file is read once per check, never blocking on what stands at the path ({@link RegularFiles}: a FIFO,
 * directory or device is refused without being opened for reading), and the bytes read are both hashed and handed
 * to the reloader, so what is loaded is what was hashed. A file that is not regular or cannot be read is a failed
 * reload like a rejected one: logged, counted, and the watch goes on.
 */
public final class PolicyFileWatcher implements AutoCloseable {

    static final String RELOADS = "drift.policy.reloads";
    private static final Logger LOG = LoggerFactory.getLogger(PolicyFileWatcher.class);
    /** One byte more than the loader accepts is read, so that it reports the file as too large. */
    private static final int MAX_POLICY_BYTES = LoadLimits.DEFAULT.maxBytes();

    private final Path policyFile;
    private final PolicyReloader reloader;
    private final RegularFiles files;
    private final long pollNanos;
    private final long debounceNanos;
    private final boolean watchDirectory;
    private final Counter succeeded;
    private final Counter failed;
    private volatile boolean loaded;
    private volatile String lastFailure;
    private volatile boolean running;
    private WatchService watchService;
    private Thread thread;
    private FileFingerprint lastSeen;
    private byte[] lastTriedDigest;
    private FileFingerprint lastUnreadable;

    public PolicyFileWatcher(Path policyFile, PolicyReloader reloader, Duration pollInterval, Duration debounce,
                             MeterRegistry registry) {
        this(policyFile, reloader, pollInterval, debounce, registry, true);
    }

    /** @param watchDirectory false to rely on polling only (tests prove the poll alone catches every change) */
    PolicyFileWatcher(Path policyFile, PolicyReloader reloader, Duration pollInterval, Duration debounce,
                      MeterRegistry registry, boolean watchDirectory) {
        this.policyFile = policyFile.toAbsolutePath();
        this.reloader = Objects.requireNonNull(reloader, "reloader");
        this.files = RegularFiles.create();
        this.pollNanos = pollInterval.toNanos();
        this.debounceNanos = debounce.toNanos();
        this.watchDirectory = watchDirectory;
        if (pollNanos <= 0 || debounceNanos < 0) {
            throw new IllegalArgumentException("poll interval must be positive and debounce not negative");
        }
        this.succeeded = Counter.builder(RELOADS).tag("result", "success")
                .description("Policy file loads, including the first").register(registry);
        this.failed = Counter.builder(RELOADS).tag("result", "failure")
                .description("Policy file loads, including the first").register(registry);
        Gauge.builder("drift.policy.loaded", this, w -> w.loaded ? 1 : 0)
                .description("1 when a policy file was loaded successfully").register(registry);
    }

    /** 2 s polling, 250 ms debounce. */
    public static PolicyFileWatcher withDefaults(Path policyFile, PolicyReloader reloader, MeterRegistry registry) {
        return new PolicyFileWatcher(policyFile, reloader, Duration.ofSeconds(2), Duration.ofMillis(250), registry);
    }

    /**
     * Loads the policy once, synchronously, then starts watching. The directory must exist.
     *
     * @return whether the first load succeeded (if not, the next change is tried again)
     */
    public synchronized boolean start() throws IOException {
        if (running) {
            throw new IllegalStateException("already started");
        }
        Path directory = policyFile.getParent();
        if (watchDirectory) {
            watchService = directory.getFileSystem().newWatchService();
            directory.register(watchService, StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
        }
        check(true);
        running = true;
        thread = new Thread(this::loop, "drift-policy-watch");
        thread.setDaemon(true);
        thread.start();
        return loaded && lastFailure == null;
    }

    /** Whether some version of the policy file was loaded successfully (it may not be the newest). */
    public boolean policyLoaded() {
        return loaded;
    }

    /** Why the newest version of the file was rejected; null when it is the active one. */
    public String lastFailure() {
        return lastFailure;
    }

    public Path policyFile() {
        return policyFile;
    }

    @Override
    public synchronized void close() {
        running = false;
        if (watchService != null) {
            try {
                watchService.close();
            } catch (IOException e) {
                LOG.debug("closing the policy watch failed", e);
            }
        }
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void loop() {
        try {
            while (running) {
                boolean changed = watchDirectory ? awaitEvent(pollNanos) : sleep(pollNanos);
                if (changed) {
                    debounce();
                }
                check(changed);
            }
        } catch (InterruptedException | ClosedWatchServiceException stopped) {
            LOG.debug("policy watch stopped");
        }
    }

    private static boolean sleep(long nanos) throws InterruptedException {
        TimeUnit.NANOSECONDS.sleep(nanos);
        return false;
    }

    /**
     * Waits for a directory event that may concern the policy, at most {@code nanos}; true if one came. Events for
     * other files of the directory (a log or an alerts file next to the policy) are not worth a re-read: the poll's
     * fingerprint check still covers them.
     */
    private boolean awaitEvent(long nanos) throws InterruptedException {
        WatchKey key = watchService.poll(nanos, TimeUnit.NANOSECONDS);
        if (key == null) {
            return false;
        }
        boolean relevant = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            relevant |= concernsPolicy(event);
        }
        key.reset();
        return relevant;
    }

    /** The policy file itself, a ConfigMap's {@code ..data} swap ({@code ..}-prefixed entries), or a lost event. */
    private boolean concernsPolicy(WatchEvent<?> event) {
        if (event.kind() == StandardWatchEventKinds.OVERFLOW || !(event.context() instanceof Path name)) {
            return true;
        }
        return name.equals(policyFile.getFileName()) || name.toString().startsWith("..");
    }

    /** Waits until the directory has been quiet for the debounce interval (at most ten intervals). */
    private void debounce() throws InterruptedException {
        long limit = System.nanoTime() + 10 * debounceNanos;
        while (debounceNanos > 0 && System.nanoTime() < limit && awaitEvent(debounceNanos)) {
            LOG.debug("policy directory still changing");
        }
    }

    /**
     * Reloads when the file's content changed.
     *
     * @param evenIfStatUnchanged a watch event arrived: a same-size rewrite within one mtime tick must not be missed
     */
    private void check(boolean evenIfStatUnchanged) {
        FileFingerprint now = null;
        byte[] content;
        try {
            now = FileFingerprint.of(policyFile);
            if (now.equals(lastSeen) && !evenIfStatUnchanged) {
                return;
            }
            lastSeen = now;
            content = files.read(policyFile, MAX_POLICY_BYTES);
        } catch (NoSuchFileException gone) {
            LOG.debug("policy file {} is absent for now", policyFile);
            return;
        } catch (FileSystemException e) {
            // not a regular file (FIFO, directory, device), a symlink loop, a read error: the message names the file
            unreadable(now, e.getMessage());
            return;
        } catch (IOException e) {
            unreadable(now, "cannot read " + policyFile + ": " + e);
            return;
        }
        lastUnreadable = null;
        byte[] digest = digest(content);
        if (Arrays.equals(digest, lastTriedDigest)) {
            return;
        }
        lastTriedDigest = digest;
        reload(content);
    }

    /** A failed reload, counted once per version of the file (a later readable version is loaded even if unchanged). */
    private void unreadable(FileFingerprint version, String why) {
        if (version != null && version.equals(lastUnreadable)) {
            return;
        }
        lastUnreadable = version;
        lastTriedDigest = null;
        failed(why);
    }

    private void reload(byte[] content) {
        String failure;
        try {
            failure = reloader.reload(policyFile, content) ? null : "rejected by the policy loader";
        } catch (Exception e) {
            failure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        if (failure == null) {
            loaded = true;
            lastFailure = null;
            succeeded.increment();
            LOG.info("policy {} loaded", policyFile);
        } else {
            failed(failure);
        }
    }

    private void failed(String failure) {
        lastFailure = failure;
        failed.increment();
        LOG.warn("policy {} not loaded, the previous one stays active: {}", policyFile, failure);
    }

    private static byte[] digest(byte[] content) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JRE has SHA-256", e);
        }
    }
}
