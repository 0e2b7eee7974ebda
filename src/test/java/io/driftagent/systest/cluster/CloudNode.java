package io.driftagent.systest.cluster;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import java.util.Map;

/** A Node as each cloud's Kubernetes registers it: the providerID format and the labels that say which cloud. */
public record CloudNode(String provider, String account, String providerId, Map<String, String> labels) {

    public CloudNode {
        labels = Map.copyOf(labels);
    }

    public static final String AZURE_SUBSCRIPTION = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    public static final String GCP_PROJECT = "drift-systest-project";
    public static final String AWS_ACCOUNT = "123456789012";

    public static CloudNode aks(String nodeName) {
        return new CloudNode("azure", AZURE_SUBSCRIPTION, "azure:///subscriptions/" + AZURE_SUBSCRIPTION
                + "/resourceGroups/mc_rg_systest_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/"
                + "aks-nodepool1-12345678-vmss/virtualMachines/0",
                Map.of("kubernetes.azure.com/cluster", "mc_rg_systest_westeurope", "kubernetes.io/hostname", nodeName));
    }

    public static CloudNode eks(String nodeName) {
        return new CloudNode("aws", AWS_ACCOUNT, "aws:///eu-west-1a/i-0a1b2c3d4e5f60718",
                Map.of("eks.amazonaws.com/nodegroup", "systest", "kubernetes.io/hostname", nodeName));
    }

    public static CloudNode gke(String nodeName) {
        return new CloudNode("gcp", GCP_PROJECT, "gce://" + GCP_PROJECT + "/europe-west1-b/" + nodeName,
                Map.of("cloud.google.com/gke-nodepool", "default-pool", "kubernetes.io/hostname", nodeName));
    }

    /** The node for a values file: values-aks*.yaml, values-eks*.yaml, values-gke*.yaml; anything else: AKS. */
    public static CloudNode forValuesFile(String fileName, String nodeName) {
        if (fileName.contains("eks")) {
            return eks(nodeName);
        }
        if (fileName.contains("gke")) {
            return gke(nodeName);
        }
        return aks(nodeName);
    }

    public Node node(String name) {
        return new NodeBuilder().withNewMetadata().withName(name).withLabels(withOs()).endMetadata()
                .withNewSpec().withProviderID(providerId).endSpec()
                .withNewStatus().addNewAddress().withType("InternalIP").withAddress("127.0.0.1").endAddress()
                .addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus()
                .build();
    }

    private Map<String, String> withOs() {
        Map<String, String> all = new java.util.HashMap<>(labels);
        all.put("kubernetes.io/os", "linux");
        all.put("kubernetes.io/arch", "amd64");
        return all;
    }
}
