package io.driftagent.agent.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.MutableClock;
import io.driftagent.agent.host.CgroupMounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupIdResolverTest {

    @TempDir
    Path unified;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

    @Test
    void mapsACgroupDirectorysInodeToItsPath() throws IOException {
        Path container = Files.createDirectories(unified.resolve("kubepods/besteffort/podx/abc"));
        CgroupIdResolver resolver = new CgroupIdResolver(unified, clock, Duration.ofSeconds(2), 1000);

        assertThat(resolver.pathOf(inode(container))).contains("/kubepods/besteffort/podx/abc");
        assertThat(resolver.pathOf(inode(unified))).contains("/");
    }

    @Test
    void aMissRescansAtMostOncePerIntervalAndFindsNewCgroups() throws IOException {
        CgroupIdResolver resolver = new CgroupIdResolver(unified, clock, Duration.ofSeconds(2), 1000);
        resolver.pathOf(inode(unified));
        long scansAfterFirst = resolver.scans();
        Path late = Files.createDirectories(unified.resolve("docker/late"));

        assertThat(resolver.pathOf(inode(late))).as("within the interval: no rescan").isEmpty();
        assertThat(resolver.pathOf(424242L)).isEmpty();
        assertThat(resolver.scans()).isEqualTo(scansAfterFirst);
        clock.advance(Duration.ofSeconds(3));
        assertThat(resolver.pathOf(inode(late))).contains("/docker/late");
        assertThat(resolver.scans()).isEqualTo(scansAfterFirst + 1);
    }

    @Test
    void cgroupsThatWentAwayAreForgottenByTheNextRescanOrExplicitly() throws IOException {
        Path gone = Files.createDirectories(unified.resolve("docker/gone"));
        Path other = Files.createDirectories(unified.resolve("docker/other"));
        long goneId = inode(gone);
        CgroupIdResolver resolver = new CgroupIdResolver(unified, clock, Duration.ofSeconds(2), 1000);
        assertThat(resolver.pathOf(goneId)).isPresent();
        assertThat(resolver.exists("/docker/gone")).isTrue();

        Files.delete(gone);
        clock.advance(Duration.ofSeconds(3));
        resolver.pathOf(777_777_777L); // any miss rescans
        resolver.forget(inode(other));

        assertThat(resolver.exists("/docker/gone")).isFalse();
        assertThat(resolver.pathOf(goneId)).isEmpty();
        clock.advance(Duration.ofSeconds(3));
        assertThat(resolver.pathOf(inode(other))).as("still there: found again by a rescan").contains("/docker/other");
    }

    @Test
    void aRescanStopsAtTheDirectoryBound() throws IOException {
        for (int i = 0; i < 20; i++) {
            Files.createDirectories(unified.resolve("many/" + i));
        }
        CgroupIdResolver resolver = new CgroupIdResolver(unified, clock, Duration.ofSeconds(2), 5);

        int found = 0;
        for (int i = 0; i < 20; i++) {
            clock.advance(Duration.ofSeconds(3));
            found += resolver.pathOf(inode(unified.resolve("many/" + i))).isPresent() ? 1 : 0;
        }

        assertThat(found).isLessThan(20);
    }

    @Test
    void detectsTheUnifiedHierarchyOfAHybridAndOfAPureV2Host() {
        String hybrid = """
                31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
                39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
                40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
                41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
                """;
        String pureV2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        String pureV1 = "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n";

        assertThat(CgroupMounts.fromMountInfo(hybrid).unified()).contains(Path.of("/sys/fs/cgroup/unified"));
        assertThat(CgroupMounts.fromMountInfo(hybrid).legacy()).contains(Path.of("/sys/fs/cgroup/systemd"));
        assertThat(CgroupMounts.fromMountInfo(pureV2).unified()).contains(Path.of("/sys/fs/cgroup"));
        assertThat(CgroupMounts.fromMountInfo(pureV1).unified()).isEmpty();
        assertThat(CgroupMounts.fromMountInfo(pureV1).livenessTree()).contains(Path.of("/sys/fs/cgroup/pids"));
    }

    private static long inode(Path dir) throws IOException {
        return ((Number) Files.getAttribute(dir, "unix:ino")).longValue();
    }

}
