package io.driftagent.agent.assembly;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.SourceStats;
import io.driftagent.agent.source.SourceUnavailableException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** An exec source driven by the test: {@link #emit} delivers like a reader thread would. */
public final class FakeExecSource implements ExecSource {

    private final List<String> log;
    private final String failure;
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private volatile ExecEventSink sink;
    private volatile boolean closed;

    /** @param log where "start source" / "close source" are recorded; @param failure non-null: start fails so */
    public FakeExecSource(List<String> log, String failure) {
        this.log = log;
        this.failure = failure;
    }

    @Override
    public void start(ExecEventSink sink) throws SourceUnavailableException {
        log.add("start source");
        if (failure != null) {
            throw new SourceUnavailableException(failure);
        }
        this.sink = sink;
    }

    public boolean emit(ExecEvent event) {
        if (sink == null || closed) {
            throw new IllegalStateException("source not running");
        }
        boolean accepted = sink.offer(event);
        (accepted ? delivered : lost).incrementAndGet();
        return accepted;
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public SourceStats stats() {
        return new SourceStats(delivered.get(), Map.of("queue_full", lost.get()));
    }

    @Override
    public ExecEvent.SourceKind kind() {
        return ExecEvent.SourceKind.FANOTIFY;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            log.add("close source");
        }
    }
}
