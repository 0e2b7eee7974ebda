package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.ContainerdHost;
import io.driftagent.agent.fixture.tier.TestTiers;
import io.driftagent.agent.provenance.OriginUnknown;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * drift.origin in the whole agent's alerts (standalone, real containerd containers, host network): the process that
 * wrote a dropped file, its command line, and for a download over loopback the server's address; a file written
 * before the agent started carries the documented reason.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Tag(TestTiers.E2E)
class WriteOriginEndToEndTest {

    private static final String IMAGE = "docker.io/drift-e2e/busybox:orig";
    private static final Duration ALERT_WAIT = Duration.ofSeconds(20);

    private final String target = "orig-" + ThreadLocalRandom.current().nextInt(1_000_000);
    /** The download test's server port, free on the host's loopback (the container shares the host's network). */
    private final int port = freeLoopbackPort();

    private ContainerdStage stage;
    private ContainerdHost containerd;
    private RunningAgent agent;

    /**
     * A port the kernel just gave out as free, so neither another listener nor an ephemeral port of a connection has
     * it (a random pick collided with one: "Address already in use").
     */
    private static int freeLoopbackPort() {
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("no free loopback port", e);
        }
    }

    /** The exec source under test. */
    String source() {
        return "ebpf";
    }

    /** Whether the source tracks writes (the fanotify source does not: its alerts say so). */
    boolean tracksWrites() {
        return true;
    }

    @BeforeAll
    void startAContainerWriteAFileThenStartTheAgent() throws Exception {
        stage = ContainerdStage.prepare("drift-e2e-orig");
        containerd = stage.containerd();
        containerd.importBusybox(stage.work(), IMAGE);
        containerd.run(IMAGE, target, "--net-host");
        // written before the agent starts: no writer can be known
        containerd.exec(target, "/bin/cp /bin/busybox /tmp/pre && chmod +x /tmp/pre");

        agent = stage.startAgent(source());
    }

    @AfterAll
    void stopEverything() {
        if (stage != null) {
            stage.close();
        }
    }

    @Test
    void aFileWrittenByCatThroughAShellRedirectionNamesCatAsItsWriter() throws Exception {
        // given the shell opens /tmp/w (ash redirects in the shell itself), then forks and execs cat, which writes it
        // through the inherited stdout (cat by its path: busybox's shell runs a bare "cat" without an exec, and the
        // shell is then, truly, the writer)
        containerd.exec(target, "/bin/cat /bin/busybox > /tmp/w; chmod +x /tmp/w; /tmp/w true; true");

        // then the writer is named by its latest image: cat (busybox's applet), with cat's command line
        JsonNode origin = originOf("/tmp/w");
        if (!tracksWrites()) {
            assertUntracked(origin);
            return;
        }
        assertThat(origin.path("reason").isNull()).as(origin.toString()).isTrue();
        assertThat(origin.path("exe").asString()).as(origin.toString()).isIn("/bin/cat", "/bin/busybox");
        assertThat(AlertLog.strings(origin.path("cmdline"))).as(origin.toString()).containsExactly("/bin/cat", "/bin/busybox");
        assertThat(origin.path("pid").asInt()).as(origin.toString()).isPositive();
        assertThat(origin.path("time").asString()).as(origin.toString()).isNotEmpty();
        assertThat(origin.path("remote").isNull()).as(origin.toString()).isTrue();
    }

    @Test
    void aFileCopiedByCpNamesCp() throws Exception {
        // given a copy by the cp program (exec'd by its path: busybox's shell runs a bare "cp" without an exec); the
        // drop runs under its own name, which busybox does not know (it exits 127: the exec happened)
        containerd.exec(target, "/bin/cp /bin/busybox /tmp/c && /tmp/c true; true");

        JsonNode origin = originOf("/tmp/c");
        if (!tracksWrites()) {
            assertUntracked(origin);
            return;
        }
        assertThat(origin.path("exe").asString()).as(origin.toString()).isEqualTo("/bin/busybox");
        assertThat(AlertLog.strings(origin.path("cmdline"))).as(origin.toString())
                .containsExactly("/bin/cp", "/bin/busybox", "/tmp/c");
    }

    @Test
    void anImageBinaryOverwrittenInPlaceIsModifiedAndNamesItsWriter() throws Exception {
        // given the image's /usr/bin/tool replaced with other content (copied up to the writable layer at the open)
        containerd.exec(target, "/bin/cat /bin/busybox /bin/busybox > /usr/bin/tool && /usr/bin/tool true; true");

        JsonNode origin = originOf("/usr/bin/tool", "MODIFIED");
        if (!tracksWrites()) {
            assertUntracked(origin);
            return;
        }
        assertThat(AlertLog.strings(origin.path("cmdline"))).as(origin.toString())
                .containsExactly("/bin/cat", "/bin/busybox", "/bin/busybox");
    }

    @Test
    void aRenamedFileIsStillFoundByItsInode() throws Exception {
        // given a file written under one name and run under another
        containerd.exec(target, "/bin/cp /bin/busybox /tmp/r1 && /bin/busybox mv /tmp/r1 /tmp/r2 && /tmp/r2 true; true");

        JsonNode origin = originOf("/tmp/r2");
        if (!tracksWrites()) {
            assertUntracked(origin);
            return;
        }
        assertThat(AlertLog.strings(origin.path("cmdline"))).as(origin.toString())
                .containsExactly("/bin/cp", "/bin/busybox", "/tmp/r1");
    }

    @Test
    void aDownloadOverLoopbackNamesTheDownloaderAndTheServer() throws Exception {
        // given an HTTP server on loopback serving a binary, and wget fetching it into the container's /tmp
        containerd.exec(target, "mkdir -p /www && /bin/cp /bin/busybox /www/x && /bin/busybox httpd -p 127.0.0.1:"
                + port + " -h /www");
        String url = "http://127.0.0.1:" + port + "/x";
        containerd.exec(target, "/bin/busybox wget -q -O /tmp/d " + url + " && chmod +x /tmp/d && /tmp/d true; true");

        JsonNode origin = originOf("/tmp/d");
        if (!tracksWrites()) {
            assertUntracked(origin);
            return;
        }
        assertThat(AlertLog.strings(origin.path("cmdline"))).as(origin.toString())
                .containsExactly("/bin/busybox", "wget", "-q", "-O", "/tmp/d", url);
        assertThat(origin.path("remote").asString()).as(origin.toString()).isEqualTo("127.0.0.1:" + port);
    }

    @Test
    void aFileWrittenBeforeTheAgentStartedHasTheDocumentedReason() throws Exception {
        containerd.exec(target, "/tmp/pre true; true");

        JsonNode origin = originOf("/tmp/pre");
        if (!tracksWrites()) {
            assertUntracked(origin);
            return;
        }
        assertThat(origin.path("reason").asString()).as(origin.toString()).isEqualTo(OriginUnknown.NOT_SEEN.reason());
        assertThat(origin.path("pid").isNull()).as(origin.toString()).isTrue();
        assertThat(origin.path("cmdline").size()).as(origin.toString()).isZero();
    }

    @Test
    void theMetricsSayWhetherWritesAreTrackedHowManyWritersAreKeptAndThatNoneWasLost() throws Exception {
        containerd.exec(target, "/bin/cp /bin/busybox /tmp/m && /tmp/m true; true");
        originOf("/tmp/m");

        String metrics = agent.get("/metrics").body();

        assertThat(metrics).contains("drift_origin_active " + (tracksWrites() ? "1.0" : "0.0"));
        double kept = metricValue(metrics, "drift_origin_files");
        if (tracksWrites()) {
            assertThat(kept).as(metrics).isPositive();
        } else {
            assertThat(kept).isZero();
        }
        assertThat(metricValue(metrics, "drift_origin_lost_total")).as(metrics).isZero();
        assertThat(metricValue(metrics, "drift_origin_evicted_total")).as(metrics).isZero();
    }

    private static double metricValue(String metrics, String series) {
        return metrics.lines().filter(l -> l.startsWith(series + " ")).findFirst()
                .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim()))
                .orElseThrow(() -> new AssertionError(series + " not in:\n" + metrics));
    }

    private static void assertUntracked(JsonNode origin) {
        assertThat(origin.path("reason").asString()).as(origin.toString()).isEqualTo(OriginUnknown.FANOTIFY.reason());
        assertThat(origin.path("pid").isNull()).as(origin.toString()).isTrue();
        assertThat(origin.path("exe").isNull()).as(origin.toString()).isTrue();
    }

    private JsonNode originOf(String path) throws Exception {
        return originOf(path, "ADDED");
    }

    private JsonNode originOf(String path, String kind) throws Exception {
        JsonNode alert = stage.awaitAlert(target, path, ALERT_WAIT);
        assertThat(alert.path("drift").path("kind").asString()).as(alert.toString()).isEqualTo(kind);
        assertThat(alert.path("drift").has("origin")).as(alert.toString()).isTrue();
        return alert.path("drift").path("origin");
    }

}
