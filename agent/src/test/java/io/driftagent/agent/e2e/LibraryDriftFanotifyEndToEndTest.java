package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.tier.TestTiers;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The fanotify source and library drift (docs/alerts.md, "Library drift"): it sees execs only, so a dropped library
 * loaded into an image binary is not alerted at all (never as a wrong kind or a BinaryDrift of the library), while a
 * dropped binary executed right after is. The eBPF tests of the superclass are not run here (overridden without
 * {@code @Test}): they state what this source does not see.
 */
@Tag(TestTiers.E2E)
class LibraryDriftFanotifyEndToEndTest extends LibraryDriftEndToEndTest {

    @Override
    String source() {
        return "fanotify";
    }

    @Test
    void aPreloadedOrDlopenedDroppedLibraryIsNotSeenWhileADroppedBinaryIs() throws Exception {
        // given a dropped library preloaded and dlopen()ed, then a dropped binary executed
        containerd().exec(target(), "cp /helpers/evil.so /tmp/fa-evil.so && LD_PRELOAD=/tmp/fa-evil.so /usr/bin/app");
        containerd().exec(target(), "/usr/bin/loader /tmp/fa-evil.so");
        containerd().exec(target(), "cp /bin/busybox /tmp/fa-tool && /tmp/fa-tool true; true");

        // then the binary is alerted, the library never
        JsonNode binary = awaitAlert("/tmp/fa-tool");
        assertThat(binary.path("alertType").asString()).isEqualTo("BinaryDrift");
        Thread.sleep(500);
        assertThat(alertLog().alerts()).as("no alert for the library: %s", alertLog())
                .noneMatch(AlertLog.forPath(target(), "/tmp/fa-evil.so"))
                .noneMatch(a -> "LibraryDrift".equals(a.path("alertType").asString()));
    }

    @Override
    void aDroppedLibraryPreloadedIntoAnImageBinaryIsLibraryDriftAddedWithTheImageBinaryAsExe() {
    }

    @Override
    void aDroppedLibraryAnImageProgramDlopensIsLibraryDrift() {
    }

    @Override
    void theImagesOwnLibrariesThatEveryExecMapsAreNeverAlerted() {
    }

    @Override
    void aRuleForLibraryLoadsAllowsTheVettedLibraryButNotTheSameNameExecuted() {
    }

    @Override
    void aLibraryTheKernelRefusesToMapFromANoexecMountIsNotAlertedButTheSameFileFromAnExecMountIs() {
    }

    @Override
    void aDroppedFileMappedReadableThenMadeExecutableByMprotectIsLibraryDrift() {
    }
}
