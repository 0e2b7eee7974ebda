package io.driftagent.systest.kubelet;

/** The pod spec asks for something this harness cannot reproduce faithfully, or kubelet would refuse to start it. */
public final class UnsupportedPodSpec extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UnsupportedPodSpec(String message) {
        super(message);
    }
}
