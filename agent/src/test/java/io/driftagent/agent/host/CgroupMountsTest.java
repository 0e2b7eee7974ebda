package io.driftagent.agent.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one finder of the cgroup mounts, over the mountinfo texts its three former copies (attribution, the fanotify
 * source, the sandbox) each handled: every case below is one of theirs.
 */
class CgroupMountsTest {

    private static final String HYBRID = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
            40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """;

    @TempDir
    Path tmp;

    @Test
    void aHybridHostHasItsUnifiedHierarchyUnderUnifiedAndTheSystemdOneAsLegacy() {
        // given the mountinfo of a cgroup v1 hybrid host; when read
        CgroupMounts mounts = CgroupMounts.fromMountInfo(HYBRID);

        // then the unified hierarchy is found, seen from the host's root
        assertThat(mounts.unified()).contains(Path.of("/sys/fs/cgroup/unified"));
        assertThat(mounts.unifiedAtHostRoot()).contains(Path.of("/sys/fs/cgroup/unified"));
        assertThat(mounts.legacy()).contains(Path.of("/sys/fs/cgroup/systemd"));
        assertThat(mounts.namespaceDepth()).isZero();
    }

    @Test
    void aPureV2HostHasItsUnifiedHierarchyAtSysFsCgroup() {
        CgroupMounts mounts = CgroupMounts.fromMountInfo(
                "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n");

        assertThat(mounts.unified()).contains(Path.of("/sys/fs/cgroup"));
        assertThat(mounts.unifiedAtHostRoot()).contains(Path.of("/sys/fs/cgroup"));
    }

    @Test
    void aPureV1HostHasNoUnifiedHierarchyAndThePidsOneTellsLiveness() {
        CgroupMounts mounts = CgroupMounts.fromMountInfo(
                "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n");

        assertThat(mounts.unified()).isEmpty();
        assertThat(mounts.unifiedAtHostRoot()).isEmpty();
        assertThat(mounts.livenessTree()).contains(Path.of("/sys/fs/cgroup/pids"));
    }

    @Test
    void inAPrivateCgroupNamespaceTheHostsBoundHierarchyIsFoundButNotAsTheHostRoot() {
        // given an agent in its own cgroup namespace with the host's /sys/fs/cgroup bind-mounted (roots shown /../..)
        CgroupMounts mounts = CgroupMounts.fromMountInfo(
                "102 92 0:38 /../.. /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");

        // then the hierarchy is there to write into (the sandbox) and its depth is known (attribution's view),
        // but /proc/<pid>/cgroup paths do not name its directories (the fanotify source leaves the cgroup id unknown)
        assertThat(mounts.unified()).contains(Path.of("/sys/fs/cgroup/unified"));
        assertThat(mounts.namespaceDepth()).isEqualTo(2);
        assertThat(mounts.unifiedAtHostRoot()).isEmpty();
    }

    @Test
    void theHostsBoundHierarchyWinsOverTheNamespacesOwnMountWhicheverComesFirst() {
        // given the runtime's fresh cgroup2 mount (the namespace's root shown as /) listed before the host's bind
        String both = """
                60 50 0:30 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup ro
                61 60 0:30 /../../.. /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw
                """;

        CgroupMounts mounts = CgroupMounts.fromMountInfo(both);

        assertThat(mounts.unified()).contains(Path.of("/sys/fs/cgroup"));
        assertThat(mounts.namespaceDepth()).isEqualTo(3);
        assertThat(mounts.unifiedAtHostRoot()).isEmpty();
    }

    @Test
    void aMountOfOneCgroupsSubtreeIsNotTheHierarchy() {
        // given a nested runtime's bind of one cgroup (its root names the cgroup)
        CgroupMounts mounts = CgroupMounts.fromMountInfo(
                "32 23 0:26 /kubepods/x /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");

        assertThat(mounts.unified()).isEmpty();
        assertThat(mounts.unifiedAtHostRoot()).isEmpty();
    }

    @Test
    void twoViewsFromTheRootPreferSysFsCgroup() {
        String twice = """
                70 23 0:26 / /mnt/cg rw - cgroup2 cgroup2 rw
                71 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
                """;

        assertThat(CgroupMounts.fromMountInfo(twice).unified()).contains(Path.of("/sys/fs/cgroup"));
    }

    @Test
    void anEscapedMountPointIsUnescaped() {
        CgroupMounts mounts = CgroupMounts.fromMountInfo(
                "41 31 0:38 / /run/cgroup\\040v2 rw,relatime - cgroup2 cgroup2 rw\n");

        assertThat(mounts.unified()).contains(Path.of("/run/cgroup v2"));
    }

    @Test
    void theUnifiedHierarchyAtTheHostRootIsReadFromSelfMountinfoAndIsEmptyWhenThatCannotBeRead() throws Exception {
        // given a /proc whose self/mountinfo is the hybrid host's
        Files.createDirectories(tmp.resolve("self"));
        Files.writeString(tmp.resolve("self/mountinfo"), HYBRID);

        assertThat(CgroupMounts.unifiedAtHostRoot(tmp)).contains(Path.of("/sys/fs/cgroup/unified"));
        assertThat(CgroupMounts.unifiedAtHostRoot(tmp.resolve("absent"))).isEmpty();
    }
}
