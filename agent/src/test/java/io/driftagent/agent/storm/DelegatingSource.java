package io.driftagent.agent.storm;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.SourceStats;
import java.util.Objects;

/** A storm mode's source that adds to how another starts; counters, kind and close are the other's. */
abstract class DelegatingSource implements ExecSource {
    protected final ExecSource source;

    DelegatingSource(ExecSource source) {
        this.source = Objects.requireNonNull(source, "source");
    }

    @Override
    public SourceStats stats() {
        return source.stats();
    }

    @Override
    public ExecEvent.SourceKind kind() {
        return source.kind();
    }

    @Override
    public void close() {
        source.close();
    }
}
