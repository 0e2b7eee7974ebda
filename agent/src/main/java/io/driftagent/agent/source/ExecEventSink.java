package io.driftagent.agent.source;

/** Receives events on a source's reader thread. Must not block; return false to have the event counted as dropped. */
@FunctionalInterface
public interface ExecEventSink {
    boolean offer(ExecEvent event);

    /**
     * Sees every decoded event in the order the kernel wrote them, before any is offered (a source may offer the
     * events that may be drift first); on the reader thread, so it must be cheap. The process tree learns here: a
     * drop offered first still finds its parents' images.
     */
    default void observe(ExecEvent event) {
    }
}
