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
}
