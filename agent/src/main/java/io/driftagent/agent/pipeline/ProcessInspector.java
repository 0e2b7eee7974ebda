package io.driftagent.agent.pipeline;

import io.driftagent.agent.source.ExecEvent;

/** Reads what is left to know about an exec'd process and its parent. Never throws; never blocks on a device. */
@FunctionalInterface
public interface ProcessInspector {
    ProcessInspector NONE = event -> ProcessSnapshot.UNKNOWN;

    ProcessSnapshot inspect(ExecEvent event);
}
