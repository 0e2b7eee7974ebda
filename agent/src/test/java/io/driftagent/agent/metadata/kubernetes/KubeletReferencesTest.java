package io.driftagent.agent.metadata.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.attribution.ContainerRuntime;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class KubeletReferencesTest {
    private static final String HEX = "4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e";

    @ParameterizedTest
    @CsvSource({
            "containerd://" + HEX + ", CONTAINERD",
            "cri-o://" + HEX + ", CRIO",
            "docker://" + HEX + ", DOCKER",
            "rkt://" + HEX + ", UNKNOWN"})
    void aKubeletContainerIdNamesItsRuntimeAndId(String kubeletId, ContainerRuntime runtime) {
        assertThat(RuntimeContainerRef.parse(kubeletId)).get()
                .satisfies(ref -> assertThat(ref.runtime()).isEqualTo(runtime))
                .satisfies(ref -> assertThat(ref.id().value()).isEqualTo(HEX));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"containerd://", "://" + HEX, HEX, "containerd://../../etc", "docker://a/b"})
    void aMissingOrMalformedContainerIdIsNoReference(String kubeletId) {
        assertThat(RuntimeContainerRef.parse(kubeletId)).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({
            "docker.io/library/nginx@sha256:" + HEX + ", sha256:" + HEX,
            "docker-pullable://nginx@sha256:" + HEX + ", sha256:" + HEX,
            "sha256:" + HEX + ", sha256:" + HEX,
            "registry.example.com:5000/team/app@sha256:" + HEX + ", sha256:" + HEX})
    void theDigestIsTakenFromAnImageId(String imageId, String digest) {
        assertThat(ImageDigests.fromImageId(imageId)).contains(digest);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"nginx:1.25", "docker.io/library/nginx@sha256:abc", "sha256:XYZ"})
    void anImageIdWithoutADigestGivesNone(String imageId) {
        assertThat(ImageDigests.fromImageId(imageId)).isEmpty();
    }
}
