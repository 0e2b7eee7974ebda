package io.driftagent.agent.source;

import java.util.Objects;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Execs of a container's own image files that the exec source may keep from the agent: the pipeline says which
 * overlay is each container's root as it learns them ({@code pipeline.KnownImageExecs}) and when it must see every
 * exec; a source that can keep such execs in the kernel (the eBPF source, {@link Kernel}) does so until their process
 * forks, and sends them then. Without a kernel attached (the fanotify source, a kernel without the fork program, before
 * the source starts) every exec is delivered and this does nothing.
 *
 * <p>Thread-safe: the pipeline's threads, the sandbox's and the source's reader call it.
 */
public final class ImageExecKeeping {
    private static final Logger LOG = LoggerFactory.getLogger(ImageExecKeeping.class);

    /** The kernel side: the program's maps and counters. */
    public interface Kernel {
        /** Tells the program the cgroup's container root overlay (its device); false if the map was not written. */
        boolean rootOverlay(long cgroupId, long device);

        /** Turns keeping on or off; false if the program could not be told. */
        boolean keep(boolean on);

        /** Image execs kept and never sent (their process did not fork), since the program loaded. */
        long kept();
    }

    private volatile Kernel kernel;
    private volatile BooleanSupplier everyExecWanted = () -> true;
    private boolean keeping;
    private long keptBeforeDetach;

    /** Called by the source once its program runs: keeping starts if the pipeline allows it. */
    public void attach(Kernel attached) {
        synchronized (this) {
            kernel = Objects.requireNonNull(attached, "kernel");
            keeping = false;
        }
        refresh();
    }

    /** Called by the source when it stops: its last count is kept. */
    public synchronized void detach() {
        if (kernel != null) {
            keptBeforeDetach += kernel.kept();
        }
        kernel = null;
        keeping = false;
    }

    /** The pipeline learned that the cgroup's container root is the overlay with this device. */
    public void rootOverlay(long cgroupId, long device) {
        Kernel k = kernel;
        if (k != null && !k.rootOverlay(cgroupId, device)) {
            LOG.debug("could not tell the exec program the root overlay of cgroup {}", cgroupId);
        }
    }

    /** How the pipeline says it must see every exec now (blocking may decide on any, a self-test canary runs). */
    public void everyExecWantedWhen(BooleanSupplier wanted) {
        everyExecWanted = Objects.requireNonNull(wanted, "wanted");
        refresh();
    }

    /**
     * Brings the program in line with what the pipeline wants now; cheap when nothing changed. Called on the reader's
     * every wakeup, and at once by whoever changed what the pipeline wants (a canary's watch, before its exec).
     */
    public synchronized void refresh() {
        Kernel k = kernel;
        if (k == null) {
            return;
        }
        boolean on = !everyExecWanted.getAsBoolean();
        if (on == keeping) {
            return;
        }
        if (k.keep(on)) {
            keeping = on;
            LOG.debug("image execs of known container roots {} in the kernel", on ? "kept" : "no longer kept");
        } else {
            LOG.warn("could not tell the exec program to {} keeping image execs; {}", on ? "start" : "stop",
                    on ? "every exec is still sent" : "some image execs may not reach the pipeline");
        }
    }

    /** Whether the program keeps image execs now. */
    public synchronized boolean keeping() {
        return keeping;
    }

    /** Image execs kept in the kernel and never delivered, since start. */
    public synchronized long kept() {
        Kernel k = kernel;
        return keptBeforeDetach + (k == null ? 0 : k.kept());
    }
}
