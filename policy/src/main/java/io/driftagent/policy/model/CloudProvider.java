package io.driftagent.policy.model;

import java.util.Locale;
import java.util.Optional;

/** A cloud a rule can be scoped to; the account is a subscription (azure), account (aws) or project (gcp). */
public enum CloudProvider {
    AZURE, AWS, GCP;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses the exact wire spelling ({@code azure}, {@code aws}, {@code gcp}). */
    public static Optional<CloudProvider> fromWireName(String text) {
        for (CloudProvider provider : values()) {
            if (provider.wireName().equals(text)) {
                return Optional.of(provider);
            }
        }
        return Optional.empty();
    }
}
