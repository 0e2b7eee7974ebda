package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.fs.PathBytes;
import io.driftagent.agent.source.ExecEvent;
import java.util.List;

/** Builds an {@link ExecEvent} from the folded opens of one execve and the process facts read from /proc. */
public final class ExecEventAssembler {

    private static final int COMM_MAX_BYTES = 15;

    private final OverlayLayers layers;

    public ExecEventAssembler(OverlayLayers layers) {
        this.layers = layers;
    }

    /**
     * @param comm the task's comm after exec when known, else null: then the kernel's rule is applied to the
     *             resolved path (basename, 15 bytes), which differs when exec went through a symlink
     */
    public ExecEvent assemble(int pid, ProcessFacts p, List<ExecCorrelator.Part> file, List<ExecCorrelator.Part> interpreter,
                       String comm, long timestampNs) {
        return assemble(pid, p, file, interpreter, null, comm, timestampNs);
    }

    /** @param interpreterFallback {dev, ino} of a script's interpreter whose own event was not reported, or null */
    public ExecEvent assemble(int pid, ProcessFacts p, List<ExecCorrelator.Part> file, List<ExecCorrelator.Part> interpreter,
                       long[] interpreterFallback, String comm, long timestampNs) {
        return assemble(pid, p, file, interpreter, interpreterFallback, comm, timestampNs, false);
    }

    /**
     * @param overlayOwnerDoubtful the file's overlay device served several overlays in the exec's time and nothing
     *                             told which was the file's ({@link ExecEvent.Flags#overlayOwnerDoubtful()})
     */
    public ExecEvent assemble(int pid, ProcessFacts p, List<ExecCorrelator.Part> file, List<ExecCorrelator.Part> interpreter,
                       long[] interpreterFallback, String comm, long timestampNs, boolean overlayOwnerDoubtful) {
        String filename = filename(file);
        boolean overlay = false;
        boolean upper = false;
        boolean memfd = false;
        boolean unlinked = false;
        boolean unlinkedWithLayer = false;
        for (ExecCorrelator.Part part : file) {
            overlay |= part.layer().overlay();
            upper |= part.layer().upperLayer();
            memfd |= part.file().memfd();
            unlinked |= part.file().nlink() == 0;
            unlinkedWithLayer |= part.layer().unlinkedWithLayer();
        }
        // an open reported twice (layer inode, overlay inode) is explained by either report
        unlinked &= !unlinkedWithLayer;
        ExecEvent.Flags flags = new ExecEvent.Flags(overlay, upper, memfd, unlinked, overlayOwnerDoubtful);
        return new ExecEvent(pid, p.tgid(), p.ppid(), p.uid(), p.gid(), p.startTimeNs(),
                comm != null ? comm : commFromPath(filename), filename, fileId(file),
                interpreter.isEmpty() && interpreterFallback != null
                        ? new ExecEvent.FileId(interpreterFallback[0], interpreterFallback[1]) : fileId(interpreter),
                p.cgroupId(), p.mountNsId(), flags, ExecEvent.SourceKind.FANOTIFY, timestampNs);
    }

    /** The layer-relative path of a real-inode report is the path inside the container; prefer it. */
    private String filename(List<ExecCorrelator.Part> parts) {
        for (ExecCorrelator.Part part : parts) {
            if (!part.file().onOverlay() && part.layer().overlay()) {
                return part.file().path();
            }
        }
        return parts.isEmpty() ? "" : layers.pathInsideOverlay(parts.get(0).file());
    }

    /** The overlay's device with the inode number (equal to the layer inode on same-filesystem layers). */
    private static ExecEvent.FileId fileId(List<ExecCorrelator.Part> parts) {
        if (parts.isEmpty()) {
            return ExecEvent.FileId.NONE;
        }
        for (ExecCorrelator.Part part : parts) {
            if (part.file().onOverlay()) {
                return new ExecEvent.FileId(part.file().dev(), part.file().ino());
            }
        }
        ExecCorrelator.Part first = parts.get(0);
        return new ExecEvent.FileId(first.layer().overlayDev(), first.file().ino());
    }

    static String commFromPath(String path) {
        String base = path.substring(path.lastIndexOf('/') + 1);
        byte[] b = PathBytes.encode(base);
        if (b.length <= COMM_MAX_BYTES) {
            return base;
        }
        return PathBytes.decode(b, 0, COMM_MAX_BYTES);
    }
}
