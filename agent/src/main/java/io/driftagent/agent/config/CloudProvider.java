package io.driftagent.agent.config;

import java.util.Locale;

/** A cloud the policy's cloud scope can name. */
public enum CloudProvider {
    AZURE, AWS, GCP;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
