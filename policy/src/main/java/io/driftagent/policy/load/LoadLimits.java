package io.driftagent.policy.load;

/**
 * Bounds that keep hostile policy files from exhausting the agent.
 *
 * @param maxBytes  largest file accepted ({@link ProblemCode#TOO_LARGE})
 * @param maxDepth  deepest nesting of mappings and sequences ({@link ProblemCode#TOO_DEEP}); a valid policy needs 6
 * @param maxNodes  most YAML nodes in one file (scalars, sequences, mappings)
 */
public record LoadLimits(int maxBytes, int maxDepth, int maxNodes) {
    public static final LoadLimits DEFAULT = new LoadLimits(1024 * 1024, 32, 500_000);

    public LoadLimits {
        if (maxBytes < 1 || maxDepth < 1 || maxNodes < 1) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }
}
