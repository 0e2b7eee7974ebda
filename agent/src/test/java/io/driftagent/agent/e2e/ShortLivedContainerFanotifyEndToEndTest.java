package io.driftagent.agent.e2e;

/**
 * The short-lived pods with the fanotify exec source (the fallback without eBPF): its events carry a pid only, and
 * the process, its /proc entry, its container's cgroup and (with {@code --rm}) writable layer are gone when the event
 * is read. Each drop must still be alerted ADDED with its pod, tied to its container by the file the event carries
 * (its overlay's device, within that overlay's life) and the container captured when its rootfs appeared.
 */
class ShortLivedContainerFanotifyEndToEndTest extends ShortLivedContainerEndToEndTest {

    @Override
    String source() {
        return "fanotify";
    }
}
