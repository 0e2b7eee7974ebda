package io.driftagent.agent.source.ebpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.provenance.WriteTracking;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ImageExecKeeping;
import io.driftagent.agent.source.fanotify.FanotifyExecSourceKernelTest;
import io.driftagent.agent.source.fanotify.KernelTestSupport;
import io.driftagent.agent.source.fixture.OverlayContainer;
import io.driftagent.agent.source.fixture.RecordingSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Image execs kept in the kernel (exec.bpf.c, "Image-layer execs kept in the kernel") on the real kernel: an overlay
 * container whose root the test tells the program, as the pipeline does once it has placed an image exec there. A
 * leaf image exec never reaches the agent; a process that forks is sent first, at its fork, before its children; an
 * exec that may be drift is sent at once; and nothing is kept while every exec is wanted or for another overlay.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.KERNEL)
class ImageExecKeepingKernelTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** How long a kept exec is given to show up anyway before the test concludes it was kept. */
    private static final Duration SETTLE = Duration.ofSeconds(2);
    /** The fixture's shell: {@code chroot . /bin/busybox sh -c ...} in the container's root. */
    private static final String SHELL = "/bin/busybox";
    private static final String DROPPED_BUSYBOX = "/tmp/bb/busybox";

    private final RecordingSink sink = new RecordingSink();
    private final ImageExecKeeping keeping = new ImageExecKeeping();
    private final AtomicBoolean everyExecWanted = new AtomicBoolean(true);
    private EbpfExecSource source;
    private OverlayContainer container;
    private long cgroupId;
    private Path work;

    @BeforeAll
    void start() throws Exception {
        Optional<String> unmet = EbpfPrerequisites.ofThisHost().unmetReason();
        assumeTrue(unmet.isEmpty(), () -> "eBPF kernel test skipped: " + unmet.orElse(""));
        String noContainer = OverlayContainer.unavailableReason();
        assumeTrue(noContainer.isEmpty(), () -> "overlay container fixture unavailable: " + noContainer);
        // a static binary in the image that is no busybox applet: busybox's shell runs its applets without an exec
        work = Files.createTempDirectory("drift-keeping");
        Path leaf = KernelTestSupport.compileStatic(work, "leaf", FanotifyExecSourceKernelTest.HELLO_C);
        container = OverlayContainer.create(leaf, "leaf");
        OverlayContainer.installBusybox(container.host("/tmp/dropped"));
        // a dropped busybox by its own name: it runs its applets when asked
        Files.createDirectories(container.host("/tmp/bb"));
        OverlayContainer.installBusybox(container.host(DROPPED_BUSYBOX));
        source = new EbpfExecSource(EbpfExecSource.Config.defaults(), EbpfPrerequisites.ofThisHost(),
                WriteTracking.NONE, true, keeping);
        source.start(sink);
        keeping.everyExecWantedWhen(everyExecWanted::get);
        // the container's cgroup, from a first image exec (sent: nothing is known yet)
        int pid = container.exec("/bin/leaf").pid();
        cgroupId = sink.await(e -> e.tgid() == pid && e.filename().equals("/bin/leaf"), WAIT, "first exec").cgroupId();
        assertThat(cgroupId).isNotZero();
    }

    @BeforeEach
    void knowTheRoot() {
        keeping.rootOverlay(cgroupId, container.overlayDev());
        everyExecWanted.set(false);
        keeping.refresh();
        assertThat(keeping.keeping()).as("the program has the fork program and keeps").isTrue();
        sink.clear();
    }

    @AfterAll
    void stop() {
        if (source != null) {
            source.close();
        }
        if (container != null) {
            container.close();
        }
        if (work != null) {
            try (java.util.stream.Stream<Path> files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (java.io.IOException e) {
                // a temporary directory left behind
            }
        }
    }

    @Test
    void aLeafImageExecIsKeptAndItsForkingShellIsSentBeforeItsChild() throws Exception {
        long keptBefore = keeping.kept();
        // given a shell (an image file) that forks a child running an image file, then one running a dropped file
        OverlayContainer.Run run = container.run("/bin/leaf; /tmp/dropped true; exit 0");

        // then the dropped file's exec is sent at once, with the shell as its parent
        ExecEvent drop = sink.await(e -> e.ppid() == run.pid() && e.filename().equals("/tmp/dropped"), WAIT, "drop");
        assertThat(drop.flags().upperLayer()).isTrue();
        // the shell was kept at its exec and sent when it first forked: before its children, with the exec's time
        List<ExecEvent> seen = sink.observed();
        int shellAt = indexOf(seen, e -> e.tgid() == run.pid() && SHELL.equals(e.kernel().path()));
        int dropAt = seen.indexOf(drop);
        assertThat(shellAt).as("the shell's record, sent at its fork").isNotNegative().isLessThan(dropAt);
        ExecEvent shell = seen.get(shellAt);
        assertThat(shell.filename()).as("no name as exec'd: the file's path").isEqualTo(SHELL);
        assertThat(shell.pid()).isEqualTo(shell.tgid());
        assertThat(shell.flags()).isEqualTo(new ExecEvent.Flags(true, false, false, false));
        assertThat(shell.file()).isEqualTo(OverlayContainer.fileId(container.host(SHELL)));
        assertThat(shell.kernel().argv()).contains("sh", "-c");
        assertThat(shell.timestampNs()).isLessThan(drop.timestampNs());
        // and the leaf /bin/leaf never reaches the agent, counted as kept
        Thread.sleep(SETTLE.toMillis());
        assertThat(sink.observed()).noneMatch(e -> e.ppid() == run.pid() && "/bin/leaf".equals(e.kernel().path()));
        assertThat(keeping.kept() - keptBefore).isGreaterThanOrEqualTo(1);
    }

    @Test
    void nothingIsKeptWhileEveryExecIsWanted() throws Exception {
        everyExecWanted.set(true);
        keeping.refresh();
        assertThat(keeping.keeping()).isFalse();
        OverlayContainer.Run run = container.run("/bin/leaf; exit 0");
        sink.await(e -> e.ppid() == run.pid() && e.filename().equals("/bin/leaf"), WAIT, "leaf sent");
    }

    @Test
    void anImageExecOnAnotherOverlayThanTheKnownRootIsSent() throws Exception {
        keeping.rootOverlay(cgroupId, container.overlayDev() + 1);
        try {
            OverlayContainer.Run run = container.run("/bin/leaf; exit 0");
            sink.await(e -> e.ppid() == run.pid() && e.filename().equals("/bin/leaf"), WAIT, "leaf sent");
        } finally {
            keeping.rootOverlay(cgroupId, container.overlayDev());
        }
    }

    @Test
    void aKeptProcessThatExecsADroppedFileIsSentAsThatFileOnly() throws Exception {
        // given a shell kept at its exec (busybox by its own name, which the fixture's shell must exec: an applet's
        // name would run in-process) that execs a dropped busybox in its place, whose shell forks in turn
        String inner = "exec " + DROPPED_BUSYBOX + " sh -c \"" + DROPPED_BUSYBOX + " true; exit 0\"";
        OverlayContainer.Run run = container.run("exec /bin/busybox sh -c '" + inner + "'");
        // then the dropped file's exec is sent at once, and so is its child's
        ExecEvent drop = sink.await(e -> e.tgid() == run.pid() && e.filename().equals(DROPPED_BUSYBOX), WAIT, "drop");
        assertThat(drop.flags().upperLayer()).isTrue();
        sink.await(e -> e.ppid() == run.pid() && e.filename().equals(DROPPED_BUSYBOX), WAIT, "the drop's child");
        Thread.sleep(SETTLE.toMillis());
        // and the kept shell is never sent, nor sent at the dropped file's fork as if it still ran
        assertThat(sink.observed()).noneMatch(e -> e.tgid() == run.pid() && e.kernel().argv().contains(inner));
        assertThat(sink.observed()).filteredOn(e -> e.tgid() == run.pid() && DROPPED_BUSYBOX.equals(e.kernel().path()))
                .containsExactly(drop);
    }

    private static int indexOf(List<ExecEvent> events, java.util.function.Predicate<ExecEvent> match) {
        for (int i = 0; i < events.size(); i++) {
            if (match.test(events.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
