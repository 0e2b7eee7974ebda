package io.driftagent.agent.enforce;

import io.driftagent.agent.host.Errno;
import io.driftagent.agent.source.fanotify.ExecutedFile;
import io.driftagent.agent.source.fanotify.FanotifyGroup;
import io.driftagent.agent.source.fanotify.Native;
import io.driftagent.agent.source.fanotify.OverlayLayers;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Remembers {@link PermissionDecision#ALLOW_UNTIL_MODIFIED} answers in the kernel, so that an image binary that runs
 * again costs no permission round trip: an evictable ignore mark on the file's inode stops this group's permission
 * events for it until the kernel clears the mark at the inode's next modification.
 *
 * <p>Only a file that is exactly the image's is remembered: an overlay file with no entry in the upper layer
 * <em>after</em> the mark is in place. Changing a lower-layer file's content needs a copy-up first, which leaves an
 * upper entry, so nothing written before the mark can hide behind it, and every later write(2) or truncate clears
 * it. Not covered: content changed through a writable shared mmap of an already copied-up file raises no modify
 * event; the notification source still sees such an exec and classifies it (MODIFIED), and {@link #forgetAll()}
 * drops every remembered file.
 */
final class RememberedAllowances {

    private static final Logger log = LoggerFactory.getLogger(RememberedAllowances.class);

    /** What became of one allowance. */
    enum Outcome {
        REMEMBERED,
        /** not an overlay file untouched in the upper layer: asked again next time */
        NOT_IMAGE_FILE,
        /** the file got an upper entry while it was being marked: the mark was taken back */
        TOUCHED_WHILE_MARKING,
        /** the kernel refused the mark (before 5.19: no evictable marks) */
        MARK_REFUSED
    }

    private final FanotifyGroup group;
    private final OverlayLayers layers;
    private final LongAdder remembered = new LongAdder();
    private final Map<Outcome, LongAdder> notRemembered = new ConcurrentHashMap<>();
    private volatile boolean markingRefused;

    RememberedAllowances(FanotifyGroup group, OverlayLayers layers) {
        this.group = group;
        this.layers = layers;
    }

    /** Call with the event fd still open and unanswered (its number must still be this event's). */
    Outcome remember(int eventFd, ExecutedFile file) {
        Outcome outcome = tryRemember(eventFd, file);
        if (outcome == Outcome.REMEMBERED) {
            remembered.increment();
        } else {
            notRemembered.computeIfAbsent(outcome, o -> new LongAdder()).increment();
        }
        return outcome;
    }

    private Outcome tryRemember(int eventFd, ExecutedFile file) {
        if (markingRefused) {
            return Outcome.MARK_REFUSED;
        }
        if (layers.touchedInUpperLayer(file)) {
            return Outcome.NOT_IMAGE_FILE;
        }
        int err = group.ignoreExecPermissionOf(eventFd);
        if (err != 0) {
            if (err == Errno.EINVAL) {
                markingRefused = true;
                log.info("this kernel refuses evictable ignore marks (needs 5.19): every guarded exec is decided, none remembered");
            } else {
                log.debug("ignore mark on {} refused: {}", file.path(), Native.strerror(err));
            }
            return Outcome.MARK_REFUSED;
        }
        if (layers.touchedInUpperLayer(file)) {
            int undo = group.stopIgnoringExecPermissionOf(eventFd);
            if (undo != 0) {
                // the mark must not outlive this: drop every remembered file rather than keep a stale one
                log.warn("taking back the ignore mark on {} failed ({}); forgetting every remembered file",
                        file.path(), Native.strerror(undo));
                forgetAll();
            }
            return Outcome.TOUCHED_WHILE_MARKING;
        }
        return Outcome.REMEMBERED;
    }

    /** Drops every remembered file: each is asked about again at its next exec. */
    void forgetAll() {
        int err = group.flushInodeMarks();
        if (err != 0) {
            log.error("flushing the remembered allowances failed: {}", Native.strerror(err));
        }
    }

    long remembered() {
        return remembered.sum();
    }

    Map<String, Long> notRemembered() {
        Map<String, Long> out = new java.util.TreeMap<>();
        notRemembered.forEach((k, v) -> out.put(k.name().toLowerCase(java.util.Locale.ROOT), v.sum()));
        return out;
    }
}
