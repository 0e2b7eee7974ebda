package io.driftagent.systest.workload;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Real containerd containers in a test's own namespace, driven with {@code ctr}; remembers what it started (and
 * the cgroups runc leaves behind) so {@link #removeAll()} leaves the host as it was.
 */
public final class ContainerdHost {

    private final String namespace;
    private final List<String> containers = new CopyOnWriteArrayList<>();
    private final List<String> images = new CopyOnWriteArrayList<>();
    private final List<String> cgroupParents = new CopyOnWriteArrayList<>();

    public ContainerdHost(String namespace) {
        this.namespace = namespace;
    }

    public static boolean available() {
        return HostCommands.works("ctr", "version");
    }

    /** A random 64-hex-digit id, as Kubernetes' runtimes give containers. */
    public static String randomContainerId() {
        byte[] bytes = new byte[32];
        ThreadLocalRandom.current().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    public String namespace() {
        return namespace;
    }

    /** Imports an OCI archive of the {@link BusyboxImage} (written under {@code work}) as {@code name}; returns its manifest digest. */
    public String importBusybox(Path work, String name) throws IOException {
        Path archive = work.resolve("image.tar");
        String digest = BusyboxImage.writeOciArchive(Files.createDirectories(work.resolve("image")), name, archive);
        images.add(name);
        HostCommands.run("ctr", "-n", namespace, "images", "import", archive.toString());
        return digest;
    }

    /** Starts {@code id} from {@code image} detached, with extra {@code ctr run} options; returns its init pid. */
    public int run(String image, String id, String... options) {
        List<String> command = new ArrayList<>(List.of("ctr", "-n", namespace, "run", "-d"));
        command.addAll(List.of(options));
        command.addAll(List.of(image, id));
        int cgroup = command.indexOf("--cgroup");
        if (cgroup >= 0 && cgroup + 1 < command.size()) {
            // runc removes the container's own cgroup, not the parents it created for it
            Path parent = Path.of(command.get(cgroup + 1)).getParent();
            if (parent != null && parent.getNameCount() > 0) {
                cgroupParents.add(parent.toString().substring(1));
            }
        }
        containers.add(id);
        HostCommands.run(command.toArray(String[]::new));
        for (String line : HostCommands.run("ctr", "-n", namespace, "task", "ls").split("\n")) {
            String[] columns = line.trim().split("\\s+");
            if (columns.length >= 3 && columns[0].equals(id)) {
                return Integer.parseInt(columns[1]);
            }
        }
        throw new IllegalStateException("task " + id + " is not listed by ctr task ls");
    }

    /**
     * As {@link #runInPod}, with the annotations the CRI plugin puts in a pod container's bundle (pod name, namespace,
     * uid, container name, image): what the agent reads about a pod before, or without, the API server.
     */
    public int runAsCriContainer(String image, String id, String podUid, String podName, String namespace,
                                 String containerName) {
        return runInPod(image, id, podUid,
                "--annotation", "io.kubernetes.cri.container-type=container",
                "--annotation", "io.kubernetes.cri.container-name=" + containerName,
                "--annotation", "io.kubernetes.cri.sandbox-name=" + podName,
                "--annotation", "io.kubernetes.cri.sandbox-namespace=" + namespace,
                "--annotation", "io.kubernetes.cri.sandbox-uid=" + podUid,
                "--annotation", "io.kubernetes.cri.image-name=" + image);
    }

    /** Starts {@code id} in a Kubernetes-style cgroup {@code /kubepods/besteffort/pod<podUid>/<id>}. */
    public int runInPod(String image, String id, String podUid, String... options) {
        List<String> all = new ArrayList<>(List.of("--cgroup", "/kubepods/besteffort/pod" + podUid + "/" + id));
        all.addAll(List.of(options));
        return run(image, id, all.toArray(String[]::new));
    }

    /** Runs {@code script} with the container's {@code /bin/sh}; returns its output when it exited. */
    public String exec(String id, String script) {
        return HostCommands.run("ctr", "-n", namespace, "task", "exec", "--exec-id",
                "e2e-" + ThreadLocalRandom.current().nextInt(1 << 30), id, "/bin/sh", "-c", script);
    }

    /** Kills and deletes {@code id} (task and container). */
    public void remove(String id) {
        HostCommands.quietly("ctr", "-n", namespace, "task", "kill", "-s", "SIGKILL", id);
        for (int i = 0; i < 50 && !HostCommands.works("ctr", "-n", namespace, "task", "delete", id); i++) {
            if (!HostCommands.run("ctr", "-n", namespace, "task", "ls").contains(id)) {
                break;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        HostCommands.quietly("ctr", "-n", namespace, "containers", "rm", id);
    }

    public void removeAll() {
        for (String id : containers) {
            remove(id);
        }
        for (String image : images) {
            HostCommands.quietly("ctr", "-n", namespace, "images", "rm", image);
        }
        removeEmptyCgroups();
        HostCommands.quietly("ctr", "namespaces", "rm", namespace); // refused while another class still uses it
    }

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
            deleteIfEmpty(hierarchy.resolve(namespace));
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
