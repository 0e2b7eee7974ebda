package io.driftagent.agent.e2e;

import io.driftagent.agent.fixture.BusyboxImage;
import io.driftagent.agent.fixture.HostCommands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Real containerd containers in this test's own namespace, driven with {@code ctr}; remembers what it started (and
 * the cgroups runc leaves behind) so {@link #removeAll()} leaves the host as it was.
 */
final class ContainerdHost {

    static final String NAMESPACE = "drift-e2e";

    private final List<String> containers = new CopyOnWriteArrayList<>();
    private final List<String> images = new CopyOnWriteArrayList<>();
    private final List<String> cgroupParents = new CopyOnWriteArrayList<>();

    static boolean available() {
        return HostCommands.works("ctr", "version");
    }

    static String randomContainerId() {
        byte[] bytes = new byte[32];
        ThreadLocalRandom.current().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Imports an OCI archive of the busybox image; returns its manifest digest. */
    String importBusybox(Path work, String name) throws IOException {
        Path archive = work.resolve("image.tar");
        String digest = BusyboxImage.writeOciArchive(Files.createDirectories(work.resolve("image")), name, archive);
        images.add(name);
        HostCommands.run("ctr", "-n", NAMESPACE, "images", "import", archive.toString());
        return digest;
    }

    /** Starts {@code id} from {@code image} detached, with extra {@code ctr run} options; returns its init pid. */
    int run(String image, String id, String... options) {
        List<String> command = new ArrayList<>(List.of("ctr", "-n", NAMESPACE, "run", "-d"));
        command.addAll(List.of(options));
        command.addAll(List.of(image, id));
        containers.add(id);
        HostCommands.run(command.toArray(String[]::new));
        for (String line : HostCommands.run("ctr", "-n", NAMESPACE, "task", "ls").split("\n")) {
            String[] columns = line.trim().split("\\s+");
            if (columns.length >= 3 && columns[0].equals(id)) {
                return Integer.parseInt(columns[1]);
            }
        }
        throw new IllegalStateException("task " + id + " is not listed by ctr task ls");
    }

    /** Starts {@code id} in a Kubernetes-style cgroup {@code /kubepods/besteffort/pod<podUid>/<id>}. */
    int runInPod(String image, String id, String podUid, String... options) {
        cgroupParents.add("kubepods/besteffort/pod" + podUid);
        List<String> all = new ArrayList<>(List.of("--cgroup", "/kubepods/besteffort/pod" + podUid + "/" + id));
        all.addAll(List.of(options));
        return run(image, id, all.toArray(String[]::new));
    }

    /** Runs {@code script} with the container's {@code /bin/sh}; returns when it exited. */
    String exec(String id, String script) {
        return HostCommands.run("ctr", "-n", NAMESPACE, "task", "exec", "--exec-id",
                "e2e-" + ThreadLocalRandom.current().nextInt(1 << 30), id, "/bin/sh", "-c", script);
    }

    void removeAll() {
        for (String id : containers) {
            remove(id);
        }
        for (String image : images) {
            HostCommands.quietly("ctr", "-n", NAMESPACE, "images", "rm", image);
        }
        removeEmptyCgroups();
        HostCommands.quietly("ctr", "namespaces", "rm", NAMESPACE); // refused while another class still uses it
    }

    private static void remove(String id) {
        HostCommands.quietly("ctr", "-n", NAMESPACE, "task", "kill", "-s", "SIGKILL", id);
        for (int i = 0; i < 50 && !HostCommands.works("ctr", "-n", NAMESPACE, "task", "delete", id); i++) {
            if (!HostCommands.run("ctr", "-n", NAMESPACE, "task", "ls").contains(id)) {
                break;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        HostCommands.quietly("ctr", "-n", NAMESPACE, "containers", "rm", id);
    }

    /** runc removes a container's own cgroup, not the pod and namespace parents created for it. */
    private void removeEmptyCgroups() {
        List<Path> hierarchies = new ArrayList<>();
        try (var dirs = Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
            dirs.forEach(hierarchies::add);
        } catch (IOException e) {
            return;
        }
        for (Path hierarchy : hierarchies) {
            for (String parent : cgroupParents) {
                deleteIfEmpty(hierarchy.resolve(parent));
            }
            deleteIfEmpty(hierarchy.resolve(NAMESPACE));
        }
    }

    private static void deleteIfEmpty(Path cgroup) {
        try {
            Files.deleteIfExists(cgroup);
        } catch (IOException stillInUse) {
            // a cgroup still in use (or not empty) stays
        }
    }
}
