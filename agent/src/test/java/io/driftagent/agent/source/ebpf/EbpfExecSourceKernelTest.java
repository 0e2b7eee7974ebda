package io.driftagent.agent.source.ebpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.FileId;
import io.driftagent.agent.source.ExecEvent.Flags;
import io.driftagent.agent.source.fixture.OverlayContainer;
import io.driftagent.agent.source.fixture.RecordingSink;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The eBPF source against the real kernel: execs in a small overlay container (lower layer of busybox copies,
 * upper, work; a bind-mounted volume and a tmpfs), each event matched to the test's own process by pid and file
 * name, and every field compared with what stat(2) and /proc say.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.KERNEL)
class EbpfExecSourceKernelTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final RecordingSink sink = new RecordingSink();
    private EbpfExecSource source;
    private OverlayContainer container;
    private Path volume;
    private Path scratch;
    private long hostMountNs;

    @BeforeAll
    void startSourceAndContainer() throws Exception {
        Optional<String> unmet = EbpfPrerequisites.ofThisHost().unmetReason();
        assumeTrue(unmet.isEmpty(), () -> "eBPF kernel test skipped: " + unmet.orElse(""));
        String noContainer = OverlayContainer.unavailableReason();
        assumeTrue(noContainer.isEmpty(), () -> "overlay container fixture unavailable: " + noContainer);
        hostMountNs = mountNsOf("self");
        container = OverlayContainer.create();
        volume = Files.createDirectories(container.dir().resolve("volume"));
        OverlayContainer.installBusybox(volume.resolve("true"));
        container.volume(volume, "/vol");
        scratch = container.hostTmpfs("scratch");
        OverlayContainer.installBusybox(scratch.resolve("true"));
        container.volume(scratch, "/scratch");
        source = new EbpfExecSource();
        source.start(sink);
    }

    @AfterAll
    void stop() {
        if (source != null) {
            source.close();
        }
        if (container != null) {
            container.close();
        }
    }

    @Test
    void imageBinaryIsOnOverlayNotInTheUpperLayerWithTheProcessIdentity() throws Exception {
        // given an image binary that keeps running long enough to read /proc
        Process p = container.start("exec /bin/sleep 1");
        long pid = p.pid();
        ExecEvent e = sink.await(ev -> ev.tgid() == pid && ev.filename().equals("/bin/sleep"), WAIT, "/bin/sleep");
        long startTicks = startTimeTicks(pid);
        p.waitFor(10, TimeUnit.SECONDS);

        // then
        assertThat(e.pid()).isEqualTo((int) pid);
        assertThat(e.ppid()).isEqualTo((int) ProcessHandle.current().pid());
        assertThat(e.uid()).isZero();
        assertThat(e.gid()).isZero();
        assertThat(e.comm()).isEqualTo("sleep");
        assertThat(e.file()).isEqualTo(OverlayContainer.fileId(container.host("/bin/sleep")));
        assertThat(e.interpreter()).isEqualTo(FileId.NONE);
        assertThat(e.flags()).isEqualTo(new Flags(true, false, false, false));
        assertThat(e.mountNsId()).isNotZero().isNotEqualTo(hostMountNs);
        assertThat(e.source()).isEqualTo(ExecEvent.SourceKind.EBPF);
        // /proc/<pid>/stat field 22 is start_boottime in clock ticks (USER_HZ = 100 on x86)
        assertThat(e.startTimeNs() / 10_000_000L).isEqualTo(startTicks);
        assertThat(e.timestampNs()).isGreaterThan(e.startTimeNs() - 1_000_000_000L);
    }

    @Test
    void binaryCopiedInAfterStartIsInTheUpperLayer() throws Exception {
        // given
        OverlayContainer.installBusybox(container.host("/usr/local/bin/true"));
        // when
        long pid = container.exec("/usr/local/bin/true").pid();
        // then
        ExecEvent e = sink.await(ev -> ev.tgid() == pid && ev.filename().equals("/usr/local/bin/true"), WAIT, "added");
        assertThat(e.file()).isEqualTo(OverlayContainer.fileId(container.host("/usr/local/bin/true")));
        assertThat(e.flags()).isEqualTo(new Flags(true, true, false, false));
        assertThat(e.kernel().path()).isEqualTo("/usr/local/bin/true");
        assertThat(e.kernel().pathExact()).isTrue();
        assertThat(e.kernel().otherMount()).isFalse();
        assertThat(e.kernel().argv()).containsExactly("/usr/local/bin/true");
        assertThat(e.kernel().argc()).isEqualTo(1);
        assertThat(e.kernel().euid()).isZero();
    }

    @Test
    void overwrittenImageBinaryIsInTheUpperLayer() throws Exception {
        // given the image's /bin/echo rewritten in place (copy-up, then new content)
        byte[] changed = Files.readAllBytes(OverlayContainer.BUSYBOX);
        Files.write(container.host("/bin/echo"), changed, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        Files.write(container.host("/bin/echo"), new byte[] {0}, StandardOpenOption.APPEND);
        // when
        long pid = container.exec("/bin/echo", "x").pid();
        // then
        ExecEvent e = sink.await(ev -> ev.tgid() == pid && ev.filename().equals("/bin/echo"), WAIT, "overwritten");
        assertThat(e.file()).isEqualTo(OverlayContainer.fileId(container.host("/bin/echo")));
        assertThat(e.flags()).isEqualTo(new Flags(true, true, false, false));
    }

    @Test
    void chmodOnlyImageBinaryIsCopiedUpIntoTheUpperLayer() throws Exception {
        // given a metadata-only change: overlayfs copies the file up with identical content
        Files.setPosixFilePermissions(container.host("/bin/false"), PosixFilePermissions.fromString("rwxr-x---"));
        // when
        long pid = container.exec("/bin/false").pid();
        // then: the kernel flag says upper; telling it apart from real drift (same content) is the classifier's job
        ExecEvent e = sink.await(ev -> ev.tgid() == pid && ev.filename().equals("/bin/false"), WAIT, "chmod'ed");
        assertThat(e.file()).isEqualTo(OverlayContainer.fileId(container.host("/bin/false")));
        assertThat(e.flags()).isEqualTo(new Flags(true, true, false, false));
    }

    @Test
    void droppedScriptIsReportedAsTheScriptWithItsInterpreter() throws Exception {
        // given
        container.dropScript("/tmp/dropped.sh", "#!/bin/sh\nexit 0\n");
        // when
        long pid = container.exec("/tmp/dropped.sh").pid();
        // then
        ExecEvent e = sink.await(ev -> ev.tgid() == pid && ev.filename().equals("/tmp/dropped.sh"), WAIT, "script");
        assertThat(e.file()).isEqualTo(OverlayContainer.fileId(container.host("/tmp/dropped.sh")));
        assertThat(e.interpreter()).isEqualTo(OverlayContainer.fileId(container.host("/bin/sh")));
        assertThat(e.flags()).isEqualTo(new Flags(true, true, false, false));
        assertThat(e.comm()).isEqualTo("dropped.sh");
        // the path is the script's (the file classified); argv is what the interpreter was given
        assertThat(e.kernel().path()).isEqualTo("/tmp/dropped.sh");
        assertThat(e.kernel().argv()).containsExactly("/bin/sh", "/tmp/dropped.sh");
    }

    @Test
    void memfdExecIsFilelessAndUnlinked() throws Exception {
        // given python3 writing busybox into a memfd and exec'ing it through /proc/self/fd
        String python = realPython();
        assumeTrue(python != null, "python3 not found");
        String script = String.join("\n",
                "import os",
                "fd = os.memfd_create('drift-test', 0)",
                "os.write(fd, open('/bin/busybox', 'rb').read())",
                "st = os.fstat(fd)",
                "print(fd, st.st_dev, st.st_ino, flush=True)",
                "os.execve('/proc/self/fd/%d' % fd, ['true'], {})");
        Process p = new ProcessBuilder(python, "-c", script).start();
        String[] printed;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            printed = out.readLine().trim().split(" ");
        }
        p.waitFor(10, TimeUnit.SECONDS);
        String filename = "/proc/self/fd/" + printed[0];
        // then
        ExecEvent e = sink.await(ev -> ev.tgid() == p.pid() && ev.filename().equals(filename), WAIT, "memfd");
        assertThat(e.file()).isEqualTo(new FileId(Long.parseLong(printed[1]), Long.parseLong(printed[2])));
        assertThat(e.flags()).isEqualTo(new Flags(false, false, true, true));
        assertThat(e.mountNsId()).isEqualTo(hostMountNs);
        // a memfd has no path in any root: what the walk found is kept, flagged
        assertThat(e.kernel().path()).startsWith("/memfd:drift-test");
        assertThat(e.kernel().pathOutsideRoot()).isTrue();
        assertThat(e.kernel().pathExact()).isFalse();
        assertThat(e.kernel().argv()).containsExactly("true");
    }

    @Test
    void execFromABindMountedVolumeIsNotOnOverlay() throws Exception {
        long pid = container.exec("/vol/true").pid();
        ExecEvent e = sink.await(ev -> ev.tgid() == pid && ev.filename().equals("/vol/true"), WAIT, "volume");
        assertThat(e.file()).isEqualTo(OverlayContainer.fileId(volume.resolve("true")));
        assertThat(e.flags()).isEqualTo(Flags.NONE);
        // the walk crossed from the volume's mount into the root's: the path is the container's, not the host's
        assertThat(e.kernel().path()).isEqualTo("/vol/true");
        assertThat(e.kernel().pathExact()).isTrue();
        assertThat(e.kernel().otherMount()).isTrue();
    }

    @Test
    void execFromATmpfsMountIsNotOnOverlay() throws Exception {
        long pid = container.exec("/scratch/true").pid();
        ExecEvent e = sink.await(ev -> ev.tgid() == pid && ev.filename().equals("/scratch/true"), WAIT, "tmpfs");
        assertThat(e.file()).isEqualTo(OverlayContainer.fileId(scratch.resolve("true")));
        assertThat(e.file().dev()).isNotEqualTo(container.overlayDev());
        assertThat(e.flags()).isEqualTo(Flags.NONE);
    }

    @Test
    void processThatExitsImmediatelyIsStillDeliveredWithItsParentAndComm() throws Exception {
        // given a shell that forks a child which execs /bin/true and is gone at once
        long shellPid = container.exec("/bin/sh", "-c", "/bin/true; exit 0").pid();
        // then
        ExecEvent e = sink.await(ev -> ev.ppid() == shellPid && ev.filename().equals("/bin/true"), WAIT, "short-lived");
        assertThat(e.tgid()).isNotEqualTo((int) shellPid);
        assertThat(e.pid()).isEqualTo(e.tgid());
        assertThat(e.comm()).isEqualTo("true");
        assertThat(e.file()).isEqualTo(OverlayContainer.fileId(container.host("/bin/true")));
        assertThat(e.flags()).isEqualTo(new Flags(true, false, false, false));
        assertThat(ProcessHandle.of(e.tgid())).isEmpty();
    }

    @Test
    void anExecThroughASymlinkAndARelativeNameIsTheTargetFilesOwnPath() throws Exception {
        // given a dropped binary reached through a symlink, exec'd by a relative name from another directory
        Files.createDirectories(container.host("/opt/tool"));
        OverlayContainer.installBusybox(container.host("/opt/tool/real-true"));
        Files.createDirectories(container.host("/opt/links"));
        Files.createSymbolicLink(container.host("/opt/links/t"), Path.of("../tool/real-true"));
        // when
        long pid = container.run("cd /opt/links && exec ./t a 'b c'").pid();
        // then
        ExecEvent e = sink.await(ev -> ev.tgid() == pid && ev.filename().equals("./t"), WAIT, "symlink");
        assertThat(e.kernel().path()).isEqualTo("/opt/tool/real-true");
        assertThat(e.kernel().pathExact()).isTrue();
        assertThat(e.kernel().argv()).containsExactly("./t", "a", "b c");
        assertThat(e.kernel().argvTruncated()).isFalse();
    }

    @Test
    void aLongPathIsExactAndALongCommandLineIsFlaggedTruncated() throws Exception {
        // given a 320-byte path (the exec's filename buffer holds 255) and 5,000 bytes of arguments
        String dir = "/deep/" + "p".repeat(100) + "/" + "q".repeat(100) + "/" + "r".repeat(80);
        String path = dir + "/" + "t".repeat(320 - dir.length() - 1);
        assertThat(path).hasSize(320);
        Files.createDirectories(container.host(dir));
        OverlayContainer.installBusybox(container.host(path));
        String arg = "z".repeat(1000);
        // when
        long pid = container.exec(path, arg, arg, arg, arg, arg).pid();
        // then
        ExecEvent e = sink.await(ev -> ev.tgid() == pid && ev.comm().equals("t".repeat(15)), WAIT, "long path");
        assertThat(e.filename()).hasSize(255);
        assertThat(e.kernel().path()).isEqualTo(path);
        assertThat(e.kernel().pathExact()).isTrue();
        assertThat(e.kernel().argvTruncated()).isTrue();
        assertThat(e.kernel().argc()).isEqualTo(6);
        assertThat(e.kernel().argv().get(0)).isEqualTo(path);
        assertThat(String.join("\0", e.kernel().argv()).length()).isLessThanOrEqualTo(4096);
    }

    @Test
    void statsCountWhatWasDeliveredAndNothingLost() {
        assertThat(source.stats().delivered()).isPositive();
        assertThat(source.stats().totalLost()).isZero();
        assertThat(source.kernelExecsSeen()).isGreaterThanOrEqualTo(source.stats().delivered());
        assertThat(source.attachment()).contains(ExecAttachment.TP_BTF);
    }

    static long mountNsOf(String pid) throws Exception {
        String link = Files.readSymbolicLink(Path.of("/proc", pid, "ns", "mnt")).toString(); // mnt:[4026531840]
        return Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
    }

    private static long startTimeTicks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] afterComm = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(afterComm[22 - 3]);
    }

    /** The real interpreter (not a pyenv shim, whose own execs would share the pid). */
    static String realPython() throws Exception {
        Process p = new ProcessBuilder("python3", "-c", "import sys; print(sys.executable)").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return p.waitFor() == 0 && !out.isEmpty() ? out : null;
    }
}
