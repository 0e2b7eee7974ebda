package io.driftagent.agent.assembly;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.reporter.alert.Alert;
import java.util.List;

/** Test components for other packages' tests (the CLI's). */
public final class RuntimeTestComponents {

    private RuntimeTestComponents() {
    }

    public static AgentComponents build(List<String> log, List<Alert> published, FakeExecSource source, int httpPort) {
        return AgentRuntimeTest.components(log, published, source, httpPort);
    }

    public static ExecEvent exec(String filename) {
        return AgentRuntimeTest.exec(filename);
    }
}
