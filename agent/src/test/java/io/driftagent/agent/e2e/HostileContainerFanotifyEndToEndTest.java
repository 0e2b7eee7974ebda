package io.driftagent.agent.e2e;

/**
 * The hostile-container scenarios with the fanotify exec source: marking the host's {@code /} reports a container's
 * exec as the layer's real file with its layer-relative path, which is the very path a process can fake.
 */
class HostileContainerFanotifyEndToEndTest extends HostileContainerEndToEndTest {

    @Override
    String source() {
        return "fanotify";
    }

    /** FAN_OPEN_EXEC carries a pid only: cgroup and mount namespace come from /proc, gone with the process. */
    @Override
    boolean attributesExecsOfExitedProcesses() {
        return false;
    }
}
