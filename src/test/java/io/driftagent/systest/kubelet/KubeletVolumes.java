package io.driftagent.systest.kubelet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Performs on this machine what kubelet does for a pod's volumes before its containers start: hostPath type checks
 * (and creation for {@code DirectoryOrCreate}/{@code FileOrCreate}), emptyDir directories, and the atomic writer's
 * layout for ConfigMap, Secret, projected and downwardAPI volumes; later updates of those go through the same
 * atomic swap ({@link #update}).
 */
public final class KubeletVolumes {

    static final String DATA = "..data";
    private static final Logger LOG = LoggerFactory.getLogger(KubeletVolumes.class);
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("'..'yyyy_MM_dd_HH_mm_ss.")
            .withZone(ZoneOffset.UTC);

    private final Clock clock;

    public KubeletVolumes(Clock clock) {
        this.clock = clock;
    }

    public void apply(VolumeAction action) throws IOException {
        if (action instanceof VolumeAction.HostPath hostPath) {
            hostPath(hostPath);
        } else if (action instanceof VolumeAction.EmptyDirectory emptyDir) {
            Files.createDirectories(emptyDir.path());
            Files.setPosixFilePermissions(emptyDir.path(), PosixFilePermissions.fromString("rwxrwxrwx"));
        } else if (action instanceof VolumeAction.AtomicFiles files) {
            Files.createDirectories(files.path());
            update(files.path(), files.files(), files.mode());
        } else if (action instanceof VolumeAction.TerminationLog log) {
            Files.createDirectories(log.path().getParent());
            if (!Files.exists(log.path())) {
                Files.createFile(log.path());
            }
        }
    }

    private static void hostPath(VolumeAction.HostPath volume) throws IOException {
        Path path = volume.path();
        switch (volume.type()) {
            case "" -> { }
            case "DirectoryOrCreate" -> {
                if (!Files.isDirectory(path)) {
                    Files.createDirectories(path);
                    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
                    LOG.info("hostPath {}: created {} (DirectoryOrCreate)", volume.volume(), path);
                }
            }
            case "Directory" -> require(Files.isDirectory(path), volume, "is not a directory");
            case "FileOrCreate" -> {
                if (!Files.exists(path)) {
                    Files.createFile(path);
                }
                require(Files.isRegularFile(path), volume, "is not a file");
            }
            case "File" -> require(Files.isRegularFile(path), volume, "is not a file");
            case "Socket", "CharDevice", "BlockDevice" -> require(Files.exists(path)
                    && !Files.isDirectory(path) && !Files.isRegularFile(path), volume, "is not a " + volume.type());
            default -> throw new UnsupportedPodSpec("hostPath type " + volume.type() + " is unknown");
        }
    }

    private static void require(boolean holds, VolumeAction.HostPath volume, String problem) {
        if (!holds) {
            // kubelet: MountVolume.SetUp failed ... hostPath type check failed: the pod never starts
            throw new UnsupportedPodSpec("hostPath volume " + volume.volume() + ": " + volume.path() + " " + problem
                    + " (type " + volume.type() + "): kubelet would not start the pod");
        }
    }

    /**
     * Kubelet's atomic writer: the new files go into a fresh {@code ..<timestamp>} directory, a {@code ..data_tmp}
     * symlink to it is renamed over {@code ..data} (the one atomic step), each top-level name is a symlink through
     * {@code ..data}, and the previous timestamped directory is removed.
     */
    public void update(Path dir, Map<String, byte[]> files, int mode) throws IOException {
        Path oldTarget = Files.isSymbolicLink(dir.resolve(DATA)) ? dir.resolve(Files.readSymbolicLink(dir.resolve(DATA)))
                : null;
        String name = TIMESTAMP.format(clock.instant()) + ThreadLocalRandom.current().nextInt(100_000_000, 999_999_999);
        Path tsDir = Files.createDirectory(dir.resolve(name));
        Files.setPosixFilePermissions(tsDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Set<PosixFilePermission> permissions = permissions(mode);
        Set<String> topLevel = new HashSet<>();
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            Path relative = Path.of(file.getKey());
            if (relative.isAbsolute() || relative.normalize().startsWith("..")) {
                throw new UnsupportedPodSpec("volume file path escapes the volume: " + file.getKey());
            }
            Path target = tsDir.resolve(relative);
            Files.createDirectories(target.getParent());
            Files.write(target, file.getValue());
            Files.setPosixFilePermissions(target, permissions);
            topLevel.add(relative.getName(0).toString());
        }
        Path tmpLink = dir.resolve("..data_tmp");
        Files.deleteIfExists(tmpLink);
        Files.createSymbolicLink(tmpLink, Path.of(name));
        Files.move(tmpLink, dir.resolve(DATA), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        for (String top : topLevel) {
            Path link = dir.resolve(top);
            if (!Files.isSymbolicLink(link)) {
                Files.createSymbolicLink(link, Path.of(DATA).resolve(top));
            }
        }
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path entry : entries.toList()) {
                String entryName = entry.getFileName().toString();
                if (!entryName.startsWith("..") && !topLevel.contains(entryName)
                        && Files.isSymbolicLink(entry)) {
                    Files.delete(entry);
                }
            }
        }
        if (oldTarget != null && !oldTarget.equals(tsDir) && Files.isDirectory(oldTarget, LinkOption.NOFOLLOW_LINKS)) {
            deleteTree(oldTarget);
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        StringBuilder text = new StringBuilder();
        String rwx = "rwx";
        for (int bit = 8; bit >= 0; bit--) {
            text.append((mode & (1 << bit)) != 0 ? rwx.charAt(2 - bit % 3) : '-');
        }
        return PosixFilePermissions.fromString(text.toString());
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
