package io.driftagent.systest.workload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs host commands (ctr, docker, tar, promtool) for the system tests. */
public final class HostCommands {

    private static final long TIMEOUT_SECONDS = 120;

    private HostCommands() {
    }

    /** Runs the command; returns its stdout; fails with stdout and stderr when it exits non-zero or hangs. */
    public static String run(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            byte[] output;
            try (var stdout = process.getInputStream()) { // closed at once: some tests count this JVM's fds
                output = stdout.readAllBytes();
            }
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", command));
            }
            String text = new String(output, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new IllegalStateException(
                        String.join(" ", command) + " exited " + process.exitValue() + ": " + text);
            }
            return text;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + List.of(command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
        }
    }

    /** Clean-up: runs the command and ignores a failure. */
    public static void quietly(String... command) {
        try {
            run(command);
        } catch (IllegalStateException ignored) {
            // best effort
        }
    }

    public static boolean works(String... command) {
        try {
            run(command);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }
}
