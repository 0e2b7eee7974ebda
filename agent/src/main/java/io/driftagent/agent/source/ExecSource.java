package io.driftagent.agent.source;

/**
 * A producer of {@link ExecEvent}s from the kernel. One reader thread per source; it never blocks the
 * kernel side: when the consumer cannot keep up, events are dropped and counted in {@link #stats()}.
 */
public interface ExecSource extends AutoCloseable {

    /** Attaches to the kernel and starts the reader thread; events go to {@code sink}. */
    void start(ExecEventSink sink) throws SourceUnavailableException;

    /** Counters: delivered, lost (by reason). Safe to call from any thread. */
    SourceStats stats();

    ExecEvent.SourceKind kind();

    /** Detaches everything (links, marks, fds) and stops the reader thread. Idempotent. */
    @Override
    void close();
}
