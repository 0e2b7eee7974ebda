package io.driftagent.agent.enforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftagent.agent.fixture.HostCommands;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.fanotify.FanotifyExecSourceKernelTest;
import io.driftagent.agent.source.fanotify.KernelTestSupport;
import io.driftagent.agent.source.fanotify.MarkKind;
import io.driftagent.agent.source.fixture.OverlayContainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * FanotifyExecGuard against the real kernel. Only the test container's overlay is ever guarded (never the host
 * root: a bug would freeze a shared machine).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.KERNEL)
class FanotifyExecGuardKernelTest {

    /** Rewrites a file's first byte with itself through a shared writable mapping: no write(2), no modify event. */
    private static final String MMAP_REWRITE_C = """
            #include <fcntl.h>
            #include <sys/mman.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                int fd = open(argv[1], O_RDWR);
                if (fd < 0) return 1;
                volatile char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                if (p == MAP_FAILED) return 2;
                p[0] = p[0];
                msync((void *)p, 4096, MS_SYNC);
                munmap((void *)p, 4096);
                close(fd);
                return 0;
            }
            """;

    private Path work;
    private OverlayContainer ctr;
    private FanotifyExecGuard guard;

    @BeforeAll
    void buildContainer() throws Exception {
        KernelTestSupport.assumeRootWithKernelTools();
        work = Files.createTempDirectory("drift-fanotify-guard");
        Path hello = KernelTestSupport.compileStatic(work, "hello", FanotifyExecSourceKernelTest.HELLO_C);
        ctr = OverlayContainer.create(hello, "hello", "denied", "remembered", "rewritten", "forgotten", "linked", "mapped");
        Files.copy(KernelTestSupport.compileStatic(work, "mmap-rewrite", MMAP_REWRITE_C), ctr.lower().resolve("bin/mmap-rewrite"));
    }

    @AfterEach
    void closeGuard() {
        if (guard != null) {
            guard.close();
            assertThat(guard.pendingCount()).as("nothing left unanswered").isZero();
            GuardStats s = guard.stats();
            assertThat(s.answered()).as("every permission event read was answered: %s", s).isEqualTo(s.received());
            guard = null;
        }
    }

    @AfterAll
    void removeContainer() throws Exception {
        if (ctr != null) {
            ctr.close();
        }
        if (work != null) {
            HostCommands.run("rm", "-rf", work.toString());
        }
    }

    private FanotifyExecGuard startGuard(GuardConfig cfg, ExecPermissionDecider decider) throws Exception {
        guard = new FanotifyExecGuard(cfg, Clock.systemUTC());
        guard.start(decider);
        assertThat(guard.guard(ctr.merged())).isEqualTo(MarkKind.FILESYSTEM);
        return guard;
    }

    @Test
    void deniedExecFailsWithEpermInsideTheContainerAndAnAllowedOneRuns() throws Exception {
        List<ExecPermissionRequest> seen = new CopyOnWriteArrayList<>();
        startGuard(GuardConfig.defaults(), req -> {
            seen.add(req);
            return req.event().filename().equals("/bin/denied") ? PermissionDecision.DENY : PermissionDecision.ALLOW;
        });

        OverlayContainer.Run run = ctr.run("/bin/denied; echo denied-rc=$?; /bin/hello; echo hello-rc=$?");

        assertThat(run.output()).contains("Operation not permitted").contains("denied-rc=126").contains("hello-rc=0");
        ExecEvent hello = seen.stream().map(ExecPermissionRequest::event).filter(e -> e.filename().equals("/bin/hello"))
                .findFirst().orElseThrow();
        assertThat(hello.file()).isEqualTo(new ExecEvent.FileId(ctr.overlayDev(), OverlayContainer.ino(ctr.lower().resolve("bin/hello"))));
        assertThat(hello.flags()).isEqualTo(new ExecEvent.Flags(true, false, false, false));
        assertThat(guard.stats().denied()).isGreaterThanOrEqualTo(1);
        assertThat(guard.stats().defaulted()).isEmpty();
    }

    @Test
    void theDecisionSeesTheProcessPlacementOnlyAndTheReportedEventItsDetailsReadForTheReport() throws Exception {
        List<ExecEvent> decidedOn = new CopyOnWriteArrayList<>();
        List<ExecEvent> reported = new CopyOnWriteArrayList<>();
        startGuard(GuardConfig.defaults(), req -> {
            if (!req.event().filename().equals("/bin/denied")) {
                return PermissionDecision.ALLOW;
            }
            decidedOn.add(req.event());
            ExecEvent details = req.reportedEvent();
            if (req.pending().answer(PermissionDecision.DENY) == PermissionDecision.DENY) {
                reported.add(details);
            }
            return PermissionDecision.DENY;
        });

        OverlayContainer.Run run = ctr.run("/bin/denied; echo rc=$?");

        assertThat(run.output()).contains("rc=126");
        assertThat(decidedOn).hasSize(1);
        awaitReport(reported);
        assertThat(reported).hasSize(1);
        ExecEvent decided = decidedOn.get(0);
        ExecEvent report = reported.get(0);
        // the decision: the file's facts and the process's placement (mount namespace, cgroup), nothing else of /proc
        assertThat(decided.mountNsId()).isNotZero();
        assertThat(decided.tgid()).isEqualTo(decided.pid());
        assertThat(decided.startTimeNs()).as("start time: not read before the answer").isZero();
        assertThat(decided.ppid()).as("parent: not read before the answer").isZero();
        assertThat(decided.uid()).as("uid: not read before the answer").isEqualTo(-1);
        // the report: the same exec, with the details read for it
        assertThat(report.startTimeNs()).isPositive();
        assertThat(report.ppid()).isPositive();
        assertThat(report.uid()).isZero();
        assertThat(report.pid()).isEqualTo(decided.pid());
        assertThat(report.file()).isEqualTo(decided.file());
        assertThat(report.filename()).isEqualTo("/bin/denied");
        assertThat(report.mountNsId()).isEqualTo(decided.mountNsId());
        assertThat(report.cgroupId()).isEqualTo(decided.cgroupId());
        assertThat(guard.stats().detailsMissing()).isZero();
    }

    @Test
    void aDecisionMadeAtOnceIsAnsweredOnTheReadingThreadAndAnExecWhoseLaneIsBusyWaitsForItsTurnInTheLane()
            throws Exception {
        java.util.Map<String, String> threads = new java.util.concurrent.ConcurrentHashMap<>();
        CountDownLatch slowStarted = new CountDownLatch(1);
        CountDownLatch helloLanedTwice = new CountDownLatch(2);
        ExecPermissionDecider decider = new ExecPermissionDecider() {
            @Override
            public PermissionDecision decide(ExecPermissionRequest req) throws Exception {
                String f = req.event().filename();
                threads.merge(f, Thread.currentThread().getName(), (a, b) -> a + "," + b);
                if (f.equals("/bin/denied")) {
                    // slow until /bin/hello has been given its lane (and a little longer: the guard looks at the lane)
                    slowStarted.countDown();
                    helloLanedTwice.await(2500, TimeUnit.MILLISECONDS);
                    Thread.sleep(200);
                    return PermissionDecision.DENY;
                }
                return PermissionDecision.ALLOW;
            }

            /** The container's programs in one lane; the shell that starts them (busybox) in another. */
            @Override
            public Object laneOf(ExecPermissionRequest req) {
                String f = req.event().filename();
                if (f.equals("/bin/hello")) {
                    helloLanedTwice.countDown();
                }
                return f.equals("/bin/busybox") ? "shell" : "programs";
            }

            @Override
            public java.util.Optional<PermissionDecision> decideAtOnce(ExecPermissionRequest req) {
                String f = req.event().filename();
                if (!f.equals("/bin/hello")) {
                    return java.util.Optional.empty();
                }
                threads.merge(f, Thread.currentThread().getName(), (a, b) -> a + "," + b);
                return java.util.Optional.of(PermissionDecision.ALLOW);
            }
        };
        startGuard(GuardConfig.defaults().withDecisionTimeout(Duration.ofSeconds(3)), decider);

        // given an idle lane: decided at once, on the reading thread
        assertThat(ctr.run("/bin/hello; echo rc=$?").output()).contains("rc=0");
        assertThat(threads.get("/bin/hello")).startsWith("fanotify-guard-worker-").doesNotContain(",");
        GuardStats.AnswerTimes once = guard.stats().answerTimes();
        assertThat(once.decidedAtOnce()).isEqualTo(1);

        // when it is exec'd again while a slow decision of its lane is running
        threads.clear();
        Process slow = ctr.start("exec /bin/denied");
        assertThat(slowStarted.await(10, TimeUnit.SECONDS)).isTrue();
        OverlayContainer.Run run = ctr.run("/bin/hello; echo hello-rc=$?");
        assertThat(slow.waitFor(10, TimeUnit.SECONDS)).isTrue();
        OverlayContainer.closeStreams(slow);

        // then it waits for its turn in the lane and is decided there, by decide
        assertThat(run.output()).contains("hello-rc=0");
        assertThat(threads.get("/bin/denied")).startsWith("fanotify-guard-decider-");
        assertThat(threads.get("/bin/hello")).startsWith("fanotify-guard-decider-");
        assertThat(guard.stats().answerTimes().decidedAtOnce()).isEqualTo(1);
        assertThat(guard.stats().defaulted()).isEmpty();
    }

    /**
     * Decides everything at once: allows, except {@code /bin/denied}, which it denies and reports (with the details
     * read for the report) the way {@link BlockingDecider} does.
     */
    private static ExecPermissionDecider allowingAtOnceButDenied(List<ExecEvent> allowedOn, List<ExecEvent> reported,
                                                                 AtomicInteger deniedDecisions) {
        return new ExecPermissionDecider() {
            @Override
            public PermissionDecision decide(ExecPermissionRequest req) {
                return decideAtOnce(req).orElseThrow();
            }

            @Override
            public java.util.Optional<PermissionDecision> decideAtOnce(ExecPermissionRequest req) {
                if (!req.event().filename().equals("/bin/denied")) {
                    allowedOn.add(req.event());
                    return java.util.Optional.of(PermissionDecision.ALLOW);
                }
                deniedDecisions.incrementAndGet();
                ExecEvent details = req.reportedEvent();
                if (req.pending().answer(PermissionDecision.DENY) == PermissionDecision.DENY) {
                    reported.add(details);
                }
                return java.util.Optional.of(PermissionDecision.DENY);
            }
        };
    }

    @Test
    void anExecOfAnOverlayWhoseExecsWerePlacedBeforeIsAllowedBeforeItsProcessIsReadAndADenialStillWaitsForTheRead()
            throws Exception {
        // given a guard whose decider decides at once, and the container's first exec (its shell), placed from /proc
        List<ExecEvent> allowedOn = new CopyOnWriteArrayList<>();
        List<ExecEvent> reported = new CopyOnWriteArrayList<>();
        AtomicInteger deniedDecisions = new AtomicInteger();
        startGuard(GuardConfig.defaults(), allowingAtOnceButDenied(allowedOn, reported, deniedDecisions));

        // when the container execs two allowed programs and a denied one
        OverlayContainer.Run run = ctr.run("/bin/hello; /bin/hello; /bin/denied; echo denied-rc=$?");

        // then the allowed ones were answered from the file's overlay before any /proc read of their process
        assertThat(run.output()).contains("denied-rc=126");
        GuardStats s = guard.stats();
        assertThat(s.placements().decidedBeforeProc()).as("%s", s).isGreaterThanOrEqualTo(2);
        assertThat(s.placements().mismatched()).isZero();
        List<ExecEvent> hellos = allowedOn.stream().filter(e -> e.filename().equals("/bin/hello")).toList();
        assertThat(hellos).hasSize(2);
        // and the denial was decided on the placement read from /proc (once held back on the guess, then decided
        // again), answered DENY once and reported once, in the same container as the allowed ones
        awaitReport(reported);
        assertThat(reported).hasSize(1);
        assertThat(deniedDecisions.get()).isEqualTo(2);
        ExecEvent report = reported.get(0);
        assertThat(report.mountNsId()).isNotZero().isEqualTo(hellos.get(0).mountNsId());
        assertThat(report.cgroupId()).isEqualTo(hellos.get(0).cgroupId());
        assertThat(report.startTimeNs()).isPositive();
        assertThat(s.denied()).isEqualTo(1);
        assertThat(s.defaulted()).isEmpty();
    }

    @Test
    void anExecFromOutsideTheContainerOfAFileOnItsOverlayIsCountedAsMismatchedAndTheOverlayIsPlacedFromProcFirstAfter()
            throws Exception {
        List<ExecEvent> allowedOn = new CopyOnWriteArrayList<>();
        startGuard(GuardConfig.defaults(), allowingAtOnceButDenied(allowedOn, new CopyOnWriteArrayList<>(),
                new AtomicInteger()));
        // given the overlay's execs placed in the container (its own mount namespace)
        assertThat(ctr.run("/bin/hello; echo rc=$?").output()).contains("rc=0");
        long fromFileBefore = guard.stats().placements().decidedBeforeProc();
        assertThat(fromFileBefore).isPositive();

        // when a host process (the host's mount namespace) execs a file of that overlay through its host path
        Process host = new ProcessBuilder(ctr.merged().resolve("bin/busybox").toString(), "sleep", "1").start();
        assertThat(host.waitFor(10, TimeUnit.SECONDS)).isTrue();
        OverlayContainer.closeStreams(host);

        // then it was allowed on the guess, read after the answer, found elsewhere, counted
        assertThat(host.exitValue()).isZero();
        assertThat(guard.stats().placements().mismatched()).isEqualTo(1);
        long fromFileAfterMismatch = guard.stats().placements().decidedBeforeProc();
        // and from then on the overlay's execs wait for their process's placement again
        assertThat(ctr.run("/bin/hello; echo rc=$?").output()).contains("rc=0");
        assertThat(guard.stats().placements().decidedBeforeProc()).isEqualTo(fromFileAfterMismatch);
        assertThat(guard.stats().defaulted()).isEmpty();
    }

    /** Answers ALLOW_UNTIL_MODIFIED to everything and counts the requests for {@code filename}. */
    private static ExecPermissionDecider allowingUntilModifiedCounting(String filename, AtomicInteger asked) {
        return req -> {
            if (req.event().filename().equals(filename)) {
                asked.incrementAndGet();
            }
            return PermissionDecision.ALLOW_UNTIL_MODIFIED;
        };
    }

    @Test
    void anImageFileAllowedUntilModifiedRunsAgainWithoutAPermissionEvent() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        startGuard(GuardConfig.defaults(), allowingUntilModifiedCounting("/bin/remembered", asked));

        OverlayContainer.Run run = ctr.run("/bin/remembered; /bin/remembered; /bin/remembered; echo rc=$?");

        assertThat(run.output()).contains("rc=0");
        assertThat(asked).as("decided once, then remembered by the kernel").hasValue(1);
        assertThat(guard.stats().remembered()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void writingARememberedFileInPlaceMakesItsNextExecAskAgainAndADenialHolds() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        startGuard(GuardConfig.defaults(), req -> {
            if (!req.event().filename().equals("/bin/rewritten")) {
                return PermissionDecision.ALLOW_UNTIL_MODIFIED;
            }
            // the first time it is the image's file; afterwards the decider would classify it MODIFIED
            return asked.incrementAndGet() == 1 ? PermissionDecision.ALLOW_UNTIL_MODIFIED : PermissionDecision.DENY;
        });

        // dd conv=notrunc: a plain write(2) into the existing file, no truncate, no new inode
        OverlayContainer.Run run = ctr.run("/bin/rewritten; echo first-rc=$?; cat /bin/rewritten > /bin/same; "
                + "busybox dd if=/bin/same of=/bin/rewritten conv=notrunc ; /bin/rewritten; echo second-rc=$?");

        assertThat(run.output()).contains("first-rc=0").contains("Operation not permitted").contains("second-rc=126");
        assertThat(asked).hasValue(2);
    }

    @Test
    void writingARememberedFileThroughAHardLinkMakesItsNextExecAskAgain() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        startGuard(GuardConfig.defaults(), req -> {
            if (!req.event().filename().equals("/bin/linked")) {
                return PermissionDecision.ALLOW_UNTIL_MODIFIED;
            }
            return asked.incrementAndGet() == 1 ? PermissionDecision.ALLOW_UNTIL_MODIFIED : PermissionDecision.DENY;
        });

        // the link copies the file up; the write goes through the other name, to the same upper inode
        OverlayContainer.Run run = ctr.run("/bin/linked; echo first-rc=$?; busybox ln /bin/linked /bin/alias; "
                + "cat /bin/linked > /bin/same-bytes; busybox dd if=/bin/same-bytes of=/bin/alias conv=notrunc; "
                + "/bin/linked; echo second-rc=$?");

        assertThat(run.output()).contains("first-rc=0").contains("second-rc=126");
        assertThat(asked).hasValue(2);
    }

    @Test
    void aChangeThroughASharedWritableMappingIsNotSeenByTheKernelsModifyEventTheDocumentedLimit() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        startGuard(GuardConfig.defaults(), allowingUntilModifiedCounting("/bin/mapped", asked));

        OverlayContainer.Run run = ctr.run("/bin/mapped; /bin/mmap-rewrite /bin/mapped; echo mmap-rc=$?; /bin/mapped; echo rc=$?");

        assertThat(run.output()).contains("mmap-rc=0").contains("rc=0");
        // the limit named in docs/exec-capture-fanotify.md: the remembered allowance survives an mmap write
        assertThat(asked).as("asked once: the mapping's write cleared nothing").hasValue(1);
    }

    @Test
    void aFileCreatedInTheContainerIsNeverRemembered() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        startGuard(GuardConfig.defaults(), allowingUntilModifiedCounting("/bin/dropped", asked));

        OverlayContainer.Run run = ctr.run("cp /bin/hello /bin/dropped; /bin/dropped; /bin/dropped; echo rc=$?");

        assertThat(run.output()).contains("rc=0");
        assertThat(asked).as("an upper-layer file is asked about at every exec").hasValue(2);
        assertThat(guard.stats().notRemembered()).containsEntry("not_image_file", 2L);
    }

    @Test
    void forgettingRememberedAllowancesAsksAgain() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        startGuard(GuardConfig.defaults(), allowingUntilModifiedCounting("/bin/forgotten", asked));
        assertThat(ctr.run("/bin/forgotten; /bin/forgotten; echo rc=$?").output()).contains("rc=0");
        assertThat(asked).hasValue(1);

        guard.forgetRememberedAllowances();
        assertThat(ctr.run("/bin/forgotten; /bin/forgotten; echo rc=$?").output()).contains("rc=0");

        assertThat(asked).hasValue(2);
    }

    @Test
    void throwingDeciderStillAnswersWithTheDefaultAllow() throws Exception {
        startGuard(GuardConfig.defaults(), req -> {
            throw new IllegalStateException("decider bug");
        });

        OverlayContainer.Run run = ctr.run("/bin/hello; echo hello-rc=$?");

        assertThat(run.output()).contains("hello-rc=0");
        assertThat(guard.stats().defaulted().get("decider_error")).isGreaterThanOrEqualTo(2L);
    }

    @Test
    void throwingDeciderWithDefaultDenyBlocksTheExec() throws Exception {
        startGuard(GuardConfig.defaults().withDefaultDecision(PermissionDecision.DENY), req -> {
            if (req.event().filename().equals("/bin/denied")) {
                throw new Error("decider crash");
            }
            return PermissionDecision.ALLOW;
        });

        OverlayContainer.Run run = ctr.run("/bin/denied; echo denied-rc=$?");

        assertThat(run.output()).contains("Operation not permitted").contains("denied-rc=126");
        assertThat(guard.stats().defaulted().get("decider_error")).isEqualTo(1L);
    }

    @Test
    void nullDecisionIsAnsweredWithTheDefault() throws Exception {
        startGuard(GuardConfig.defaults(), req -> null);

        OverlayContainer.Run run = ctr.run("/bin/hello; echo hello-rc=$?");

        assertThat(run.output()).contains("hello-rc=0");
        assertThat(guard.stats().defaulted().get("null_decision")).isGreaterThanOrEqualTo(2L);
    }

    @Test
    void hangingDeciderIsAnsweredAtTheTimeout() throws Exception {
        Duration timeout = Duration.ofMillis(300);
        startGuard(GuardConfig.defaults().withDecisionTimeout(timeout), req -> {
            if (req.event().filename().equals("/bin/hello")) {
                Thread.sleep(60_000);
            }
            return PermissionDecision.ALLOW;
        });

        long t0 = System.nanoTime();
        OverlayContainer.Run run = ctr.run("/bin/hello; echo hello-rc=$?");
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        assertThat(run.output()).contains("hello-rc=0");
        assertThat(elapsedMs).isGreaterThanOrEqualTo(timeout.toMillis()).isLessThan(10_000);
        assertThat(guard.stats().defaulted().get("timeout")).isEqualTo(1L);
    }

    /** A decider whose lanes are the file names: each file is decided in its own lane. */
    private abstract static class LanedByFile implements ExecPermissionDecider {
        @Override
        public Object laneOf(ExecPermissionRequest request) {
            return request.event().filename();
        }
    }

    @Test
    void whenEveryReadingWorkerIsStuckInALaneLookupThatIgnoresInterruptsTheQueueIsStillAnswered() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        GuardConfig oneWorker = new GuardConfig(Duration.ofMillis(300), PermissionDecision.ALLOW, 1, 1, Path.of("/proc"));
        startGuard(oneWorker, new ExecPermissionDecider() {
            @Override
            public PermissionDecision decide(ExecPermissionRequest request) {
                return PermissionDecision.ALLOW;
            }

            @Override
            public Object laneOf(ExecPermissionRequest req) {
                if (req.event().filename().equals("/bin/hello")) {
                    while (release.getCount() > 0) {
                        try {
                            release.await();
                        } catch (InterruptedException ignored) {
                            // a badly written decider
                        }
                    }
                }
                return "one";
            }
        });
        try {
            long t0 = System.nanoTime();
            OverlayContainer.Run stuck = ctr.run("/bin/hello; echo hello-rc=$?");
            OverlayContainer.Run after = ctr.run("/bin/true; echo true-rc=$?");
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

            assertThat(stuck.output()).contains("hello-rc=0");
            assertThat(after.output()).contains("true-rc=0");
            assertThat(elapsedMs).isLessThan(10_000);
            assertThat(guard.stats().defaulted()).containsKey("timeout").containsKey("overloaded");
        } finally {
            release.countDown();
        }
    }

    @Test
    void aDeciderThatHangsAndIgnoresInterruptsHoldsOnlyItsOwnLaneAndOtherLanesAreDecidedAtOnce() throws Exception {
        // given a decider that never returns for /bin/hello (and ignores interrupts), each file in its own lane
        CountDownLatch release = new CountDownLatch(1);
        startGuard(GuardConfig.defaults().withDecisionTimeout(Duration.ofMillis(300)), new LanedByFile() {
            @Override
            public PermissionDecision decide(ExecPermissionRequest req) {
                if (req.event().filename().equals("/bin/hello")) {
                    while (release.getCount() > 0) {
                        try {
                            release.await();
                        } catch (InterruptedException ignored) {
                            // a badly written decider
                        }
                    }
                }
                return PermissionDecision.ALLOW;
            }
        });
        try {
            Process stuck = ctr.start("/bin/hello; echo hello-rc=$?");
            Thread.sleep(100); // /bin/hello is being decided
            // when another file is exec'd while the hung decision holds its lane
            long t0 = System.nanoTime();
            OverlayContainer.Run other = ctr.run("/bin/denied; echo other-rc=$?");
            long otherMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

            // then it is decided by the decider, not at the deadline
            assertThat(other.output()).contains("other-rc=0");
            assertThat(otherMs).as("the other lane waited for nothing").isLessThan(300);
            assertThat(stuck.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(stuck.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains("hello-rc=0");
            assertThat(guard.stats().defaulted()).containsOnlyKeys("timeout").containsEntry("timeout", 1L);
        } finally {
            release.countDown();
        }
    }

    @Test
    void theDecidersAnswerForALateDecisionReplacesTheDefaultAndAFinishedLateDecisionIsCounted() throws Exception {
        // given the guard's default is allow, and the decider says "deny if late" before its slow part
        CountDownLatch decided = new CountDownLatch(1);
        AtomicInteger told = new AtomicInteger(-1);
        startGuard(GuardConfig.defaults().withDecisionTimeout(Duration.ofMillis(200)), new LanedByFile() {
            @Override
            public PermissionDecision decide(ExecPermissionRequest req) throws Exception {
                if (!req.event().filename().equals("/bin/denied")) {
                    return PermissionDecision.ALLOW;
                }
                req.pending().answerOnTimeout(PermissionDecision.DENY, "rule 'test'");
                Thread.sleep(700); // a big file being hashed
                told.set(req.pending().answer(PermissionDecision.DENY).ordinal());
                decided.countDown();
                return PermissionDecision.DENY;
            }
        });

        // when
        long t0 = System.nanoTime();
        OverlayContainer.Run run = ctr.run("/bin/denied; echo denied-rc=$?");
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

        // then denied at the deadline, not after the slow part
        assertThat(run.output()).contains("Operation not permitted").contains("denied-rc=126");
        assertThat(elapsedMs).isLessThan(650);
        assertThat(decided.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(told).as("the late decision learns what the exec was told").hasValue(PermissionDecision.DENY.ordinal());
        for (int i = 0; i < 100 && guard.stats().lateDecisions() == 0; i++) {
            Thread.sleep(10); // the guard counts right after the decider returns
        }
        GuardStats s = guard.stats();
        assertThat(s.defaulted()).containsEntry("timeout", 1L);
        assertThat(s.defaultedDenied()).containsEntry("timeout", 1L);
        assertThat(s.lateDecisions()).isEqualTo(1);
        assertThat(s.overruled()).isZero();
    }

    @Test
    void anExecAnsweredAtItsDeadlineBeforeItsTurnInTheLaneIsNotDecidedAndADeniedOneIsHandedBackToReport()
            throws Exception {
        // given one lane for everything, a decision of /bin/hello that takes 1 s, a default of deny
        List<String> decided = new CopyOnWriteArrayList<>();
        List<String> undecided = new CopyOnWriteArrayList<>();
        startGuard(GuardConfig.defaults().withDecisionTimeout(Duration.ofMillis(200))
                .withDefaultDecision(PermissionDecision.DENY), new ExecPermissionDecider() {
            @Override
            public PermissionDecision decide(ExecPermissionRequest req) throws Exception {
                decided.add(req.event().tgid() + " " + req.event().filename());
                if (req.event().filename().equals("/bin/hello")) {
                    Thread.sleep(1000);
                }
                return PermissionDecision.ALLOW;
            }

            @Override
            public Object laneOf(ExecPermissionRequest request) {
                return "one";
            }

            @Override
            public void deniedWithoutDecision(ExecPermissionRequest req, String reason) {
                undecided.add(req.event().tgid() + " " + req.event().filename() + " " + reason);
            }
        });
        Process slow = ctr.start("/bin/hello; echo hello-rc=$?");
        Thread.sleep(300); // /bin/hello holds the lane (its own exec is denied at its deadline)

        // when another exec of the same lane (the shell of the next run) waits past its deadline
        // then it is denied at its deadline, never decided, and handed back to be reported
        assertThatThrownBy(() -> ctr.run("echo ran")).hasMessageContaining("Operation not permitted");
        assertThat(slow.waitFor(10, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < 500 && undecided.isEmpty(); i++) {
            Thread.sleep(10); // until the lane's turn comes: after the 1 s decision
        }
        assertThat(guard.stats().skipped()).isEqualTo(1);
        assertThat(undecided).singleElement().satisfies(u -> assertThat(u).endsWith(" timeout"));
        assertThat(decided).as("decided: %s", decided).noneMatch(d -> d.equals(undecided.get(0).replace(" timeout", "")));
    }

    @Test
    void closeAnswersPendingEventsBeforeClosing() throws Exception {
        CountDownLatch asked = new CountDownLatch(1);
        startGuard(GuardConfig.defaults().withDecisionTimeout(Duration.ofSeconds(10)), req -> {
            if (req.event().filename().equals("/bin/hello")) {
                asked.countDown();
                new CountDownLatch(1).await();
            }
            return PermissionDecision.ALLOW;
        });
        Process p = ctr.start("/bin/hello; echo hello-rc=$?");
        assertThat(asked.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(guard.pendingCount()).isEqualTo(1);

        long t0 = System.nanoTime();
        guard.close();

        assertThat(p.waitFor(5, TimeUnit.SECONDS)).as("the exec was released by close()").isTrue();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(5000);
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains("hello-rc=0");
        assertThat(guard.stats().defaulted().get("shutdown")).isEqualTo(1L);
        assertThat(guard.guarded()).isEmpty();
    }

    @Test
    void guardRefusesThePathsOfTheHostRootMount() throws Exception {
        guard = new FanotifyExecGuard(GuardConfig.defaults(), Clock.systemUTC());
        guard.start(req -> PermissionDecision.ALLOW);

        assertThatThrownBy(() -> guard.guard(work)).isInstanceOf(IOException.class).hasMessageContaining("host root mount");
        assertThat(guard.guarded()).isEmpty();
    }

    @Test
    void closeLeavesNoFileDescriptorsBehind() throws Exception {
        List<String> relatedBefore = KernelTestSupport.fanotifyRelatedFds(ctr.dir());
        int before = KernelTestSupport.openFdCount();
        FanotifyExecGuard g = new FanotifyExecGuard(GuardConfig.defaults(), Clock.systemUTC());
        g.start(req -> PermissionDecision.ALLOW);
        g.guard(ctr.merged());
        OverlayContainer.Run run = ctr.run("/bin/hello; echo hello-rc=$?");
        assertThat(run.output()).contains("hello-rc=0");

        g.close();

        assertThat(KernelTestSupport.fanotifyRelatedFds(ctr.dir())).isEqualTo(relatedBefore);
        assertThat(KernelTestSupport.openFdCount()).isLessThanOrEqualTo(before);
        assertThat(g.guarded()).isEmpty();
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .noneMatch(n -> n.startsWith("fanotify-guard"));
    }

    /** The decider adds its report after its answer reached the kernel: the shell may print its rc before that. */
    private static void awaitReport(List<ExecEvent> reported) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (reported.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }
}
