package io.driftagent.agent.source.ebpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.FileId;
import io.driftagent.agent.source.ExecEvent.Flags;
import io.driftagent.agent.source.fixture.OverlayContainer;
import io.driftagent.agent.source.fixture.RecordingSink;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Start/close against the real kernel: what is attached, what is left after close, how refusals are counted. */
@Tag(TestTiers.KERNEL)
class EbpfExecSourceLifecycleKernelTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Pattern ID = Pattern.compile("\"(?:id|prog_id)\":(\\d+)");

    @BeforeEach
    void requireKernel() {
        Optional<String> unmet = EbpfPrerequisites.ofThisHost().unmetReason();
        assumeTrue(unmet.isEmpty(), () -> "eBPF kernel test skipped: " + unmet.orElse(""));
    }

    @Test
    void closeDetachesTheLinkUnloadsTheProgramAndReleasesEveryFd() throws Exception {
        // given a warmed-up JVM (classes loaded, libbpf bound) and the state before start
        try (EbpfExecSource warmUp = new EbpfExecSource()) {
            warmUp.start(e -> true);
        }
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/bpftool")), "bpftool needed to list links");
        long fdsBefore = openFds();
        Set<String> progsBefore = ids("prog", "show");

        // when started
        EbpfExecSource source = new EbpfExecSource();
        source.start(e -> true);
        Set<String> ours = new HashSet<>(ids("prog", "show"));
        ours.removeAll(progsBefore);
        String linksDuring = bpftool("link", "show");

        // then exactly four programs are loaded and linked: the exec program, the fork program that sends the image
        // execs kept in the kernel, and the library programs (mmap and mprotect: bpf_find_vma is allowed in a
        // tracepoint program on this kernel)
        assertThat(source.libraryMappingsAttached()).isTrue();
        assertThat(source.libraryMprotectAttached()).isTrue();
        assertThat(ours).hasSize(4);
        for (String id : ours) {
            assertThat(linksDuring).contains("\"prog_id\":" + id);
        }
        assertThat(openFds()).isGreaterThan(fdsBefore);

        // when closed (twice: idempotent)
        source.close();
        source.close();

        // then our fds are closed at once; the kernel frees link and program after an RCU grace period
        assertThat(openFds()).as("no fd left open (a JVM-internal fd may close meanwhile)").isLessThanOrEqualTo(fdsBefore);
        for (String prog : ours) {
            waitUntil(() -> !ids("prog", "show").contains(prog));
            assertThat(bpftool("link", "show")).doesNotContain("\"prog_id\":" + prog);
        }
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("ebpf-exec-reader"));
    }

    @Test
    void withLibraryDriftOffOnlyTheExecProgramIsLoadedAndExecsStillArrive() throws Exception {
        // given the library program turned off
        Set<String> progsBefore = ids("prog", "show");
        RecordingSink sink = new RecordingSink();
        try (EbpfExecSource source = new EbpfExecSource(EbpfExecSource.Config.defaults().withLibraryMappings(false))) {
            source.start(sink);
            Set<String> ours = new HashSet<>(ids("prog", "show"));
            ours.removeAll(progsBefore);

            // when a dynamically linked program runs
            run("/bin/true");
            Thread.sleep(300);

            // then the exec and fork programs only, no library records, the exec delivered, the library counters zero
            assertThat(ours).hasSize(2);
            assertThat(source.libraryMappingsAttached()).isFalse();
            assertThat(sink.matching(e -> true)).anyMatch(e -> e.filename().equals("/bin/true"))
                    .noneMatch(ExecEvent::isLibraryLoad);
            assertThat(source.libraryCounters()).containsOnly(0L);
        }
    }

    @Test
    void statsStayReadableAfterClose() throws Exception {
        EbpfExecSource source = new EbpfExecSource();
        source.start(e -> true);
        run("/bin/true");
        Thread.sleep(300);
        source.close();
        assertThat(source.stats().delivered()).isPositive();
        assertThat(source.kernelExecsSeen()).isGreaterThanOrEqualTo(source.stats().delivered());
        assertThat(source.stats().lost()).containsKeys("ringbuf_full", "queue_full");
    }

    @Test
    void eventsTheSinkRefusesAreCountedAsQueueFull() throws Exception {
        // given a sink that is always full
        try (EbpfExecSource source = new EbpfExecSource()) {
            source.start(e -> false);
            // when
            long pid = run("/bin/true");
            // then
            waitUntil(() -> source.stats().lost().get("queue_full") > 0);
            assertThat(source.stats().delivered()).isZero();
            assertThat(pid).isPositive();
        }
    }

    @Test
    void aSinkThatThrowsLosesOnlyThatEventAndTheReaderGoesOn() throws Exception {
        // given a sink that throws on every other event
        AtomicLong calls = new AtomicLong();
        RecordingSink kept = new RecordingSink();
        try (EbpfExecSource source = new EbpfExecSource()) {
            source.start(e -> {
                if (calls.incrementAndGet() % 2 == 1) {
                    throw new IllegalStateException("sink bug");
                }
                return kept.offer(e);
            });
            // when
            for (int i = 0; i < 6; i++) {
                run("/bin/true");
            }
            // then
            waitUntil(() -> source.stats().lost().get("sink_error") >= 3 && source.stats().delivered() >= 3);
        }
    }

    @Test
    void classicTracepointFallbackGivesTheSameFileFactsAndResolvesScripts() throws Exception {
        String why = OverlayContainer.unavailableReason();
        assumeTrue(why.isEmpty(), () -> "overlay container fixture unavailable: " + why);
        RecordingSink sink = new RecordingSink();
        EbpfExecSource.Config config = new EbpfExecSource.Config(ProgramChoice.TRACEPOINT, 1 << 22,
                Duration.ofMillis(50));
        // libbpf attaches classic tracepoints through tracefs: the source mounts it when the host has not
        try (OverlayContainer container = OverlayContainer.create();
                EbpfExecSource source = new EbpfExecSource(config)) {
            source.start(sink);
            assertThat(source.attachment()).contains(ExecAttachment.TRACEPOINT);
            container.dropScript("/tmp/fallback.sh", "#!/bin/sh\n/bin/true\n");

            // when
            long imagePid = container.exec("/bin/cat", "/dev/null").pid();
            long scriptPid = container.exec("/tmp/fallback.sh").pid();

            // then
            ExecEvent image = sink.await(e -> e.tgid() == imagePid && e.filename().equals("/bin/cat"), WAIT, "cat");
            assertThat(image.file()).isEqualTo(OverlayContainer.fileId(container.host("/bin/cat")));
            assertThat(image.interpreter()).isEqualTo(FileId.NONE);
            assertThat(image.flags()).isEqualTo(new Flags(true, false, false, false));

            ExecEvent script = sink.await(e -> e.tgid() == scriptPid && e.filename().equals("/tmp/fallback.sh"),
                    WAIT, "script");
            assertThat(script.file()).isEqualTo(OverlayContainer.fileId(container.host("/tmp/fallback.sh")));
            assertThat(script.interpreter()).isEqualTo(OverlayContainer.fileId(container.host("/bin/sh")));
            assertThat(script.flags()).isEqualTo(new Flags(true, true, false, false));

            // the script's shell forks /bin/true: the old image (sh) is not mistaken for a script
            ExecEvent child = sink.await(e -> e.ppid() == scriptPid && e.filename().equals("/bin/true"), WAIT, "true");
            assertThat(child.interpreter()).isEqualTo(FileId.NONE);
            assertThat(child.file()).isEqualTo(OverlayContainer.fileId(container.host("/bin/true")));
        }
    }

    @Test
    void onAHostWithoutTracefsTheSourceMountsItAndTheClassicTracepointAttaches() throws Exception {
        // given a host without tracefs (a fresh Debian host has none; unmounted here when an earlier start mounted it)
        if (BpfExecProgram.tracefsMounted()) {
            run("/usr/bin/umount", BpfExecProgram.TRACEFS);
        }
        assertThat(BpfExecProgram.tracefsMounted()).as("tracefs unmounted for the test").isFalse();

        // when the classic tracepoint program (found through tracefs) is asked for
        try (EbpfExecSource source = new EbpfExecSource(new EbpfExecSource.Config(ProgramChoice.TRACEPOINT, 1 << 22,
                Duration.ofMillis(50)))) {
            source.start(e -> true);

            // then the source mounted tracefs and attached
            assertThat(BpfExecProgram.tracefsMounted()).isTrue();
            assertThat(source.attachment()).contains(ExecAttachment.TRACEPOINT);
        }
    }

    @Test
    void aLoneExecAfterAStormIsDeliveredPromptlyOnceTheReaderSleepsAgain() throws Exception {
        assumeTrue(io.driftagent.agent.storm.StormDriver.unavailableReason().isEmpty(),
                () -> "needs the storm driver: " + io.driftagent.agent.storm.StormDriver.unavailableReason());
        // during a storm the program does not wake the reader; after it, the reader must be back to being woken
        // (a lost wakeup would show as a delivery at the 50 ms poll back-stop)
        java.util.concurrent.ConcurrentHashMap<Long, Long> deliveredAt = new java.util.concurrent.ConcurrentHashMap<>();
        try (EbpfExecSource source = new EbpfExecSource()) {
            source.start(e -> {
                deliveredAt.put((long) e.tgid(), System.nanoTime());
                return true;
            });
            java.util.concurrent.atomic.AtomicBoolean sawPolling = new java.util.concurrent.atomic.AtomicBoolean();
            Thread watcher = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    if (source.readerMode().orElseThrow() == ExecReaderLoop.Mode.POLLING) {
                        sawPolling.set(true);
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(500_000);
                }
            });
            watcher.start();
            java.nio.file.Path stormDir = Files.createTempDirectory("drift-ebpf-storm");
            try {
                io.driftagent.agent.storm.StormDriver.compile(stormDir).storm(20_000, 2);
            } finally {
                run("rm", "-rf", stormDir.toString());
            }
            watcher.interrupt();
            watcher.join();
            assertThat(sawPolling).as("the reader drained the storm on its own clock").isTrue();
            Thread.sleep(60);
            assertThat(source.readerMode()).as("idle again: back to being woken").contains(ExecReaderLoop.Mode.SLEEPING);
            long worstMs = 0;
            for (int i = 0; i < 5; i++) {
                Thread.sleep(60); // past the reader's idle drains: it sleeps in poll(2) again
                long t0 = System.nanoTime();
                long pid = run("/bin/true");
                waitUntil(() -> deliveredAt.containsKey(pid));
                worstMs = Math.max(worstMs, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(deliveredAt.get(pid) - t0));
            }
            assertThat(worstMs).as("slowest lone exec, run to delivery").isLessThan(40);
        }
    }

    private static long run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        p.waitFor();
        return p.pid();
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    private static void waitUntil(Condition condition) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.holds()) {
            assertThat(System.nanoTime()).as("condition not met within " + WAIT).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static long openFds() throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static String bpftool(String... args) throws Exception {
        String[] argv = Stream.concat(Stream.of("/usr/sbin/bpftool", "-j"), Stream.of(args)).toArray(String[]::new);
        Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try (var in = p.getInputStream()) {
            String out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            return out;
        }
    }

    /** The ids of the listed objects ("id" for programs). */
    private static Set<String> ids(String... args) throws Exception {
        Set<String> ids = new HashSet<>();
        Matcher m = ID.matcher(bpftool(args));
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids;
    }
}
