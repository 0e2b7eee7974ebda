package io.driftagent.agent.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class OverlayPlacementsTest {

    private static final long DEV = 0x2a;
    private static final Object OVERLAY = List.of("/run/containerd/a/rootfs", "/snapshots/7/fs");
    private static final Object NEXT_OVERLAY_ON_THE_SAME_DEV = List.of("/run/containerd/b/rootfs", "/snapshots/9/fs");

    @Test
    void aPlacementReadFromProcIsKnownForTheSameOverlayAndConfirmedByTheSamePlacement() {
        OverlayPlacements placements = new OverlayPlacements();

        assertThat(placements.known(DEV, OVERLAY)).isNull();
        assertThat(placements.learn(DEV, OVERLAY, 11, 22)).isEqualTo(OverlayPlacements.Outcome.LEARNED);

        assertThat(placements.known(DEV, List.of("/run/containerd/a/rootfs", "/snapshots/7/fs")))
                .isEqualTo(new OverlayPlacements.Placement(OVERLAY, 11, 22));
        assertThat(placements.learn(DEV, OVERLAY, 11, 22)).isEqualTo(OverlayPlacements.Outcome.CONFIRMED);
    }

    @Test
    void aSecondPlacementForOneOverlayMakesItContestedUntilAnotherOverlayGetsItsDevice() {
        OverlayPlacements placements = new OverlayPlacements();
        placements.learn(DEV, OVERLAY, 11, 22);

        // a process of another mount namespace execs from the same overlay
        assertThat(placements.learn(DEV, OVERLAY, 11, 33)).isEqualTo(OverlayPlacements.Outcome.CONTESTED);

        assertThat(placements.known(DEV, OVERLAY)).isNull();
        assertThat(placements.learn(DEV, OVERLAY, 11, 22)).isEqualTo(OverlayPlacements.Outcome.CONTESTED);
        assertThat(placements.known(DEV, OVERLAY)).isNull();
        // the device given to a new container's overlay is learned afresh
        assertThat(placements.learn(DEV, NEXT_OVERLAY_ON_THE_SAME_DEV, 44, 55))
                .isEqualTo(OverlayPlacements.Outcome.LEARNED);
        assertThat(placements.known(DEV, NEXT_OVERLAY_ON_THE_SAME_DEV))
                .isEqualTo(new OverlayPlacements.Placement(NEXT_OVERLAY_ON_THE_SAME_DEV, 44, 55));
    }

    @Test
    void aReusedDeviceIsNotTakenForTheOverlayThatHadItBefore() {
        OverlayPlacements placements = new OverlayPlacements();
        placements.learn(DEV, OVERLAY, 11, 22);

        assertThat(placements.known(DEV, NEXT_OVERLAY_ON_THE_SAME_DEV)).isNull();
        assertThat(placements.known(DEV, null)).as("a device no known overlay has").isNull();
    }

    @Test
    void anUnknownPlacementOrOverlayTeachesNothing() {
        OverlayPlacements placements = new OverlayPlacements();

        assertThat(placements.learn(DEV, OVERLAY, 0, 22)).isEqualTo(OverlayPlacements.Outcome.IGNORED);
        assertThat(placements.learn(DEV, OVERLAY, 11, 0)).isEqualTo(OverlayPlacements.Outcome.IGNORED);
        assertThat(placements.learn(DEV, null, 11, 22)).isEqualTo(OverlayPlacements.Outcome.IGNORED);
        assertThat(placements.size()).isZero();
    }

    @Test
    void pastItsBoundEverythingIsForgottenAndLearnedAgain() {
        OverlayPlacements placements = new OverlayPlacements();
        for (long dev = 1; dev <= OverlayPlacements.MAX_OVERLAYS; dev++) {
            placements.learn(dev, OVERLAY, 11, 22);
        }
        assertThat(placements.size()).isEqualTo(OverlayPlacements.MAX_OVERLAYS);

        placements.learn(OverlayPlacements.MAX_OVERLAYS + 1L, OVERLAY, 11, 22);

        assertThat(placements.size()).isEqualTo(1);
    }
}
