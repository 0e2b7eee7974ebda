package io.driftagent.agent.classification;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.attribution.ProcContainerAttributor;
import io.driftagent.agent.fixture.MutableClock;
import io.driftagent.agent.fs.FakeNioRootedFiles;
import io.driftagent.agent.image.FakeLayerDirsImageIndexProvider;
import io.driftagent.agent.source.ExecEvent;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the real-container tests drive: the attributor over this host's /proc and the overlay classifier, wired as
 * the agent wires them (a forgotten container releases its image index), with a settable clock and fakes that count
 * file reads and index use.
 */
final class HostAttribution {

    final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    final List<ContainerContext> forgotten = new CopyOnWriteArrayList<>();
    final FakeNioRootedFiles rootedFiles = new FakeNioRootedFiles();
    final FakeLayerDirsImageIndexProvider images = new FakeLayerDirsImageIndexProvider();
    final OverlayDriftClassifier classifier = new OverlayDriftClassifier(rootedFiles, images, Path.of("/proc"));
    final ProcContainerAttributor attributor;

    HostAttribution() throws IOException {
        attributor = ProcContainerAttributor.onThisHost(Path.of("/proc"), Path.of("/"), clock, ctx -> {
            forgotten.add(ctx);
            classifier.containerGone(ctx);
        });
    }

    /** Attributes and classifies an exec of {@code path} by process {@code pid}, built from the kernel's facts. */
    Classification classifyIn(int pid, String path) throws IOException {
        ExecEvent exec = KernelFacts.execIn(pid, path);
        return classifier.classify(exec, attributor.attribute(exec).orElseThrow());
    }
}
