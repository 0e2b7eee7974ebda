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

    /**
     * FAN_OPEN_EXEC carries a pid only, and /proc is gone with the process: the source ties such an exec to its
     * container by the event's file (its overlay's device, timed within that overlay's life, and the container
     * captured when its rootfs appeared), so every drop of a short-lived container is alerted as under eBPF.
     */
    @Override
    boolean attributesExecsOfExitedProcesses() {
        return true;
    }
}
