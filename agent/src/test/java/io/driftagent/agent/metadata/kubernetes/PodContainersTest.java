package io.driftagent.agent.metadata.kubernetes;

import static io.driftagent.agent.metadata.kubernetes.TestPods.hexId;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.ContainerId;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class PodContainersTest {
    @Test
    void everyKindOfContainerIsIndexedWithTheSpecImageAndTheStatusDigest() {
        Pod pod = TestPods.webPod("web-1", "uid-1", "node-a", hexId('1'), hexId('2'), hexId('3'));

        List<IndexedContainer> containers = PodContainers.of(pod);

        assertThat(containers).extracting(c -> c.id().value()).containsExactly(hexId('1'), hexId('2'), hexId('3'));
        assertThat(containers).extracting(c -> c.metadata().image())
                .containsExactly("busybox:1.36", "nginx:1.25", "debug/tools:2");
        assertThat(containers.get(1).metadata().imageDigest()).isEqualTo(TestPods.NGINX_DIGEST);
        assertThat(containers.get(1).metadata().podUid()).isEqualTo("uid-1");
    }

    @Test
    void thePreviousInstanceOfARestartedContainerIsIndexedToo() {
        Pod pod = new PodBuilder(TestPods.webPod("web-1", "uid-1", "node-a", hexId('1'), hexId('2'), hexId('3')))
                .editStatus().editFirstContainerStatus().withRestartCount(1).withNewLastState().withNewTerminated()
                .withContainerID("containerd://" + hexId('9')).withExitCode(137).endTerminated().endLastState()
                .endContainerStatus().endStatus().build();

        assertThat(PodContainers.of(pod)).extracting(IndexedContainer::id).contains(new ContainerId(hexId('9')))
                .filteredOn(id -> id.value().equals(hexId('9'))).hasSize(1);
        assertThat(PodContainers.of(pod)).filteredOn(c -> c.id().value().equals(hexId('9')))
                .extracting(c -> c.metadata().containerName()).containsExactly("nginx");
    }

    @Test
    void aWaitingContainerWithoutAnIdIsNotIndexedAndAPodWithoutStatusHasNone() {
        Pod waiting = new PodBuilder(TestPods.webPod("web-1", "uid-1", "node-a", hexId('1'), hexId('2'), hexId('3')))
                .editStatus().editFirstContainerStatus().withContainerID(null).endContainerStatus().endStatus().build();
        Pod pending = new PodBuilder(waiting).withStatus(null).build();

        assertThat(PodContainers.of(waiting)).extracting(c -> c.metadata().containerName())
                .containsExactly("setup", "debugger");
        assertThat(PodContainers.of(pending)).isEmpty();
    }
}
