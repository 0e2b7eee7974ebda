package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.util.List;

/**
 * The in-process agent's threads, found by name and held or released to order what the kernel and the agent see
 * (Thread.suspend, deprecated but working on Java 17: test-only).
 */
final class AgentThreads {
    private AgentThreads() {
    }

    /** The live threads of this JVM with that name; fails when there is none. */
    static List<Thread> named(String name) {
        List<Thread> found = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(name) && t.isAlive()).toList();
        assertThat(found).as("a %s thread in this JVM", name).isNotEmpty();
        return found;
    }

    static void hold(Thread thread) throws Exception {
        invoke(thread, "suspend");
    }

    static void release(Thread thread) throws Exception {
        invoke(thread, "resume");
    }

    private static void invoke(Thread thread, String method) throws Exception {
        Method m = Thread.class.getMethod(method);
        m.invoke(thread);
    }
}
