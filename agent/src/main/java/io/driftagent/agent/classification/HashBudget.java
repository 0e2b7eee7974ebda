package io.driftagent.agent.classification;

/**
 * How much content one classification may hash: no file larger than {@code maxBytesPerFile} is read, and at most two
 * files are (the executed file and, for a same-size copy-up, the image's file), so one classification reads at most
 * twice the bound. A digest already cached is used whatever the file's size. The drift kind never waits on a hash the
 * budget does not allow: it is decided from the kernel's facts, the image index and the sizes (see
 * docs/classification.md); only the alert's {@code sha256} and the tell-apart of a same-size copy-up need content.
 *
 * @param maxBytesPerFile the largest file hashed; 0 hashes nothing
 */
public record HashBudget(long maxBytesPerFile) {

    /** Hashes nothing: the decision from kernel facts, the image index and sizes only. */
    public static final HashBudget NONE = new HashBudget(0);

    public HashBudget {
        if (maxBytesPerFile < 0) {
            throw new IllegalArgumentException("maxBytesPerFile must be >= 0: " + maxBytesPerFile);
        }
    }

    public boolean allows(long size) {
        return size <= maxBytesPerFile;
    }
}
