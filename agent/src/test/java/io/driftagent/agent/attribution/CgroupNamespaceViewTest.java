package io.driftagent.agent.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.host.CgroupMounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cgroup paths as the agent reads them from inside the chart's pod. The texts are captured from inside
 * {@code docker run --pid=host --cgroupns=private -v /sys/fs/cgroup:/sys/fs/cgroup} on a cgroup v1 hybrid host whose
 * own processes sit in {@code memory:/process_api/<hex>}.
 */
class CgroupNamespaceViewTest {

    private static final String AGENT = "c1c873337fbf599339cd7df0fb2a77f1ac6e136ff17b796f4102df8d990a58e1";
    private static final String SIBLING = "1c6568d42072ea7c10622f3cc24d845b1f5d4ff7ba8512204bbb5070e9c18440";

    /** /proc/self/mountinfo of the agent in that container: the host's hierarchies, roots shown as /../.. */
    static final String POD_MOUNTINFO = """
            78 53 0:40 / / ro,relatime master:2 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/BDHT:/var/lib/docker/overlay2/l/VVAE,upperdir=/var/lib/docker/overlay2/d4e7/diff,workdir=/var/lib/docker/overlay2/d4e7/work
            85 78 0:47 / /tmp rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=16384k
            92 82 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            93 92 0:29 /../.. /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
            96 92 0:32 /../.. /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            100 92 0:36 /../.. /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
            101 92 0:37 /../.. /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
            102 92 0:38 /../.. /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """;

    /** /proc/<pid>/cgroup of a host shell, read from inside the pod. */
    static final String HOST_SHELL_IN_POD = """
            9:name=systemd:/../..
            8:pids:/../..
            7:blkio:/../..
            6:freezer:/../..
            5:devices:/../..
            4:memory:/../../process_api/adb331708265d5cad1e25db4bb59332d
            3:cpuset:/../..
            2:cpuacct:/../..
            1:cpu:/../..
            0::/../..
            """;

    /** /proc/<pid>/cgroup of another Docker container, read from inside the pod. */
    static final String SIBLING_CONTAINER_IN_POD = """
            9:name=systemd:/../%1$s
            8:pids:/../%1$s
            4:memory:/../%1$s
            1:cpu:/../%1$s
            0::/../%1$s
            """.formatted(SIBLING);

    private final CgroupPathParser parser = new CgroupPathParser();
    private final CgroupNamespaceView pod = CgroupNamespaceView.rootedAt("/docker/" + AGENT);

    @TempDir
    Path tmp;

    @Test
    void theHostsHierarchiesBindMountedIntoThePodAreFoundAndTellHowDeepThePodsNamespaceIs() {
        CgroupMounts mounts = CgroupMounts.fromMountInfo(POD_MOUNTINFO);

        assertThat(mounts.unified()).contains(Path.of("/sys/fs/cgroup/unified"));
        assertThat(mounts.legacy()).contains(Path.of("/sys/fs/cgroup/systemd"));
        assertThat(mounts.namespaceDepth()).isEqualTo(2);
    }

    @Test
    void aMountOfThePodsOwnSubtreeLosesToTheHostsHierarchyAndAMountOfOneCgroupIsNotAHierarchy() {
        String both = """
                30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
                31 23 0:26 /../../.. /host/sys/fs/cgroup rw - cgroup2 cgroup2 rw
                32 23 0:26 /kubepods/x /other rw - cgroup2 cgroup2 rw
                """;

        CgroupMounts mounts = CgroupMounts.fromMountInfo(both);

        assertThat(mounts.unified()).contains(Path.of("/host/sys/fs/cgroup"));
        assertThat(mounts.namespaceDepth()).isEqualTo(3);
        assertThat(CgroupMounts.fromMountInfo("32 23 0:26 /kubepods/x /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
                .unified()).isEmpty();
    }

    @Test
    void aHostShellSeenFromThePodIsTheHostsNotACtrContainerNamedAfterItsMemoryCgroup() {
        String translated = pod.translateProcCgroup(HOST_SHELL_IN_POD);

        assertThat(translated).contains("4:memory:/process_api/adb331708265d5cad1e25db4bb59332d\n").contains("0::/\n");
        assertThat(parser.parseProcCgroup(translated, true)).isEmpty();
        // what the pod's agent did before: the '..' dropped and no unified hierarchy found (its root is not '/')
        assertThat(parser.parseProcCgroup(HOST_SHELL_IN_POD, false)).map(i -> i.id().value())
                .contains("adb331708265d5cad1e25db4bb59332d");
    }

    @Test
    void anotherDockerContainerSeenFromThePodIsThatDockerContainer() {
        Optional<CgroupIdentity> identity = parser.parseProcCgroup(pod.translateProcCgroup(SIBLING_CONTAINER_IN_POD), true);

        assertThat(identity).map(i -> i.id().value()).contains(SIBLING);
        assertThat(identity).map(CgroupIdentity::runtime).contains(ContainerRuntime.DOCKER);
        assertThat(identity).map(CgroupIdentity::cgroupPath).contains("/docker/" + SIBLING);
        assertThat(parser.parseProcCgroup(SIBLING_CONTAINER_IN_POD, true)).as("with the '..' dropped: missed").isEmpty();
    }

    @Test
    void aKubernetesPodsNeighboursAndTheAgentItselfAreReadAsTheHostWouldReadThem() {
        CgroupNamespaceView kubePod = CgroupNamespaceView.rootedAt("/kubepods/burstable/pod1111/agentcid");

        assertThat(kubePod.toHostPath("/")).isEqualTo("/kubepods/burstable/pod1111/agentcid");
        assertThat(kubePod.toHostPath("/../pausecid")).isEqualTo("/kubepods/burstable/pod1111/pausecid");
        assertThat(kubePod.toHostPath("/../../../besteffort/pod2222/cid")).isEqualTo("/kubepods/besteffort/pod2222/cid");
        assertThat(kubePod.toHostPath("/../../../../system.slice/containerd.service"))
                .isEqualTo("/system.slice/containerd.service");
        assertThat(kubePod.toHostPath("/../../../..")).isEqualTo("/");
    }

    @Test
    void outsideACgroupNamespaceNothingChanges() {
        CgroupNamespaceView host = CgroupNamespaceView.host();
        String text = "0::/kubepods/besteffort/pod2222/cid\n4:memory:/process_api/abc\n";

        assertThat(host.translateProcCgroup(text)).isEqualTo(text);
        assertThat(host.namespaced()).isFalse();
    }

    @Test
    void theNamespaceRootIsFoundAsTheCgroupOfThatDepthListingTheAgentsPid() throws IOException {
        Path unified = Files.createDirectories(tmp.resolve("unified"));
        Files.createDirectories(unified.resolve("docker/" + SIBLING));
        Files.writeString(unified.resolve("docker/" + SIBLING + "/cgroup.procs"), "77\n");
        Files.createDirectories(unified.resolve("docker/" + AGENT));
        Files.writeString(unified.resolve("docker/" + AGENT + "/cgroup.procs"), "4242\n4250\n");
        Files.createDirectories(unified.resolve("system.slice/a.service"));

        CgroupNamespaceView found = CgroupNamespaceView.discover(
                new CgroupMounts(Optional.of(unified), Optional.empty(), 2), 4250);
        CgroupNamespaceView notFound = CgroupNamespaceView.discover(
                new CgroupMounts(Optional.of(unified), Optional.empty(), 2), 9999);

        assertThat(found.toHostPath("/")).isEqualTo("/docker/" + AGENT);
        assertThat(found.toHostPath("/../" + SIBLING)).isEqualTo("/docker/" + SIBLING);
        assertThat(notFound.namespaced()).isTrue();
        assertThat(notFound.toHostPath("/../" + SIBLING)).as("root unknown: only the '..' go").isEqualTo("/" + SIBLING);
    }
}
