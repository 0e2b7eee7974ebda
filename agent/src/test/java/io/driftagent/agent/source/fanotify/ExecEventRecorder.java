package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;

/** A sink that keeps every event (the machine is shared: tests pick theirs by pid and path). */
final class ExecEventRecorder implements ExecEventSink {

    final ConcurrentLinkedQueue<ExecEvent> events = new ConcurrentLinkedQueue<>();

    @Override
    public boolean offer(ExecEvent event) {
        events.add(event);
        return true;
    }

    Optional<ExecEvent> await(Predicate<ExecEvent> p, long timeoutMs) throws InterruptedException {
        long end = System.nanoTime() + timeoutMs * 1_000_000L;
        while (System.nanoTime() < end) {
            for (ExecEvent e : events) {
                if (p.test(e)) {
                    return Optional.of(e);
                }
            }
            Thread.sleep(20);
        }
        return Optional.empty();
    }

    ExecEvent awaitExec(int pid, String filename) throws InterruptedException {
        return await(e -> e.pid() == pid && e.filename().equals(filename), 5000)
                .orElseThrow(() -> new AssertionError("no exec event for pid " + pid + " " + filename + "; events of that pid: "
                        + ofPid(pid)));
    }

    List<ExecEvent> ofPid(int pid) {
        return events.stream().filter(e -> e.pid() == pid).toList();
    }
}
