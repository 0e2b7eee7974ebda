package io.driftagent.agent.source.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fs.NoFollowRootedFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where {@link OverlayLayers} places an overlay-inode exec when the overlay is no longer in any mount table it reads:
 * a container that came and went before the layers' own read, told only by the host mount table's watcher (or the
 * kernel's mount notices). Real directories stand for the layers; the mount table is a file.
 */
class OverlayLayersTest {

    private static final long DEV = 171L; // 0:171, an anonymous device, as overlays get
    private static final String MOUNT_POINT = "/run/containerd/io.containerd.runtime.v2.task/default/f2/rootfs";

    @TempDir
    Path dir;

    @Test
    void aFileOfTheWritableLayerOfAnOverlayGoneBeforeTheLayersReadItsTableIsTheWritableLayersNotTheImages()
            throws Exception {
        // given an overlay whose writable layer holds a drop and whose image holds /bin/sh, no longer in the table
        OverlayMount overlay = overlayWith("tmp/drop", "bin/sh");
        AtomicLong nanos = new AtomicLong(1_000_000_000L);
        OverlayLayers layers = layersWithTable("", nanos);

        // when the host mount table's watcher tells it saw the overlay mounted and unmounted since the last read
        layers.refresh(List.of(new OverlayLayers.SeenOverlay(overlay, 100L, 200L)));

        // then an exec of the drop on that overlay is the writable layer's, one of /bin/sh the image's
        assertThat(layers.resolve(overlayInode(MOUNT_POINT + "/tmp/drop", 11)).upperLayer()).isTrue();
        assertThat(layers.resolve(overlayInode(MOUNT_POINT + "/bin/sh", 12)).upperLayer()).isFalse();
        assertThat(layers.seenOnlyByTheWatcher()).isEqualTo(1);
        assertThat(layers.doubtful()).containsEntry("overlay_unseen", 0L);
    }

    @Test
    void anExecOnAnOverlayNoTableShowedIsCountedAsUnseen() throws Exception {
        // given layers that know no overlay
        OverlayLayers layers = layersWithTable("", new AtomicLong(1));
        layers.refresh();

        // when an overlay-inode exec on an unknown overlay is resolved
        LayerResolution resolution = layers.resolve(overlayInode(MOUNT_POINT + "/tmp/drop", 11));

        // then it is an overlay's, its layer unknown, and counted
        assertThat(resolution.overlay()).isTrue();
        assertThat(resolution.upperLayer()).isFalse();
        assertThat(layers.doubtful()).containsEntry("overlay_unseen", 1L);
    }

    @Test
    void aDeletedFileOpenedThroughAMountIdOnceAnotherContainersCloneOfASharedImageLayerIsPlacedInItsOwnLayer()
            throws Exception {
        // given container A running (in the table) on image layer L, and B, of the same image, gone with its writable
        // layer UB, whose drop was opened through mount id 900, which had been a clone of L for a container before
        Path lower = Files.createDirectories(dir.resolve("snapshots/1/fs/bin"));
        Files.writeString(lower.resolve("sh"), "image");
        Path upperA = Files.createDirectories(dir.resolve("snapshots/3/fs"));
        Path upperB = dir.resolve("snapshots/4/fs");
        long fsDev = ((Number) Files.getAttribute(dir, "unix:dev")).longValue();
        String table = "901 22 0:57 / /run/a/rootfs rw shared:400 - overlay overlay rw,lowerdir=" + lower.getParent()
                + ",upperdir=" + upperA + ",workdir=" + dir.resolve("w") + "\n";
        Path proc = Files.createDirectories(dir.resolve("proc/self"));
        Files.writeString(proc.resolve("mountinfo"), table);
        AtomicLong nanos = new AtomicLong(1_000_000_000L);
        OverlayLayers layers = new OverlayLayers(dir.resolve("proc"), Clock.systemUTC(), NoFollowRootedFiles.create(),
                d -> new OverlayLayers.DirBirth(fsDev, 0L), OverlayLayers.KnownMounts.NONE, nanos::get);
        layers.refresh();
        long shIno = ((Number) Files.getAttribute(lower.resolve("sh"), "unix:ino")).longValue();
        LayerResolution image = layers.resolve(new ExecutedFile(fsDev, shIno, 1, 900, 0xef53L, "/bin/sh", false,
                ExecutedFile.Format.ELF_STANDALONE, ""));
        assertThat(image.overlay()).isTrue();
        assertThat(image.upperLayer()).isFalse();
        layers.refresh(List.of(new OverlayLayers.SeenOverlay(new OverlayMount(61L, "/run/b/rootfs",
                List.of(lower.getParent()), upperB), 100L, 200L)));

        // when B's deleted drop is read, opened through mount id 900
        long now = System.currentTimeMillis() * 1_000_000L;
        ExecutedFile drop = new ExecutedFile(fsDev, 424242, 0, 900, 0xef53L, "/tmp/true", true,
                ExecutedFile.Format.ELF_STANDALONE, "", now, now);
        LayerResolution resolution = layers.resolve(drop, () -> upperB + "/tmp/true");

        // then it is B's writable layer's, not A's image layer's
        assertThat(resolution.overlay()).isTrue();
        assertThat(resolution.upperLayer()).isTrue();
        assertThat(resolution.overlayDev()).isEqualTo(61L);
    }

    @Test
    void anExecOnADeviceTwoOverlaysHadIsTimedInTheLifeOfTheOneWhoseWritableLayerHoldsItsInode() throws Exception {
        // given overlay A, gone, and overlay B now mounted on the same (reused) device, each with its own /tmp/true
        Path lower = Files.createDirectories(dir.resolve("snapshots/1/fs/bin"));
        Path upperA = Files.createDirectories(dir.resolve("snapshots/5/fs/tmp"));
        Path upperB = Files.createDirectories(dir.resolve("snapshots/6/fs/tmp"));
        Files.writeString(upperA.resolve("true"), "drop a");
        Files.writeString(upperB.resolve("true"), "drop b");
        long fsDev = ((Number) Files.getAttribute(dir, "unix:dev")).longValue();
        String table = "902 22 0:" + DEV + " / /run/b/rootfs rw shared:401 - overlay overlay rw,lowerdir="
                + lower.getParent() + ",upperdir=" + upperB.getParent() + ",workdir=" + dir.resolve("w") + "\n";
        Path proc = Files.createDirectories(dir.resolve("proc/self"));
        Files.writeString(proc.resolve("mountinfo"), table);
        AtomicLong nanos = new AtomicLong(1_000_000L);
        OverlayLayers layers = new OverlayLayers(dir.resolve("proc"), Clock.systemUTC(), NoFollowRootedFiles.create(),
                d -> new OverlayLayers.DirBirth(fsDev, 0L), OverlayLayers.KnownMounts.NONE, nanos::get);
        layers.refresh(List.of(new OverlayLayers.SeenOverlay(new OverlayMount(DEV, "/run/a/rootfs",
                List.of(lower.getParent()), upperA.getParent()), 100L, 200L)));
        nanos.set(5_000_000L);

        // when A's drop is read, as its overlay inode (the real inode number, on same-filesystem layers)
        long inoA = ((Number) Files.getAttribute(upperA.resolve("true"), "unix:ino")).longValue();
        LayerResolution resolution = layers.resolve(overlayInode("/run/a/rootfs/tmp/true", inoA));

        // then it is a writable layer's file, timed in A's life, not in B's
        assertThat(resolution.upperLayer()).isTrue();
        assertThat(resolution.execTimeNanos()).isBetween(100L, 200L);
    }

    @Test
    void aFileDeletedInTheCurrentOverlayIsNotTakenForOneOfARetiredOverlayOnTheSameDevice() throws Exception {
        // given overlay A, gone with its writable layer, and overlay B now mounted on the same (reused) device
        long foundGoneMs = 1_700_000_000_000L;
        OverlayLayers layers = currentAndRetiredOnOneDevice(foundGoneMs);

        // when a file created in B after A was found gone, then deleted by a process of B, is exec'd through its fd
        long born = (foundGoneMs + 2_000) * 1_000_000L;
        LayerResolution resolution = layers.resolve(deletedOverlayInode("/tmp/gone", born, born + 1_000_000L));

        // then it is not a writable layer's file deleted with A's layer: nothing keeps it from being fileless
        assertThat(resolution.overlay()).isTrue();
        assertThat(resolution.upperLayer()).isFalse();
        assertThat(resolution.unlinkedWithLayer()).isFalse();
    }

    @Test
    void aDeletedFileCreatedWhileTheRetiredOverlayWasMountedIsStillTakenForOneOfItsDeletedLayer() throws Exception {
        // given overlay A, gone with its writable layer, and overlay B now mounted on the same (reused) device
        long foundGoneMs = 1_700_000_000_000L;
        OverlayLayers layers = currentAndRetiredOnOneDevice(foundGoneMs);

        // when a file created before A was found gone, whose last link went with A's layer, is read late
        long born = (foundGoneMs - 2_000) * 1_000_000L;
        LayerResolution resolution = layers.resolve(deletedOverlayInode("/tmp/drop", born, foundGoneMs * 1_000_000L));

        // then it may be A's writable layer's, deleted with it
        assertThat(resolution.upperLayer()).isTrue();
        assertThat(resolution.unlinkedWithLayer()).isTrue();
    }

    /** Overlay B mounted on {@link #DEV} (its writable layer there), A on the same device found gone at {@code atMs}. */
    private OverlayLayers currentAndRetiredOnOneDevice(long atMs) throws Exception {
        Path lower = Files.createDirectories(dir.resolve("snapshots/1/fs/bin"));
        Files.writeString(lower.resolve("sh"), "image");
        Path upperA = dir.resolve("snapshots/7/fs"); // deleted with its container
        Path upperB = Files.createDirectories(dir.resolve("snapshots/8/fs/tmp")).getParent();
        long fsDev = ((Number) Files.getAttribute(dir, "unix:dev")).longValue();
        String table = "903 22 0:" + DEV + " / /run/b/rootfs rw shared:402 - overlay overlay rw,lowerdir="
                + lower.getParent() + ",upperdir=" + upperB + ",workdir=" + dir.resolve("w") + "\n";
        Path proc = Files.createDirectories(dir.resolve("proc/self"));
        Files.writeString(proc.resolve("mountinfo"), table);
        AtomicLong nanos = new AtomicLong(1_000_000L);
        OverlayLayers layers = new OverlayLayers(dir.resolve("proc"),
                Clock.fixed(java.time.Instant.ofEpochMilli(atMs), java.time.ZoneOffset.UTC), NoFollowRootedFiles.create(),
                d -> new OverlayLayers.DirBirth(fsDev, (atMs - 60_000) * 1_000_000L), OverlayLayers.KnownMounts.NONE,
                nanos::get);
        layers.refresh(List.of(new OverlayLayers.SeenOverlay(new OverlayMount(DEV, "/run/a/rootfs",
                List.of(lower.getParent()), upperA), 100L, 200L)));
        return layers;
    }

    private static ExecutedFile deletedOverlayInode(String path, long bornNanos, long unlinkedNanos) {
        return new ExecutedFile(DEV, 31337, 0, 904, ExecutedFile.OVERLAYFS_MAGIC, path, true,
                ExecutedFile.Format.ELF_STANDALONE, "", bornNanos, unlinkedNanos);
    }

    private OverlayMount overlayWith(String upperFile, String lowerFile) throws Exception {
        Path upper = Files.createDirectories(dir.resolve("snapshots/2/fs"));
        Path lower = Files.createDirectories(dir.resolve("snapshots/1/fs"));
        Files.createDirectories(upper.resolve(upperFile).getParent());
        Files.writeString(upper.resolve(upperFile), "drop");
        Files.createDirectories(lower.resolve(lowerFile).getParent());
        Files.writeString(lower.resolve(lowerFile), "image");
        return new OverlayMount(DEV, MOUNT_POINT, List.of(lower), upper);
    }

    private OverlayLayers layersWithTable(String mountinfo, AtomicLong nanos) throws Exception {
        Path proc = Files.createDirectories(dir.resolve("proc/self"));
        Files.writeString(proc.resolve("mountinfo"), mountinfo);
        return new OverlayLayers(dir.resolve("proc"), Clock.systemUTC(), NoFollowRootedFiles.create(),
                OverlayLayers.DirBirths.NONE, OverlayLayers.KnownMounts.NONE, nanos::get);
    }

    private static ExecutedFile overlayInode(String path, long ino) {
        return new ExecutedFile(DEV, ino, 1, 900, ExecutedFile.OVERLAYFS_MAGIC, path, false,
                ExecutedFile.Format.ELF_STANDALONE, "");
    }
}
