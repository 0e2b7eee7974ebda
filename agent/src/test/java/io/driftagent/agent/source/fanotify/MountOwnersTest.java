package io.driftagent.agent.source.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MountOwnersTest {

    private final MountOwners owners = new MountOwners();

    @Test
    void anExitedProcessGetsTheCgroupAndMountNamespaceOfTheContainerWhoseMountItsFileWasOpenedThrough() {
        // given a container's volume mount learned from one of its live processes
        owners.learn(812, new MountOwners.Owner(4242, 4026532999L));

        // when the exec of a process already gone comes through that mount
        ProcessFacts facts = owners.completed(77, ProcessFacts.unknown(77), 812);

        // then its container is known, what only the process could tell stays unknown
        assertThat(facts.cgroupId()).isEqualTo(4242);
        assertThat(facts.mountNsId()).isEqualTo(4026532999L);
        assertThat(facts.tgid()).isEqualTo(77);
        assertThat(facts.ppid()).isZero();
        assertThat(facts.uid()).isEqualTo(-1);
        assertThat(facts.known()).isFalse();
    }

    @Test
    void aContainersMountIsOneOfItsNamespaceUntilTheHostTableShowsItsIdGivenToAHostMount() {
        owners.learn(812, new MountOwners.Owner(4242, 4026532999L));

        assertThat(owners.containerMount(812)).isTrue();
        assertThat(owners.containerMount(813)).isFalse();
        // the container went, its mount's id freed and given to a host mount before the owners forgot it
        owners.hostTable(java.util.Map.of(812L, 0x2cL));
        assertThat(owners.containerMount(812)).isFalse();
    }

    @Test
    void factsReadFromALiveProcessAreNeverReplaced() {
        owners.learn(812, new MountOwners.Owner(4242, 4026532999L));
        ProcessFacts live = new ProcessFacts(77, 1, 0, 0, 123L, "sh", 99, 4026531840L);

        assertThat(owners.completed(77, live, 812)).isSameAs(live);
    }

    @Test
    void anUnknownMountOrRootLeavesTheFactsUnknown() {
        owners.learnRoot(50, new MountOwners.Owner(4242, 4026532999L));

        assertThat(owners.completed(77, ProcessFacts.unknown(77), 813).cgroupId()).isZero();
        assertThat(owners.completedByRoot(77, ProcessFacts.unknown(77), 51).cgroupId()).isZero();
        assertThat(owners.completedByRoot(77, ProcessFacts.unknown(77), 50).cgroupId()).isEqualTo(4242);
    }

    @Test
    void aForgottenRootNoLongerAttributes() {
        owners.learnRoot(50, new MountOwners.Owner(4242, 4026532999L));

        owners.forgetRoot(50);

        assertThat(owners.completedByRoot(77, ProcessFacts.unknown(77), 50).cgroupId()).isZero();
    }

    @Test
    void anExecIsTimedWithinTheLifeOfTheOverlayItsFileIsOnNotInTheNextContainerWithTheSameDevice() {
        // given container A's overlay (dev 50) mounted at 100 and unmounted at 200, and container B's overlay
        // mounted at 210 with the same (reused, anonymous) device
        owners.overlayMounted(50, 100);
        owners.overlayUnmounted(50, 200);
        owners.overlayMounted(50, 210);

        // when an exec of A's, queued after the read that began at 150, is read at 300 (B's life)
        long at = owners.timing(50, 150, 300, Long.MIN_VALUE, false).nanos();

        // then its time is within A's life, where the capture registry finds A, not B
        assertThat(at).isBetween(150L, 200L);
        // and an exec queued after B appeared is B's
        assertThat(owners.timing(50, 220, 300, Long.MIN_VALUE, false).nanos()).isBetween(220L, 300L);
        // and a device with no known life keeps the read time
        assertThat(owners.timing(51, 150, 300, Long.MIN_VALUE, false).nanos()).isEqualTo(300);
    }

    @Test
    void aWritableLayerFileCreatedAfterTheFirstContainerEndedIsTimedInTheNextContainerWithTheSameDevice() {
        // given container A's overlay (dev 50) mounted at 100 and unmounted at 200, and container B's overlay
        // mounted at 210 with the same (reused, anonymous) device
        owners.overlayMounted(50, 100);
        owners.overlayUnmounted(50, 200);
        owners.overlayMounted(50, 210);

        // when B's drop, created at 230, is queued after the read that began at 150 and read at 300
        long at = owners.timing(50, 150, 300, 230, false).nanos();

        // then it is timed in B's life, not in A's (which ended before the file existed), and nothing was ambiguous
        assertThat(at).isBetween(210L, 300L);
        assertThat(owners.severalLivesFit()).isZero();
        // and a file created in A's life still leaves both lives: timed in A's, counted
        assertThat(owners.timing(50, 150, 300, 120, false).nanos()).isBetween(150L, 200L);
        assertThat(owners.severalLivesFit()).isEqualTo(1);
    }

    @Test
    void anExecThatFitsTwoLivesOfItsDeviceIsToldAmbiguousNotPlacedInTheFirst() {
        // given container A's overlay (dev 50) mounted at 100 and unmounted at 200 (as the watcher saw it, late), and
        // container B's overlay mounted at 210 with the same device
        owners.overlayMounted(50, 100);
        owners.overlayUnmounted(50, 200);
        owners.overlayMounted(50, 210);

        // when an exec of a file created at 190 (before A's unmount was seen) is queued after 150 and read at 300
        MountOwners.Timing timing = owners.timing(50, 150, 300, 190, false);

        // then both lives fit: the device does not tell whose it is
        assertThat(timing.livesThatFit()).isEqualTo(2);
        assertThat(timing.ambiguous()).isTrue();
        // and a file created after A's life ended fits B's alone
        assertThat(owners.timing(50, 150, 300, 230, false).ambiguous()).isFalse();
        assertThat(owners.timing(50, 150, 300, 230, false).nanos()).isBetween(210L, 300L);
        // and a device with no known life is not ambiguous, timed at the read
        assertThat(owners.timing(51, 150, 300, 230, false)).isEqualTo(new MountOwners.Timing(300, 0));
    }

    @Test
    void anExecReportedThroughTheOverlayItselfIsInTheLastLifeOfItsDeviceItsQueuedEventKeptAlive() {
        // given container A's overlay (dev 50) mounted at 100 and unmounted at 200 (as the watcher saw it, late), and
        // container B's overlay mounted at 210 with the same device
        owners.overlayMounted(50, 100);
        owners.overlayUnmounted(50, 200);
        owners.overlayMounted(50, 210);

        // when an exec reported as the overlay's own inode, of a file created at 190, queued after 150, is read at 300
        MountOwners.Timing timing = owners.timing(50, 150, 300, 190, true);

        // then it is B's: the queued event held its overlay (and device) from the exec to the read, so A's overlay,
        // which had the device before, was gone before the exec
        assertThat(timing.ambiguous()).isFalse();
        assertThat(timing.nanos()).isBetween(210L, 300L);
        // and an exec whose overlay is gone by its read (its device not reused yet) is in that last life
        owners.overlayUnmounted(50, 280);
        assertThat(owners.timing(50, 150, 300, 190, true).nanos()).isBetween(210L, 280L);
    }

    @Test
    void aMountOwnerLearnedForTheNextContainerDoesNotAttributeAnEarlierContainersExec() {
        // given container B (overlay dev 50, mounted at 210) learned as the owner of mount 812 and of root dev 50
        owners.overlayMounted(50, 210);
        owners.learn(812, new MountOwners.Owner(4242, 4026532999L, owners.mountedSince(50)));
        owners.learnRoot(50, new MountOwners.Owner(4242, 4026532999L, owners.mountedSince(50)));

        // then an exec timed at 180 (container A, which had the same mount id and device) is not B's
        assertThat(owners.completed(77, ProcessFacts.unknown(77), 812, 180).cgroupId()).isZero();
        assertThat(owners.completedByRoot(77, ProcessFacts.unknown(77), 50, 180).cgroupId()).isZero();
        // and one timed at 250 is
        assertThat(owners.completed(77, ProcessFacts.unknown(77), 812, 250).cgroupId()).isEqualTo(4242);
        assertThat(owners.completedByRoot(77, ProcessFacts.unknown(77), 50, 250).cgroupId()).isEqualTo(4242);
    }

    @Test
    void aFileOpenedThroughAHostMountIsTheHostsOnlyWhenTheMountStillHoldsThatDevice() {
        // given the host's table: mount 25 holds dev 2049
        owners.hostTable(java.util.Map.of(25L, 2049L));

        assertThat(owners.hostMount(25, 2049)).isTrue();
        // a reused mount id (the table not read since) with another device is not taken for the host's
        assertThat(owners.hostMount(25, 52)).isFalse();
        assertThat(owners.hostMount(26, 2049)).isFalse();
    }

    @Test
    void anExitedProcessNotYetReapedGetsItsContainerFromTheMountAndKeepsWhatItsStatSaid() {
        // given a container's mount, and a zombie: /proc still has its stat (ppid, uid, start), not its namespaces
        owners.learn(812, new MountOwners.Owner(4242, 4026532999L));
        ProcessFacts zombie = new ProcessFacts(77, 12, 0, 0, 123L, "gone", 0L, 0L);

        // when its exec is completed by the mount its file was opened through
        ProcessFacts facts = owners.completed(77, zombie, 812);

        // then it is placed in the container, its parent and uid kept
        assertThat(facts.cgroupId()).isEqualTo(4242);
        assertThat(facts.mountNsId()).isEqualTo(4026532999L);
        assertThat(facts.ppid()).isEqualTo(12);
        assertThat(facts.uid()).isZero();
    }
}
