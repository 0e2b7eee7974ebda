package io.driftagent.agent.assembly;

/**
 * A long-lived part the runtime starts before the pipeline and stops after it (the reporter's dispatcher, the pod
 * informer, the policy watcher, the image index). {@link #close()} must be idempotent and not throw.
 */
public interface ManagedService extends AutoCloseable {

    String name();

    void start() throws Exception;

    @Override
    void close();

    /** A service from two method references, e.g. {@code ManagedService.of("informer", informer::start, informer::stop)}. */
    static ManagedService of(String name, Starter start, Runnable close) {
        return new ManagedService() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void start() throws Exception {
                start.start();
            }

            @Override
            public void close() {
                close.run();
            }
        };
    }

    @FunctionalInterface
    interface Starter {
        void start() throws Exception;
    }
}
