package io.driftagent.agent.attribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CgroupPathParserTest {

    private static final String ID = "4f1b3a0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";
    private static final String UID = "0b7c3f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
    private static final String UID_US = UID.replace('-', '_');

    private final CgroupPathParser parser = new CgroupPathParser();

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            # containerd, cgroupfs driver (v1 and v2), three QoS classes
            /kubepods/besteffort/pod{uid}/{id}                                  | CONTAINERD | uid
            /kubepods/burstable/pod{uid}/{id}                                   | CONTAINERD | uid
            /kubepods/pod{uid}/{id}                                             | CONTAINERD | uid
            # containerd, systemd driver
            /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{uid_}.slice/cri-containerd-{id}.scope | CONTAINERD | uid
            /kubepods.slice/kubepods-pod{uid_}.slice/cri-containerd-{id}.scope                                 | CONTAINERD | uid
            # containerd with runc's literal systemd cgroupsPath (driver mismatch), as seen on some v1 nodes
            /system.slice/containerd.service/kubepods-burstable-pod{uid_}.slice:cri-containerd:{id}            | CONTAINERD | uid
            # CRI-O: systemd scope, cgroupfs, and crun's nested 'container' cgroup
            /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid_}.slice/crio-{id}.scope        | CRIO       | uid
            /kubepods/burstable/pod{uid}/crio-{id}                              | CRIO       | uid
            /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid_}.slice/crio-{id}.scope/container | CRIO    | uid
            # Docker: cgroupfs, systemd, and under Kubernetes via cri-dockerd
            /docker/{id}                                                                                       | DOCKER     | -
            /system.slice/docker-{id}.scope                                                                    | DOCKER     | -
            /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{uid_}.slice/docker-{id}.scope    | DOCKER     | uid
            # seen from inside a cgroup namespace: the host part shows as '..'
            /../../kubepods/besteffort/pod{uid}/{id}                            | CONTAINERD | uid
            /../../../docker/{id}                                                                              | DOCKER     | -
            # Docker in Docker: the innermost container
            /docker/0000000000000000000000000000000000000000000000000000000000000000/docker/{id}                | DOCKER     | -
            """)
    void recognisesTheContainerOfARealCgroupPath(String template, ContainerRuntime runtime, String podUid) {
        String path = template.replace("{uid_}", UID_US).replace("{uid}", UID).replace("{id}", ID);

        Optional<CgroupIdentity> identity = parser.parse(path);

        assertThat(identity).as(path).isPresent();
        assertThat(identity.get().id().value()).isEqualTo(ID);
        assertThat(identity.get().runtime()).isEqualTo(runtime);
        assertThat(identity.get().podUid()).isEqualTo(podUid == null ? null : UID);
        assertThat(identity.get().cgroupPath()).doesNotContain("..");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {
            "/",
            "",
            "/init.scope",
            "/system.slice/containerd.service",
            "/system.slice/cron.service",
            "/user.slice/user-0.slice/session-1.scope",
            "/kubepods",
            "/kubepods/besteffort",
            "/kubepods/besteffort/pod0b7c3f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0b7c3f0e_1c2d_4e5f_8a9b_0c1d2e3f4a5b.slice",
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b7c3f0e_1c2d_4e5f_8a9b_0c1d2e3f4a5b.slice/"
                    + "crio-conmon-4f1b3a0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a.scope",
            "/kubepods/burstable/pod0b7c3f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b/"
                    + "crio-conmon-4f1b3a0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a",
            "/docker",
            "/system.slice/docker.service",
            "/machine.slice/machine-qemu.scope",
            "/system.slice/kubelet.service"})
    void findsNoContainerInAHostCgroup(String path) {
        assertThat(parser.parse(path)).isEmpty();
    }

    @Test
    void recognisesAPlainCtrRunContainerByNamespaceAndName() {
        Optional<CgroupIdentity> identity = parser.parse("/drift-attrib/web-1");

        assertThat(identity).isPresent();
        assertThat(identity.get().id().value()).isEqualTo("web-1");
        assertThat(identity.get().runtime()).isEqualTo(ContainerRuntime.CONTAINERD);
        assertThat(identity.get().podUid()).isNull();
    }

    @Test
    void prefersTheUnifiedLineOfAHybridHostsProcCgroup() {
        String hybridContainer = """
                9:name=systemd:/kubepods/besteffort/pod%1$s/%2$s
                4:memory:/kubepods/besteffort/pod%1$s/%2$s
                0::/kubepods/besteffort/pod%1$s/%2$s
                """.formatted(UID, ID);
        String hybridHostProcessInAnotherMemoryCgroup = """
                9:name=systemd:/
                4:memory:/process_api/2d8fcf1ae5ecba3428216b33dd81892f
                0::/
                """;

        assertThat(parser.parseProcCgroup(hybridContainer, true)).map(i -> i.id().value()).contains(ID);
        assertThat(parser.parseProcCgroup(hybridHostProcessInAnotherMemoryCgroup, true)).isEmpty();
    }

    @Test
    void readsTheV1LinesWhenNoUnifiedHierarchyIsMounted() {
        String pureV1 = """
                12:pids:/docker/%1$s
                1:name=systemd:/docker/%1$s
                0::/
                """.formatted(ID);

        assertThat(parser.parseProcCgroup(pureV1, false)).map(CgroupIdentity::runtime).contains(ContainerRuntime.DOCKER);
    }
}
