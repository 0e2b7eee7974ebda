package io.driftagent.agent.pipeline;

import io.driftagent.agent.source.ExecEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the time the attribution stage spends reading {@code /proc}. Reading {@code /proc/<pid>/cmdline} takes the
 * target's mmap lock, which a process can hold for as long as it likes (a page fault on a stalled FUSE or
 * userfaultfd mapping): a container could otherwise freeze the stage and blind detection. Reads run on a few
 * helper threads; a read that exceeds the deadline yields {@link ProcessSnapshot#UNKNOWN} and its thread is left
 * to finish on its own. When every helper is stuck, reads are skipped at once (counted) until one comes back.
 */
public final class TimeLimitedProcessInspector implements ProcessInspector, AutoCloseable {

    private final ProcessInspector delegate;
    private final long timeoutNanos;
    private final ThreadPoolExecutor readers;
    private final Counter timedOut;
    private final Counter skipped;

    public TimeLimitedProcessInspector(ProcessInspector delegate, Duration timeout, int maxThreads, MeterRegistry registry) {
        this.delegate = delegate;
        this.timeoutNanos = timeout.toNanos();
        AtomicInteger count = new AtomicInteger();
        this.readers = new ThreadPoolExecutor(1, maxThreads, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "drift-proc-reader-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
        this.timedOut = Counter.builder("drift.pipeline.proc_reads").tag("outcome", "timed_out")
                .description("/proc reads of exec'd processes that did not finish in time").register(registry);
        this.skipped = Counter.builder("drift.pipeline.proc_reads").tag("outcome", "skipped")
                .description("/proc reads of exec'd processes that did not finish in time").register(registry);
    }

    @Override
    public ProcessSnapshot inspect(ExecEvent event) {
        Future<ProcessSnapshot> read;
        try {
            read = readers.submit(() -> delegate.inspect(event));
        } catch (RejectedExecutionException allStuck) {
            skipped.increment();
            return ProcessSnapshot.UNKNOWN;
        }
        try {
            return read.get(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException slow) {
            timedOut.increment();
            return ProcessSnapshot.UNKNOWN;
        } catch (ExecutionException failed) {
            return ProcessSnapshot.UNKNOWN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ProcessSnapshot.UNKNOWN;
        }
    }

    /** On the caller's thread: no /proc read. */
    @Override
    public void observe(ExecEvent event) {
        delegate.observe(event);
    }

    @Override
    public void close() {
        readers.shutdownNow();
    }
}
