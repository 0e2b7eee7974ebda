package io.driftagent.agent.classify;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs host commands for the end-to-end tests. */
final class Shell {

    private Shell() {
    }

    /** Runs the command; returns stdout; fails with stdout+stderr when it exits non-zero or takes over 120 s. */
    static String run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", command));
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited " + p.exitValue() + ": " + text);
            }
            return text;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + List.of(command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Runs the command, ignoring failure (clean-up). */
    static void quietly(String... command) {
        try {
            run(command);
        } catch (IllegalStateException ignored) {
            // best effort
        }
    }

    static boolean works(String... command) {
        try {
            run(command);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }
}
