package io.driftagent.agent.library;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HostMountNamespaceTest {

    @Test
    void aNamespaceLinkGivesItsInodeAndAnythingElseNothing() {
        assertThat(HostMountNamespace.parse("mnt:[4026531841]")).hasValue(4026531841L);
        assertThat(HostMountNamespace.parse("net:[4026531841]")).isEmpty();
        assertThat(HostMountNamespace.parse("mnt:[x]")).isEmpty();
        assertThat(HostMountNamespace.parse("mnt:[99999999999]")).as("over 32 bits").isEmpty();
    }
}
