package io.driftagent.agent.pipeline;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ContainerFilesystems;
import io.driftagent.agent.classification.DriftClassifier;
import io.driftagent.agent.classification.OverlayDriftClassifier;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ImageExecKeeping;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lets most of an exec storm skip the pipeline: an exec the kernel flags as a file of an image's read-only layer, in
 * a cgroup whose container root overlay (its device) classification already placed such an exec on, is the image's
 * own file; the pipeline would attribute it, classify it IMAGE and stop. Decided on the source's thread, with one map
 * lookup, instead of a queue hand-off to the attribute thread and two stages.
 *
 * <p>Learned from the pipeline's own IMAGE classifications of kernel-flagged execs whose file was on the container's
 * root overlay as its mounts say (never guessed), so a file on another overlay mounted into the container (a
 * different device) still goes through, and so does every exec of a
 * container whose classifier must see them all ({@code DriftClassifier#observesEveryExec}: the agent's own sandbox
 * containers, the demo's and the self-test's) or that it watches ({@code DriftClassifier#observes}: a self-test
 * canary, which may well be an image file of the agent's own container). Skipped entirely while
 * blocking wants every exec ({@link Enforcement#seesEveryExec}), because an exec is also where blocking decides a
 * container's guard. Bounded: beyond {@value #MAX_CGROUPS} cgroups it starts over (each container's next exec
 * teaches it again).
 */
final class KnownImageExecs {

    static final int MAX_CGROUPS = 4096;

    private final ConcurrentHashMap<Long, Long> rootDeviceByCgroup = new ConcurrentHashMap<>();
    private final Enforcement enforcement;
    private final DriftClassifier classifier;
    private volatile ImageExecKeeping kernel;

    KnownImageExecs(Enforcement enforcement, DriftClassifier classifier) {
        this.enforcement = enforcement;
        this.classifier = classifier;
    }

    /**
     * The same rule in the kernel: each root learned here is told to {@code keeping}, which keeps such execs in the
     * exec source until their process forks, except while blocking or a watched canary wants every exec.
     */
    void keepIn(ImageExecKeeping keeping) {
        kernel = keeping;
        keeping.everyExecWantedWhen(() -> enforcement.seesEveryExec() || classifier.observesSome());
    }

    /** On the source's thread: true when the exec is an image file of its container's root, known without asking. */
    boolean isImageExec(ExecEvent event) {
        if (event.cgroupId() == 0 || !OverlayDriftClassifier.imageLayerByKernelFlags(event.flags())) {
            return false;
        }
        Long device = rootDeviceByCgroup.get(event.cgroupId());
        return device != null && device == event.file().dev() && !enforcement.seesEveryExec()
                && !classifier.observes(event);
    }

    /**
     * On the attribute thread: the exec, kernel-flagged as an image-layer file, was classified IMAGE in
     * {@code container}. Learned only when its file was on the container's root overlay as read from its mounts:
     * an exec classified IMAGE without them (the container already gone) or on another overlay teaches nothing.
     */
    void learn(ExecEvent event, ContainerContext container) {
        if (event.cgroupId() == 0 || !OverlayDriftClassifier.imageLayerByKernelFlags(event.flags())
                || event.source() != ExecEvent.SourceKind.EBPF || !onRootOverlay(event, container)) {
            return;
        }
        if (rootDeviceByCgroup.size() >= MAX_CGROUPS && !rootDeviceByCgroup.containsKey(event.cgroupId())) {
            rootDeviceByCgroup.clear();
        }
        Long before = rootDeviceByCgroup.put(event.cgroupId(), event.file().dev());
        ImageExecKeeping keeping = kernel;
        if (keeping != null && (before == null || before != event.file().dev())) {
            keeping.rootOverlay(event.cgroupId(), event.file().dev());
        }
    }

    private static boolean onRootOverlay(ExecEvent event, ContainerContext container) {
        ContainerFilesystems fs = container.filesystems();
        return fs != null && fs.isRootDevice(event.file().dev());
    }

    int size() {
        return rootDeviceByCgroup.size();
    }
}
