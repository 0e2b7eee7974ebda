package io.driftagent.agent.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.metadata.kubernetes.CrudApiServer;
import io.driftagent.policy.model.CloudProvider;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class CloudIdentityTest {
    private static final String SUBSCRIPTION = "8f6c2e1a-3b4d-4e5f-9a8b-7c6d5e4f3a2b";

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            // AKS, virtual machine scale set node
            "azure:///subscriptions/" + SUBSCRIPTION + "/resourceGroups/mc_prod-rg_prod-aks_westeurope/providers/"
                    + "Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/virtualMachines/0, azure, "
                    + SUBSCRIPTION,
            // AKS, availability-set node (upper-case subscription is normalised)
            "azure:///subscriptions/" + "8F6C2E1A-3B4D-4E5F-9A8B-7C6D5E4F3A2B" + "/resourceGroups/MC_rg_aks_eastus/providers/"
                    + "Microsoft.Compute/virtualMachines/aks-agentpool-12345678-0, azure, " + SUBSCRIPTION,
            // GKE
            "gce://my-gcp-project-123/europe-west1-b/gke-prod-default-pool-1a2b3c4d-x9yz, gcp, my-gcp-project-123",
            // EKS: the account comes from configuration
            "aws:///us-east-1a/i-0123456789abcdef0, aws, 123456789012",
            "aws:///eu-west-1c/fargate-ip-192-168-1-10.eu-west-1.compute.internal, aws, 123456789012"})
    void aCloudProviderIdNamesTheProviderAndAccount(String providerId, String provider, String account) {
        CloudIdentity identity = CloudIdentity.fromProviderId(providerId, "123456789012");

        assertThat(identity.providerLabel()).isEqualTo(provider);
        assertThat(identity.account()).isEqualTo(account);
    }

    @Test
    void anAwsNodeWithoutAConfiguredAccountIsAwsWithNoAccount() {
        assertThat(CloudIdentity.fromProviderId("aws:///us-west-2b/i-0fedcba9876543210", null))
                .isEqualTo(new CloudIdentity(CloudProvider.AWS, null));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"kind://docker/kind/kind-control-plane", "k3s://worker-1", "moc://aks-hci-node",
            "azure:///resourceGroups/x", "gce://only-project", "openstack:///8d2f7a9c-1b2e-4c3d-9f8e-7a6b5c4d3e2f"})
    void anyOtherProviderIdIsNoCloud(String providerId) {
        assertThat(CloudIdentity.fromProviderId(providerId, "123456789012")).isEqualTo(CloudIdentity.NONE);
    }

    @Test
    void theConfiguredAccountOverridesTheOneReadFromTheNode() {
        NodeCloudIdentityResolver resolver =
                new NodeCloudIdentityResolver(new CloudSettings("prod", null, "other-subscription"));

        assertThat(resolver.fromProviderId("azure:///subscriptions/" + SUBSCRIPTION + "/resourceGroups/rg/x"))
                .isEqualTo(new CloudIdentity(CloudProvider.AZURE, "other-subscription"));
    }

    @Test
    void aConfiguredProviderAndAccountApplyOffCloud() {
        NodeCloudIdentityResolver resolver =
                new NodeCloudIdentityResolver(new CloudSettings("lab", CloudProvider.GCP, "lab-project"));

        assertThat(resolver.fromProviderId("kind://docker/kind/kind-worker"))
                .isEqualTo(new CloudIdentity(CloudProvider.GCP, "lab-project"));
    }

    @Test
    void theResolverReadsTheNodesProviderIdThroughTheApi() {
        CrudApiServer api = CrudApiServer.started();
        KubernetesMockServer server = api.server();
        try (KubernetesClient client = server.createClient()) {
            client.nodes().resource(new NodeBuilder().withNewMetadata().withName("aks-node-0").endMetadata()
                    .withNewSpec().withProviderID("azure:///subscriptions/" + SUBSCRIPTION
                            + "/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss/virtualMachines/0")
                    .endSpec().build()).create();

            CloudIdentity identity = new NodeCloudIdentityResolver(CloudSettings.NONE).resolve(client, "aks-node-0");

            assertThat(identity).isEqualTo(new CloudIdentity(CloudProvider.AZURE, SUBSCRIPTION));
        } finally {
            server.destroy();
        }
    }

    @Test
    void anUnreachableApiFallsBackToConfiguration() {
        CrudApiServer api = CrudApiServer.started();
        KubernetesMockServer server = api.server();
        try (KubernetesClient client = server.createClient()) {
            server.destroy();

            CloudIdentity identity = new NodeCloudIdentityResolver(new CloudSettings(null, CloudProvider.AWS, null))
                    .resolve(client, "ip-10-0-0-1.ec2.internal");

            assertThat(identity).isEqualTo(new CloudIdentity(CloudProvider.AWS, null));
        }
    }

    @Test
    void aMissingNodeFallsBackToConfiguration() {
        CrudApiServer api = CrudApiServer.started();
        KubernetesMockServer server = api.server();
        try (KubernetesClient client = server.createClient()) {
            assertThat(new NodeCloudIdentityResolver(CloudSettings.NONE).resolve(client, "ghost"))
                    .isEqualTo(CloudIdentity.NONE);
        } finally {
            server.destroy();
        }
    }
}
