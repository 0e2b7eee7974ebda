package io.driftagent.agent.source.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.host.CgroupMounts;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.FileId;
import io.driftagent.agent.source.ExecEvent.Flags;
import io.driftagent.agent.source.fixture.OverlayContainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * FanotifyExecSource against the real kernel: an overlay "container" with the host root and the container root
 * both marked (as the agent runs once attribution has seen the container), plus a second source that only marks
 * the host root (a container not yet attributed).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.KERNEL)
public class FanotifyExecSourceKernelTest {

    public static final String HELLO_C = """
            #include <stdlib.h>
            #include <time.h>
            int main(int argc, char **argv) {
                if (argc > 1) { long ms = atol(argv[1]); struct timespec t = {ms / 1000, (ms % 1000) * 1000000L}; nanosleep(&t, 0); }
                return 0;
            }
            """;

    private Path work;
    private Path hello;
    private OverlayContainer ctr;
    private FanotifyExecSource source;
    private FanotifyExecSource hostRootOnly;
    private final ExecEventRecorder events = new ExecEventRecorder();
    private final ExecEventRecorder hostRootEvents = new ExecEventRecorder();
    private long overlayDev;

    @BeforeAll
    void startSourcesAndContainer() throws Exception {
        KernelTestSupport.assumeRootWithKernelTools();
        work = Files.createTempDirectory("drift-fanotify-src");
        hello = KernelTestSupport.compileStatic(work, "hello", HELLO_C);
        ctr = OverlayContainer.create(hello, "hello", "img2", "img3", "hostonly", "hostonly2");
        overlayDev = ctr.overlayDev();
        FanotifySourceConfig cfg = new FanotifySourceConfig(true, Duration.ofMillis(50), 256 * 1024, false, Path.of("/proc"), null, Duration.ofMillis(5));
        source = new FanotifyExecSource(cfg, Clock.systemUTC());
        source.start(events);
        assertThat(source.watch(ctr.merged())).isEqualTo(MarkKind.FILESYSTEM);
        hostRootOnly = new FanotifyExecSource(cfg, Clock.systemUTC());
        hostRootOnly.start(hostRootEvents);
    }

    @AfterAll
    void stop() throws Exception {
        if (source != null) {
            source.close();
        }
        if (hostRootOnly != null) {
            hostRootOnly.close();
        }
        if (ctr != null) {
            ctr.close();
        }
        if (work != null) {
            HostCommands.run("rm", "-rf", work.toString());
        }
    }

    @Test
    void imageBinaryIsReportedWithTheOverlayDeviceTheLayerInodeAndNoUpperFlag() throws Exception {
        OverlayContainer.Run run = ctr.run("exec /bin/hello 300");

        ExecEvent e = events.awaitExec(run.pid(), "/bin/hello");

        assertThat(run.exitCode()).isZero();
        assertThat(e.file()).isEqualTo(new FileId(overlayDev, OverlayContainer.ino(ctr.lower().resolve("bin/hello"))));
        assertThat(e.flags()).isEqualTo(new Flags(true, false, false, false));
        assertThat(e.interpreter()).isEqualTo(FileId.NONE);
        assertThat(e.source()).isEqualTo(ExecEvent.SourceKind.FANOTIFY);
        assertThat(e.tgid()).isEqualTo(run.pid());
        assertThat(e.ppid()).isEqualTo((int) ProcessHandle.current().pid());
        assertThat(e.uid()).isZero();
        assertThat(e.gid()).isZero();
        assertThat(e.comm()).isEqualTo("hello");
        assertThat(e.startTimeNs()).isPositive();
        assertThat(e.mountNsId()).isPositive().isNotEqualTo(ownMountNs());
        assertThat(e.cgroupId()).isEqualTo(ownCgroupId());
        assertThat(events.ofPid(run.pid())).filteredOn(x -> x.filename().equals("/bin/hello"))
                .as("one exec, one event (twin reports folded)").hasSize(1);
    }

    @Test
    void binaryCopiedInAfterStartIsInTheUpperLayer() throws Exception {
        Files.copy(hello, ctr.merged().resolve("bin/added"));

        OverlayContainer.Run run = ctr.run("exec /bin/added 300");

        ExecEvent e = events.awaitExec(run.pid(), "/bin/added");
        assertThat(e.file()).isEqualTo(new FileId(overlayDev, OverlayContainer.ino(ctr.upper().resolve("bin/added"))));
        assertThat(e.flags()).isEqualTo(new Flags(true, true, false, false));
    }

    @Test
    void overwrittenImageBinaryIsInTheUpperLayer() throws Exception {
        Path target = ctr.merged().resolve("bin/img2");
        Files.copy(hello, target, StandardCopyOption.REPLACE_EXISTING);
        Files.write(target, new byte[] {0x42}, StandardOpenOption.APPEND);

        OverlayContainer.Run run = ctr.run("exec /bin/img2 300");

        ExecEvent e = events.awaitExec(run.pid(), "/bin/img2");
        assertThat(e.file()).isEqualTo(new FileId(overlayDev, OverlayContainer.ino(ctr.upper().resolve("bin/img2"))));
        assertThat(e.file().ino()).isNotEqualTo(OverlayContainer.ino(ctr.lower().resolve("bin/img2")));
        assertThat(e.flags()).isEqualTo(new Flags(true, true, false, false));
    }

    @Test
    void chmodOnlyImageBinaryIsCopiedUpAndReportedInTheUpperLayer() throws Exception {
        Files.setPosixFilePermissions(ctr.merged().resolve("bin/img3"), PosixFilePermissions.fromString("rwxr-x---"));

        OverlayContainer.Run run = ctr.run("exec /bin/img3 300");

        ExecEvent e = events.awaitExec(run.pid(), "/bin/img3");
        Path upperCopy = ctr.upper().resolve("bin/img3");
        assertThat(Files.readAllBytes(upperCopy)).as("copy-up keeps the content").isEqualTo(Files.readAllBytes(hello));
        assertThat(e.file()).isEqualTo(new FileId(overlayDev, OverlayContainer.ino(upperCopy)));
        assertThat(e.flags()).as("the source reports the copy-up; the classifier decides it is IMAGE by content")
                .isEqualTo(new Flags(true, true, false, false));
    }

    @Test
    void droppedScriptIsReportedAsTheScriptWithItsInterpreterAndThenItsOwnExec() throws Exception {
        Path script = ctr.merged().resolve("drop.sh");
        Files.writeString(script, "#!/bin/sh\nexec /bin/hello 300\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));

        OverlayContainer.Run run = ctr.run("exec /drop.sh");

        ExecEvent e = events.awaitExec(run.pid(), "/drop.sh");
        assertThat(e.file()).isEqualTo(new FileId(overlayDev, OverlayContainer.ino(ctr.upper().resolve("drop.sh"))));
        assertThat(e.interpreter()).as("events of the pid: %s", events.ofPid(run.pid()))
                .isEqualTo(new FileId(overlayDev, OverlayContainer.ino(ctr.lower().resolve("bin/sh"))));
        assertThat(e.flags()).isEqualTo(new Flags(true, true, false, false));
        ExecEvent then = events.awaitExec(run.pid(), "/bin/hello");
        assertThat(then.interpreter()).isEqualTo(FileId.NONE);
        assertThat(events.ofPid(run.pid())).extracting(ExecEvent::filename)
                .as("inside the container: busybox (the chroot), the script, the script's exec; the interpreter is not an exec")
                .endsWith("/bin/busybox", "/drop.sh", "/bin/hello");
    }

    @Test
    void scriptRunWhileTheReaderIsStalledKeepsItsInterpreterAndItsNextExecDespiteKernelMerging() throws Exception {
        Path script = ctr.merged().resolve("stalled.sh");
        Files.writeString(script, "#!/bin/sh\nexec /bin/hello\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        java.util.concurrent.CountDownLatch stalled = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        ExecEventRecorder stalledEvents = new ExecEventRecorder();
        FanotifyExecSource s = new FanotifyExecSource(FanotifySourceConfig.defaults(), Clock.systemUTC());
        s.start(e -> {
            stalled.countDown();
            try {
                release.await();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            return stalledEvents.offer(e);
        });
        try {
            s.watch(ctr.merged());
            new ProcessBuilder("/bin/true").start().waitFor();
            assertThat(stalled.await(10, TimeUnit.SECONDS)).isTrue();

            OverlayContainer.Run run = ctr.run("exec /stalled.sh");
            release.countDown();

            ExecEvent e = stalledEvents.awaitExec(run.pid(), "/stalled.sh");
            assertThat(e.interpreter()).as("events of the pid: %s", stalledEvents.ofPid(run.pid()))
                    .isEqualTo(new FileId(overlayDev, OverlayContainer.ino(ctr.lower().resolve("bin/sh"))));
            stalledEvents.awaitExec(run.pid(), "/bin/hello");
            // the host busybox exec'd by unshare follows ld.so opens merged into jspawnhelper's: not taken for ld.so
            stalledEvents.awaitExec(run.pid(), Path.of("/bin/busybox").toRealPath().toString());
            assertThat(s.stats().totalLost()).isZero();
        } finally {
            release.countDown();
            s.close();
        }
    }

    @Test
    void execFromABindMountedVolumeIsReportedWithTheVolumesDeviceAndNoOverlayFlags() throws Exception {
        Path vol = Files.createDirectories(ctr.dir().resolve("volsrc"));
        Files.copy(hello, vol.resolve("tool"));
        ctr.volume(vol, "/vol");

        OverlayContainer.Run run = ctr.run("exec /vol/tool 300");

        ExecEvent e = events.awaitExec(run.pid(), "/vol/tool");
        assertThat(e.file()).isEqualTo(OverlayContainer.fileId(vol.resolve("tool")));
        assertThat(e.flags()).isEqualTo(Flags.NONE);
    }

    @Test
    void execFromATmpfsMountIsReportedOnceTheTmpfsIsWatched() throws Exception {
        Path tmpfs = ctr.hostTmpfs("tmpfssrc");
        Files.copy(hello, tmpfs.resolve("tool"));
        assertThat(source.watch(tmpfs)).isEqualTo(MarkKind.FILESYSTEM);
        ctr.volume(tmpfs, "/tmpvol");

        OverlayContainer.Run run = ctr.run("exec /tmpvol/tool 300");

        ExecEvent e = events.awaitExec(run.pid(), "/tmpvol/tool");
        assertThat(e.file()).isEqualTo(new FileId(OverlayContainer.dev(tmpfs), OverlayContainer.ino(tmpfs.resolve("tool"))));
        assertThat(e.flags()).isEqualTo(Flags.NONE);
        source.unwatch(tmpfs);
        assertThat(source.watched()).doesNotContainKey(tmpfs);
    }

    @Test
    void aHostProcesssExecIsTheHostsByTheMountItsFileWasOpenedThroughWithoutReadingProc() throws Exception {
        // given the source watching the host root (and so the host's mount table)
        long before = source.hostExecsByMount();

        // when a process of the host's mount namespace execs a host file
        Process p = new ProcessBuilder(hello.toString(), "200").start();
        int pid = (int) p.pid();
        assertThat(p.waitFor()).isZero();

        // then its exec is in the host's mount namespace, told by the file's mount, and nothing was read from /proc
        ExecEvent e = events.await(x -> x.pid() == pid, 5000).orElseThrow(
                () -> new AssertionError("no exec event of host pid " + pid));
        assertThat(e.mountNsId()).isEqualTo(ownMountNs());
        assertThat(e.cgroupId()).as("not read").isZero();
        assertThat(e.ppid()).as("not read").isZero();
        assertThat(source.hostExecsByMount()).isGreaterThan(before);
    }

    @Test
    void processThatExitsImmediatelyIsStillDescribedByItsFile() throws Exception {
        OverlayContainer.Run run = ctr.run("exec /bin/hello");

        ExecEvent e = events.awaitExec(run.pid(), "/bin/hello");
        assertThat(e.file()).isEqualTo(new FileId(overlayDev, OverlayContainer.ino(ctr.lower().resolve("bin/hello"))));
        assertThat(e.flags()).isEqualTo(new Flags(true, false, false, false));
        assertThat(e.comm()).isEqualTo("hello");
    }

    @Test
    void memfdExecIsInvisibleToFanotifyWhileTheLauncherIsSeen() throws Exception {
        Path python = Path.of("/usr/bin/python3.11");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(python), "needs /usr/bin/python3.11");
        String prog = "import os\n"
                + "fd = os.memfd_create('drift-test', 0)\n"
                + "os.write(fd, open('" + hello + "', 'rb').read())\n"
                + "pid = os.fork()\n"
                + "if pid == 0:\n"
                + "    os.execve('/proc/self/fd/%d' % fd, ['memfd-hello'], {})\n"
                + "os.waitpid(pid, 0)\n"
                + "print(pid)\n";
        Process p = new ProcessBuilder(python.toString(), "-c", prog).redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        int child = Integer.parseInt(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());

        ExecEvent launcher = events.awaitExec((int) p.pid(), python.toString());
        assertThat(launcher.flags()).isEqualTo(Flags.NONE);
        assertThat(events.ofPid((int) p.pid())).extracting(ExecEvent::filename).as("ld.so is folded into the dynamic exec")
                .noneMatch(f -> f.contains("ld-linux"));
        Thread.sleep(300);
        assertThat(events.ofPid(child)).as("memfd execs are a fanotify blind spot (no mark on the kernel's shmem mount)").isEmpty();
    }

    @Test
    void withOnlyTheHostRootMarkedLayerFilesAreMappedToTheirOverlayAndLayer() throws Exception {
        Files.copy(hello, ctr.merged().resolve("bin/added-hostonly"));

        OverlayContainer.Run image = ctr.run("exec /bin/hostonly 300");
        OverlayContainer.Run added = ctr.run("exec /bin/added-hostonly 300");

        ExecEvent e1 = hostRootEvents.awaitExec(image.pid(), "/bin/hostonly");
        assertThat(e1.file()).isEqualTo(new FileId(overlayDev, OverlayContainer.ino(ctr.lower().resolve("bin/hostonly"))));
        assertThat(e1.flags()).isEqualTo(new Flags(true, false, false, false));
        ExecEvent e2 = hostRootEvents.awaitExec(added.pid(), "/bin/added-hostonly");
        assertThat(e2.file()).isEqualTo(new FileId(overlayDev, OverlayContainer.ino(ctr.upper().resolve("bin/added-hostonly"))));
        assertThat(e2.flags()).isEqualTo(new Flags(true, true, false, false));
    }

    @Test
    void watchingAContainersProcRootAloneReportsOverlayInodesWithTheUpperFlag() throws Exception {
        Files.copy(hello, ctr.merged().resolve("bin/added-procroot"));
        Process holder = ctr.start("exec /bin/hello 5000");
        FanotifyExecSource overlayOnly = new FanotifyExecSource(FanotifySourceConfig.defaults().withWatchHostRoot(false), Clock.systemUTC());
        ExecEventRecorder overlayEvents = new ExecEventRecorder();
        try {
            long helloIno = OverlayContainer.ino(ctr.lower().resolve("bin/hello"));
            Path exe = Path.of("/proc", Long.toString(holder.pid()), "exe");
            long until = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < until && !(Files.exists(exe) && exeIno(exe) == helloIno)) {
                Thread.sleep(20);
            }
            overlayOnly.start(overlayEvents);
            Path procRoot = Path.of("/proc", Long.toString(holder.pid()), "root");

            assertThat(overlayOnly.watch(procRoot)).isEqualTo(MarkKind.FILESYSTEM);
            OverlayContainer.Run image = ctr.run("exec /bin/hello 300");
            OverlayContainer.Run added = ctr.run("exec /bin/added-procroot 300");

            ExecEvent e1 = overlayEvents.awaitExec(image.pid(), "/bin/hello");
            assertThat(e1.file()).isEqualTo(new FileId(overlayDev, helloIno));
            assertThat(e1.flags()).isEqualTo(new Flags(true, false, false, false));
            ExecEvent e2 = overlayEvents.awaitExec(added.pid(), "/bin/added-procroot");
            assertThat(e2.file()).isEqualTo(new FileId(overlayDev, OverlayContainer.ino(ctr.upper().resolve("bin/added-procroot"))));
            assertThat(e2.flags()).isEqualTo(new Flags(true, true, false, false));
            overlayOnly.unwatch(procRoot);
            assertThat(overlayOnly.watched()).isEmpty();
        } finally {
            overlayOnly.close();
            holder.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void execOfADeletedFileIsFlaggedUnlinkedAndNamedByItsFormerPath() throws Exception {
        Path tool = work.resolve("doomed");
        Files.copy(hello, tool);

        Process p = new ProcessBuilder("/bin/busybox", "sh", "-c",
                "exec 3<'" + tool + "'; rm '" + tool + "'; echo $$; exec /proc/self/fd/3 300").redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();

        ExecEvent e = events.awaitExec((int) p.pid(), tool.toString());
        assertThat(e.flags()).isEqualTo(new Flags(false, false, false, true));
        assertThat(e.file().dev()).isEqualTo(OverlayContainer.dev(work));
    }

    private static long exeIno(Path exe) {
        try {
            return ((Number) Files.getAttribute(exe, "unix:ino")).longValue();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private static long ownMountNs() throws Exception {
        String l = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
        return Long.parseLong(l.substring(l.indexOf('[') + 1, l.indexOf(']')));
    }

    private static long ownCgroupId() throws Exception {
        Path root = CgroupMounts.unifiedAtHostRoot(Path.of("/proc")).orElseThrow();
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            if (line.startsWith("0::")) {
                String rel = line.substring(3);
                return OverlayContainer.ino(root.resolve(rel.startsWith("/") ? rel.substring(1) : rel));
            }
        }
        throw new AssertionError("no cgroup v2 line");
    }
}
