package io.driftagent.agent.cloud;

import io.driftagent.policy.model.CloudProvider;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cloud a node runs in and its account: Azure subscription id, AWS account id, GCP project id.
 * Both null off-cloud (kind, bare metal, unknown provider); account may be null when the cloud is known but the
 * account is not (AWS without configuration).
 */
public record CloudIdentity(CloudProvider provider, String account) {
    public static final CloudIdentity NONE = new CloudIdentity(null, null);

    private static final Pattern AZURE = Pattern.compile("^azure:///subscriptions/([^/]+)/.*", Pattern.CASE_INSENSITIVE);
    private static final Pattern GCE = Pattern.compile("^gce://([^/]+)/[^/]+/[^/]+$");
    private static final Pattern AWS = Pattern.compile("^aws://(/[^/]*)?/[^/]+$");

    public CloudIdentity {
        if (provider == null && account != null) {
            throw new IllegalArgumentException("an account needs a provider: " + account);
        }
        if (account != null && account.isBlank()) {
            account = null;
        }
    }

    /** The alert's {@code cloud.provider} value, or null. */
    public String providerLabel() {
        return provider == null ? null : provider.wireName();
    }

    /**
     * Reads a node's {@code spec.providerID}:
     * <ul>
     *   <li>{@code azure:///subscriptions/<subscription>/resourceGroups/...} (AKS, VMSS or VM): azure + subscription</li>
     *   <li>{@code gce://<project>/<zone>/<instance>} (GKE): gcp + project</li>
     *   <li>{@code aws:///<zone>/<instance-id>} (EKS): aws + {@code awsAccount}, as the providerID lacks the account</li>
     *   <li>anything else ({@code kind://...}, empty, unknown): {@link #NONE}</li>
     * </ul>
     */
    public static CloudIdentity fromProviderId(String providerId, String awsAccount) {
        if (providerId == null || providerId.isBlank()) {
            return NONE;
        }
        Matcher azure = AZURE.matcher(providerId);
        if (azure.matches()) {
            return new CloudIdentity(CloudProvider.AZURE, azure.group(1).toLowerCase(java.util.Locale.ROOT));
        }
        Matcher gce = GCE.matcher(providerId);
        if (gce.matches()) {
            return new CloudIdentity(CloudProvider.GCP, gce.group(1));
        }
        if (AWS.matcher(providerId).matches()) {
            return new CloudIdentity(CloudProvider.AWS, awsAccount);
        }
        return NONE;
    }
}
