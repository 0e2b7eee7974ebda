package io.driftagent.agent.storm;

import io.driftagent.agent.lineage.ProcessTree;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.SourceUnavailableException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * A source whose every decoded exec is also recorded into a process tree of the agent's default size on the reader's
 * thread, as the agent's pipeline does before any exec is offered: the storm then costs what the observer costs in
 * the agent (kernel programs, reader, write tracking, process tree), not the source alone.
 */
final class ObserverWithLineage extends DelegatingSource {
    private final ProcessTree tree = new ProcessTree(ProcessTree.DEFAULT_MAX_ENTRIES, ProcessTree.DEFAULT_MAX_BYTES,
            new SimpleMeterRegistry());

    ObserverWithLineage(ExecSource source) {
        super(source);
    }

    @Override
    public void start(ExecEventSink sink) throws SourceUnavailableException {
        source.start(new ExecEventSink() {
            @Override
            public boolean offer(ExecEvent event) {
                return sink.offer(event);
            }

            @Override
            public void observe(ExecEvent event) {
                tree.record(event);
                sink.observe(event);
            }
        });
    }
}
