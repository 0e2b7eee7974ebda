package io.driftagent.agent.classification;

import io.driftagent.agent.fixture.HostCommands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A tiny static C program that copies a binary into a memfd and fexecve()s it as {@code sleep 60}. */
public final class MemfdExecProgram {

    private static final String SOURCE = """
            #define _GNU_SOURCE
            #include <sys/mman.h>
            #include <fcntl.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                int in = open(argv[1], O_RDONLY);
                int fd = memfd_create("drift", 0);
                char buf[65536];
                ssize_t n;
                while ((n = read(in, buf, sizeof buf)) > 0) {
                    if (write(fd, buf, n) != n) return 2;
                }
                char *args[] = {"sleep", "60", 0};
                char *env[] = {0};
                fexecve(fd, args, env);
                return 1;
            }
            """;

    private MemfdExecProgram() {
    }

    /** Compiles {@code dir/memfdexec}; null when no static C toolchain is available. */
    public static Path compileInto(Path dir) throws IOException {
        Path source = dir.resolve("memfdexec.c");
        Files.writeString(source, SOURCE);
        Path binary = dir.resolve("memfdexec");
        boolean built = HostCommands.works("clang", "-static", "-O2", "-o", binary.toString(), source.toString())
                || HostCommands.works("cc", "-static", "-O2", "-o", binary.toString(), source.toString());
        return built ? binary : null;
    }

    /** The pid of the process in container {@code containerId} whose executable is a memfd (waits up to 10 s). */
    public static int awaitMemfdProcess(String containerId) throws IOException, InterruptedException {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (var procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
                for (Path proc : procs) {
                    try {
                        if (Files.readString(proc.resolve("cgroup")).contains(containerId)
                                && Files.readSymbolicLink(proc.resolve("exe")).toString().startsWith("/memfd:")) {
                            return Integer.parseInt(proc.getFileName().toString());
                        }
                    } catch (IOException gone) {
                        // raced with an exiting process
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("no memfd process appeared in " + containerId);
    }
}
