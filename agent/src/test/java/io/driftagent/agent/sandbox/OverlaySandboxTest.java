package io.driftagent.agent.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.driftagent.agent.fixture.tier.TestTiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag(TestTiers.KERNEL)
class OverlaySandboxTest {

    @BeforeAll
    static void requireRootAndBusybox() {
        assumeTrue("root".equals(System.getProperty("user.name")), "overlay mounts and cgroups need root");
        assumeTrue(Files.isRegularFile(OverlaySandbox.DEFAULT_BUSYBOX), "busybox-static is not installed");
    }

    @Test
    void aDroppedBinaryLandsInTheUpperLayerWhileImageBinariesStayInTheLowerOne() throws Exception {
        try (OverlaySandbox sandbox = OverlaySandbox.create("t" + ProcessHandle.current().pid(), OverlaySandbox.DEFAULT_BUSYBOX)) {
            OverlaySandbox.ProcessResult result = sandbox.run(
                    "/bin/ls /bin >/dev/null && cp /bin/busybox /tmp/echo && /tmp/echo dropped-ran",
                    Duration.ofSeconds(10));

            assertThat(result.exitCode()).as(result.output()).isZero();
            assertThat(result.output()).contains("dropped-ran");
            assertThat(sandbox.upperDir().resolve("tmp/echo")).isRegularFile();
            assertThat(sandbox.upperDir().resolve("bin/busybox")).doesNotExist();
            assertThat(sandbox.overlayRoot().mount().fsType()).isEqualTo("overlay");
            assertThat(sandbox.cgroupId()).isPositive();
        }
    }

    @Test
    void closeUnmountsAndRemovesEverything() throws Exception {
        OverlaySandbox sandbox = OverlaySandbox.create("c" + ProcessHandle.current().pid(), OverlaySandbox.DEFAULT_BUSYBOX);
        Path merged = sandbox.mergedDir();
        Path cgroup = sandbox.cgroupDir();

        sandbox.close();

        assertThat(merged).doesNotExist();
        assertThat(cgroup).doesNotExist();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(merged.toString());
    }
}
