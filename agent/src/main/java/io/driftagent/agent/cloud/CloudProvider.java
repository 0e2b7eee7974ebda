package io.driftagent.agent.cloud;

import java.util.Locale;
import java.util.Optional;

/** The public clouds whose node identities the agent recognises (alert field {@code cloud.provider}). */
public enum CloudProvider {
    AZURE("azure"), AWS("aws"), GCP("gcp");

    private final String label;

    CloudProvider(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** By label, case-insensitive ({@code azure}, {@code aws}, {@code gcp}); empty for anything else. */
    public static Optional<CloudProvider> fromLabel(String label) {
        if (label == null) {
            return Optional.empty();
        }
        String wanted = label.trim().toLowerCase(Locale.ROOT);
        for (CloudProvider provider : values()) {
            if (provider.label.equals(wanted)) {
                return Optional.of(provider);
            }
        }
        return Optional.empty();
    }
}
