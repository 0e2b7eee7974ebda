package io.driftagent.policy.model;

import java.util.List;
import java.util.Objects;

/**
 * One cloud a rule applies to.
 *
 * @param provider the cloud
 * @param accounts subscription / account / project ids; empty means every account of that provider
 */
public record CloudScope(
        @PolicyKey(required = true, description = "The cloud.")
        CloudProvider provider,
        @PolicyKey(description = "Subscription (azure), account (aws) or project (gcp) ids; absent: every account.")
        List<String> accounts) {
    public CloudScope {
        Objects.requireNonNull(provider, "provider");
        accounts = List.copyOf(accounts);
    }

    public static CloudScope anyAccount(CloudProvider provider) {
        return new CloudScope(provider, List.of());
    }
}
