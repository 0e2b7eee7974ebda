package io.driftagent.agent.policysource;

import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

/** The names of the cluster-scoped {@code DriftPolicy} custom resource ({@code drift-agent.io/v1alpha1}). */
public final class DriftPolicyResources {
    public static final String GROUP = "drift-agent.io";
    public static final String VERSION = "v1alpha1";
    public static final String KIND = "DriftPolicy";
    public static final String LIST_KIND = "DriftPolicyList";
    public static final String PLURAL = "driftpolicies";
    public static final String SINGULAR = "driftpolicy";
    public static final String SHORT_NAME = "dpol";
    /** The CRD's own name. */
    public static final String CRD_NAME = PLURAL + "." + GROUP;
    public static final String API_VERSION = GROUP + "/" + VERSION;
    /** At most this many node entries in a resource's {@code status.nodes}; the least recently updated go first. */
    public static final int MAX_STATUS_NODES = 200;
    /** At most this many problems in {@code status.problems} ({@code status.problemCount} has the total). */
    public static final int MAX_STATUS_PROBLEMS = 50;

    public static final ResourceDefinitionContext CONTEXT = new ResourceDefinitionContext.Builder()
            .withGroup(GROUP)
            .withVersion(VERSION)
            .withKind(KIND)
            .withPlural(PLURAL)
            .withNamespaced(false)
            .build();

    private DriftPolicyResources() {
    }
}
