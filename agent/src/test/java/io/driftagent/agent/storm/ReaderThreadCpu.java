package io.driftagent.agent.storm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The CPU time of this JVM's exec-reading threads (the eBPF source's and the fanotify source's), in nanoseconds, from
 * the scheduler's own accounting ({@code /proc/self/task/<tid>/schedstat}: time on a CPU, nanosecond resolution). The
 * process's CPU also holds the JVM's compilers and collectors; this is the reader's own work per exec.
 */
final class ReaderThreadCpu {
    /** Thread names as the kernel keeps them (15 bytes): "ebpf-exec-reader", "fanotify-exec-reader". */
    private static final String[] READER_PREFIXES = {"ebpf-exec-read", "fanotify-exec-r"};

    private ReaderThreadCpu() {
    }

    static long nanos() {
        long total = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                total += readerNanos(task);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read this process's threads", e);
        }
        return total;
    }

    private static long readerNanos(Path task) throws IOException {
        try {
            String comm = Files.readString(task.resolve("comm")).strip();
            for (String prefix : READER_PREFIXES) {
                if (comm.startsWith(prefix)) {
                    String schedstat = Files.readString(task.resolve("schedstat")).strip();
                    return Long.parseLong(schedstat.substring(0, schedstat.indexOf(' ')));
                }
            }
            return 0;
        } catch (NoSuchFileException e) {
            return 0; // the thread ended meanwhile
        }
    }
}
