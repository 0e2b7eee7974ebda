package io.driftagent.agent.source;

/** Receives events on a source's reader thread. Must not block; return false to have the event counted as dropped. */
@FunctionalInterface
public interface ExecEventSink {
    boolean offer(ExecEvent event);
}
