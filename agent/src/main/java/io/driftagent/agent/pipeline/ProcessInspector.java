package io.driftagent.agent.pipeline;

import io.driftagent.agent.source.ExecEvent;

/** Reads what is left to know about an exec'd process and its parent. Never throws; never blocks on a device. */
@FunctionalInterface
public interface ProcessInspector {
    ProcessInspector NONE = event -> ProcessSnapshot.UNKNOWN;

    ProcessSnapshot inspect(ExecEvent event);

    /**
     * Sees every exec in the kernel's order, on the source's reader thread ({@code ExecEventSink.observe}): the
     * process tree learns here. Cheap, no /proc read.
     */
    default void observe(ExecEvent event) {
    }
}
