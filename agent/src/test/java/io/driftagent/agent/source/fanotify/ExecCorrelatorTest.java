package io.driftagent.agent.source.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.source.fanotify.ExecCorrelator.Group;
import io.driftagent.agent.source.fanotify.ExecCorrelator.Part;
import io.driftagent.agent.source.fanotify.ExecutedFile.Format;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExecCorrelatorTest {

    private static final long WINDOW = 50_000_000L;
    private static final long EXT4 = 0xfe00L;
    private static final long OVL = 61L;

    private final List<Group> emitted = new ArrayList<>();
    /** where the fake container's #! interpreters are: path -> {dev, ino}; absent: unknown */
    private final java.util.Map<String, long[]> interpreters = new java.util.HashMap<>();
    private final ExecCorrelator correlator = new ExecCorrelator(WINDOW, emitted::add,
            (pid, script) -> interpreters.get(script.file().interpreterPath()));

    private static Part real(long ino, long mountId, String path, Format format) {
        return new Part(new ExecutedFile(EXT4, ino, 1, mountId, 0xef53L, path, false, format,
                format == Format.SCRIPT ? "/bin/sh" : ""), new LayerResolution(true, false, OVL));
    }

    private static Part overlay(long ino, String path, Format format) {
        return new Part(new ExecutedFile(OVL, ino, 1, 126, ExecutedFile.OVERLAYFS_MAGIC, path, false, format,
                format == Format.SCRIPT ? "/bin/sh" : ""),
                new LayerResolution(true, false, OVL));
    }

    private void accept(int pid, Part p, long t) {
        correlator.accept(pid, p, t, ProcessFacts::unknown);
    }

    @Test
    void aWritableLayersStaticElfExecdAfterADynamicOneWhoseLoaderCouldNotBeLocatedIsAnExecNotItsLoader() {
        // given a dynamic shell exec'd by pid 7, whose PT_INTERP cannot be resolved any more (the process is gone),
        // and the kernel's event of its ld.so open merged away
        accept(7, real(500, 69, "/bin/dash", Format.ELF_WITH_INTERPRETER), 0);
        // when the same pid execs a static drop from the writable layer within the window
        Part drop = new Part(new ExecutedFile(EXT4, 600, 1, 70, 0xef53L, "/tmp/drop", false, Format.ELF_STANDALONE, ""),
                new LayerResolution(true, true, OVL));
        accept(7, drop, 1);

        correlator.flushAll();

        // then the drop is an exec of its own, not absorbed as the shell's ld.so
        assertThat(emitted).hasSize(2);
        assertThat(emitted.get(1).primary).extracting(p -> p.file().ino()).containsExactly(600L);
        assertThat(correlator.unverifiedNotAbsorbed()).isEqualTo(1);
    }

    @Test
    void aWritableLayersDropExecdAfterAScriptWhoseInterpreterCouldNotBeLocatedIsAnExecNotItsInterpreter() {
        // given a script exec'd by pid 7 whose #! path cannot be resolved any more (the process and its root gone),
        // its interpreter's event merged away by the kernel (the shell that exec'd it was that interpreter)
        accept(7, real(200, 59, "/tmp/run.sh", Format.SCRIPT), 0);
        // when the script execs a drop of the writable layer within the window
        Part drop = new Part(new ExecutedFile(EXT4, 600, 1, 70, 0xef53L, "/tmp/true", false, Format.ELF_STANDALONE, ""),
                new LayerResolution(true, true, OVL));
        accept(7, drop, 1);

        correlator.flushAll();

        // then the drop is an exec of its own, not taken for the script's interpreter (which no alert would name)
        assertThat(emitted).extracting(g -> g.primary.get(0).file().path()).containsExactly("/tmp/run.sh", "/tmp/true");
        assertThat(emitted.get(0).interpreter).isEmpty();
        assertThat(correlator.unverifiedNotAbsorbed()).isEqualTo(1);
    }

    @Test
    void aDeletedFileExecdAfterAScriptWhoseInterpreterCouldNotBeLocatedIsAnExecNotItsInterpreter() {
        accept(7, real(200, 59, "/tmp/run.sh", Format.SCRIPT), 0);
        Part deleted = new Part(new ExecutedFile(EXT4, 601, 0, 71, 0xef53L, "/tmp/gone", true, Format.ELF_STANDALONE,
                ""), new LayerResolution(false, false, EXT4));
        accept(7, deleted, 1);

        correlator.flushAll();

        assertThat(emitted).extracting(g -> g.primary.get(0).file().path()).containsExactly("/tmp/run.sh", "/tmp/gone");
    }

    @Test
    void anImageLayersStaticElfAfterADynamicOneWhoseLoaderCouldNotBeLocatedIsStillTakenForItsLoader() {
        accept(7, real(500, 69, "/bin/dash", Format.ELF_WITH_INTERPRETER), 0);
        accept(7, real(400, 69, "/lib/ld-linux-x86-64.so.2", Format.ELF_STANDALONE), 1);

        correlator.flushAll();

        assertThat(emitted).hasSize(1);
        assertThat(emitted.get(0).primary).extracting(p -> p.file().ino()).containsExactly(500L);
    }

    @Test
    void aTwinReadPastTheWindowByAReaderBehindTheQueueIsStillTheSameExec() {
        // given the layer's report of an open read at 0, the reader behind: no read has emptied the queue since -10
        correlator.accept(7, real(100, 69, "/tmp/drop", Format.ELF_STANDALONE), 0, -10, ProcessFacts::unknown);
        // when the window passes with the queue not emptied since, the group waits
        correlator.flushExpired(WINDOW + 1_000_000, -10);
        assertThat(emitted).isEmpty();
        // and the overlay's report of the same open is read 71 ms later, still queued before the last emptying read
        correlator.accept(7, overlay(100, "/tmp/drop", Format.ELF_STANDALONE), 71_000_000, -10, ProcessFacts::unknown);
        // once a read that began after it emptied the queue, the group goes: one exec of both reports
        correlator.flushExpired(71_000_000 + WINDOW + 1, 71_000_000 + 1);
        assertThat(emitted).hasSize(1);
        assertThat(emitted.get(0).primary).hasSize(2);
    }

    @Test
    void anEventQueuedAfterTheWindowIsANewExecAndAGroupIsHeldNoLongerThanItsBound() {
        // an event queued after a read that emptied the queue past the window is not the group's twin
        correlator.accept(7, real(100, 69, "/bin/app", Format.ELF_STANDALONE), 0, 0, ProcessFacts::unknown);
        correlator.accept(7, overlay(100, "/bin/app", Format.ELF_STANDALONE), 3 * WINDOW, 2 * WINDOW,
                ProcessFacts::unknown);
        assertThat(emitted).hasSize(1);
        // and a group the queue never caught up with goes after the hold bound
        correlator.flushExpired(3 * WINDOW + ExecCorrelator.HOLD_MAX_NANOS, 0);
        assertThat(emitted).hasSize(1);
        correlator.flushExpired(3 * WINDOW + ExecCorrelator.HOLD_MAX_NANOS + 1, 0);
        assertThat(emitted).hasSize(2);
    }

    @Test
    void theTwinReportsOfOneOpenAreOneExec() {
        accept(7, real(100, 69, "/bin/app", Format.ELF_STANDALONE), 0);
        accept(7, overlay(100, "/bin/app", Format.ELF_STANDALONE), 1);

        correlator.flushExpired(WINDOW + 2, WINDOW + 2);

        assertThat(emitted).hasSize(1);
        assertThat(emitted.get(0).primary).hasSize(2);
        assertThat(emitted.get(0).interpreter).isEmpty();
    }

    @Test
    void aDropOnAnotherPlainFilesystemWithTheSameInodeNumberIsAnExecNotATwin() {
        // given an image file exec'd by pid 7, reported as the layer's real inode (ext4)
        accept(7, real(500, 69, "/bin/app", Format.ELF_STANDALONE), 0);
        // when the same pid execs, within the window, a drop on a tmpfs whose inode number happens to be the same
        Part tmpfsDrop = new Part(new ExecutedFile(0x2bL, 500, 1, 80, 0x01021994L, "/dev/shm/x", false,
                Format.ELF_STANDALONE, ""), LayerResolution.notOverlay(0x2bL));
        accept(7, tmpfsDrop, 1);

        correlator.flushAll();

        // then both are execs: only an overlay's own inode and its layer's real one are two reports of one open
        assertThat(emitted).extracting(g -> g.primary.get(0).file().path()).containsExactly("/bin/app", "/dev/shm/x");
        assertThat(emitted).allSatisfy(g -> assertThat(g.primary).hasSize(1));
    }

    @Test
    void aScriptTakesTheNextOpenOfItsPidAsInterpreterAndAbsorbsTheInterpretersLdSo() {
        accept(7, real(200, 59, "/drop.sh", Format.SCRIPT), 0);
        accept(7, overlay(200, "/drop.sh", Format.SCRIPT), 1);
        accept(7, real(300, 69, "/usr/bin/python3", Format.ELF_WITH_INTERPRETER), 2);
        accept(7, overlay(300, "/usr/bin/python3", Format.ELF_WITH_INTERPRETER), 3);
        accept(7, real(400, 69, "/lib/ld-linux-x86-64.so.2", Format.ELF_STANDALONE), 4);
        accept(7, overlay(400, "/lib/ld-linux-x86-64.so.2", Format.ELF_STANDALONE), 5);

        correlator.flushAll();

        assertThat(emitted).hasSize(1);
        Group g = emitted.get(0);
        assertThat(g.primary).extracting(p -> p.file().ino()).containsExactly(200L, 200L);
        assertThat(g.interpreter).extracting(p -> p.file().ino()).containsExactly(300L, 300L);
    }

    @Test
    void whenTheKernelMergedAwayTheInterpretersEventTheScriptsNextExecIsNotTakenForIt() {
        interpreters.put("/bin/sh", new long[] {OVL, 300});
        accept(7, real(300, 69, "/bin/busybox", Format.ELF_STANDALONE), 0);
        accept(7, real(200, 59, "/drop.sh", Format.SCRIPT), 1);
        // the open of /bin/busybox (ino 300) as interpreter was merged into the first event
        accept(7, real(900, 59, "/tmp/evil", Format.ELF_STANDALONE), 2);

        correlator.flushAll();

        assertThat(emitted).extracting(g -> g.primary.get(0).file().path()).containsExactly("/bin/busybox", "/drop.sh", "/tmp/evil");
        assertThat(emitted.get(1).interpreter).isEmpty();
        assertThat(emitted.get(1).mergedInterpreter).containsExactly(OVL, 300);
    }

    @Test
    void anInterpreterMatchingTheShebangIsTakenAsTheInterpreter() {
        interpreters.put("/bin/sh", new long[] {OVL, 300});
        accept(7, real(200, 59, "/drop.sh", Format.SCRIPT), 1);
        accept(7, real(300, 69, "/bin/busybox", Format.ELF_STANDALONE), 2);

        correlator.flushAll();

        assertThat(emitted).hasSize(1);
        assertThat(emitted.get(0).interpreter).extracting(p -> p.file().ino()).containsExactly(300L);
        assertThat(emitted.get(0).mergedInterpreter).isNull();
    }

    @Test
    void aLaterExecBySamePidIsANewExecAndEmitsThePreviousOne() {
        accept(7, real(500, 69, "/bin/sh", Format.ELF_STANDALONE), 0);
        accept(7, real(600, 69, "/bin/app", Format.ELF_STANDALONE), 1000);

        assertThat(emitted).hasSize(1);
        assertThat(emitted.get(0).primary.get(0).file().path()).isEqualTo("/bin/sh");
        correlator.flushAll();
        assertThat(emitted).hasSize(2);
    }

    @Test
    void reExecOfTheSameFileIsNotMistakenForATwin() {
        accept(7, real(500, 69, "/bin/busybox", Format.ELF_STANDALONE), 0);
        accept(7, real(500, 69, "/bin/busybox", Format.ELF_STANDALONE), 10);

        correlator.flushAll();

        assertThat(emitted).hasSize(2);
    }

    @Test
    void anOpenAfterTheWindowStartsANewExecEvenWhenItWouldFit() {
        accept(7, real(200, 59, "/drop.sh", Format.SCRIPT), 0);
        accept(7, real(300, 69, "/bin/sh", Format.ELF_STANDALONE), WINDOW + 1);

        correlator.flushAll();

        assertThat(emitted).hasSize(2);
        assertThat(emitted.get(0).interpreter).as("the script's interpreter never came in time").isEmpty();
    }

    @Test
    void groupsAreEmittedOnlyOnceTheirWindowPassedAndDifferentPidsDoNotMix() {
        accept(7, real(100, 69, "/bin/a", Format.ELF_STANDALONE), 0);
        accept(8, real(100, 69, "/bin/a", Format.ELF_STANDALONE), 10);

        correlator.flushExpired(WINDOW, WINDOW);
        assertThat(emitted).isEmpty();
        assertThat(correlator.nanosUntilNextExpiry(WINDOW)).isZero();
        correlator.flushExpired(WINDOW + 11, WINDOW + 11);

        assertThat(emitted).extracting(g -> g.pid).containsExactly(7, 8);
        assertThat(correlator.openGroups()).isZero();
        assertThat(correlator.nanosUntilNextExpiry(WINDOW + 11)).isEqualTo(-1);
    }
}
