package io.driftagent.agent.source.fanotify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/** Shared preconditions and helpers of the fanotify kernel tests. */
final class KernelTestSupport {

    private KernelTestSupport() {
    }

    static void assumeRootWithKernelTools() {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "fanotify marks and overlay mounts need root (CAP_SYS_ADMIN); running as " + System.getProperty("user.name"));
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static (/bin/busybox) is not installed");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc")), "gcc is needed to build the tiny static test binary");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "util-linux unshare is not installed");
    }

    /** Compiles a C program statically into {@code dir}; returns the binary. */
    static Path compileStatic(Path dir, String name, String source) throws IOException, InterruptedException {
        Path c = dir.resolve(name + ".c");
        Files.writeString(c, source);
        Path bin = dir.resolve(name);
        OverlayContainer.exec(List.of("gcc", "-static", "-O2", "-o", bin.toString(), c.toString()));
        return bin;
    }

    static int openFdCount() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        }
    }
}
