package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.fixture.HostCommands;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/** Shared preconditions and helpers of the fanotify kernel tests. */
public final class KernelTestSupport {

    private KernelTestSupport() {
    }

    public static void assumeRootWithKernelTools() {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "fanotify marks and overlay mounts need root (CAP_SYS_ADMIN); running as " + System.getProperty("user.name"));
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static (/bin/busybox) is not installed");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc")), "gcc is needed to build the tiny static test binary");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "util-linux unshare is not installed");
    }

    /** Compiles a C program statically into {@code dir}; returns the binary. */
    public static Path compileStatic(Path dir, String name, String source) throws IOException, InterruptedException {
        Path c = dir.resolve(name + ".c");
        Files.writeString(c, source);
        Path bin = dir.resolve(name);
        HostCommands.run("gcc", "-static", "-O2", "-o", bin.toString(), c.toString());
        return bin;
    }

    /** What this JVM's fds point at that the fanotify code could have leaked: fanotify groups, eventfds, exec'd files. */
    public static List<String> fanotifyRelatedFds(Path... execDirs) throws IOException {
        List<String> out = new java.util.ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : s.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    continue;
                }
                boolean inExecDir = java.util.Arrays.stream(execDirs).anyMatch(d -> target.startsWith(d.toString()));
                if (target.contains("fanotify") || target.contains("eventfd") || inExecDir) {
                    out.add(fd.getFileName() + " -> " + target);
                }
            }
        }
        return out;
    }

    /**
     * This JVM's open fds. The JDK opens a process-wide socketpair the first time any FileChannel is used
     * ({@code sun.nio.ch.FileDispatcherImpl}); one is used here first so that a count taken before the code under
     * test does so does not take it for a leak.
     */
    public static int openFdCount() throws IOException {
        try (FileChannel ignored = FileChannel.open(Path.of("/proc/self/stat"))) {
            // only its one-time JDK set-up matters
        }
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }
}
