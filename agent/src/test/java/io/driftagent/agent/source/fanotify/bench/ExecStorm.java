package io.driftagent.agent.source.fanotify.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An exec storm: {@code parallel} C processes each vfork+execve a tiny static binary {@code execsPerProcess} times
 * and wait for it. The binaries live on a tmpfs mounted by {@link #create(Path)} so the storm's filesystem can be
 * watched or guarded without touching the host root.
 */
public final class ExecStorm implements AutoCloseable {

    private static final String TARGET_C = "int main(void) { return 0; }\n";
    private static final String STORM_C = """
            #include <stdio.h>
            #include <stdlib.h>
            #include <time.h>
            #include <unistd.h>
            #include <sys/wait.h>
            int main(int argc, char **argv) {
                long n = atol(argv[1]);
                char *args[] = {argv[2], 0};
                char *env[] = {0};
                struct timespec a, b;
                clock_gettime(CLOCK_MONOTONIC, &a);
                for (long i = 0; i < n; i++) {
                    pid_t p = vfork();
                    if (p == 0) { execve(argv[2], args, env); _exit(127); }
                    int st;
                    if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "exec %ld failed\\n", i); return 1; }
                }
                clock_gettime(CLOCK_MONOTONIC, &b);
                printf("%ld\\n", (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec));
                return 0;
            }
            """;

    public final Path mount;
    public final Path target;
    private final Path storm;

    private ExecStorm(Path mount) {
        this.mount = mount;
        this.target = mount.resolve("storm-target");
        this.storm = mount.resolve("storm");
    }

    /** Mounts a tmpfs at a new directory under {@code parent} and compiles the storm and its target into it. */
    public static ExecStorm create(Path parent) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(parent, "drift-exec-storm");
        run(List.of("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", dir.toString()));
        ExecStorm s = new ExecStorm(dir);
        Files.writeString(dir.resolve("t.c"), TARGET_C);
        Files.writeString(dir.resolve("s.c"), STORM_C);
        run(List.of("gcc", "-static", "-O2", "-o", s.target.toString(), dir.resolve("t.c").toString()));
        run(List.of("gcc", "-static", "-O2", "-o", s.storm.toString(), dir.resolve("s.c").toString()));
        return s;
    }

    /** Runs the storm; returns execs per second over the slowest process's wall time. */
    public double run(int parallel, int execsPerProcess) throws IOException, InterruptedException {
        List<Process> ps = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < parallel; i++) {
            ps.add(new ProcessBuilder(storm.toString(), Integer.toString(execsPerProcess), target.toString())
                    .redirectErrorStream(true).start());
        }
        for (Process p : ps) {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.getOutputStream().close();
            p.getInputStream().close();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IOException("storm failed: " + out);
            }
        }
        long elapsed = System.nanoTime() - t0;
        return (double) parallel * execsPerProcess / (elapsed / 1e9);
    }

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.getOutputStream().close();
        p.getInputStream().close();
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException(cmd + " failed: " + out);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run(List.of("umount", "-l", mount.toString()));
        Files.deleteIfExists(mount);
    }
}
