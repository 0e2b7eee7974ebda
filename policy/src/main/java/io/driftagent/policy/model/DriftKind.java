package io.driftagent.policy.model;

/**
 * How one executed file relates to its container's image. See DESIGN.md, "DriftKind".
 * {@link #IMAGE} is the only kind that is not drift; it never reaches the policy.
 */
public enum DriftKind {
    /** The image's own file, unmodified (including a copy-up with identical content). */
    IMAGE,
    /** In the writable layer; the image has no file at that path. */
    ADDED,
    /** The image has that path but the executed content differs. */
    MODIFIED,
    /** On a mount that is not the image rootfs (emptyDir, hostPath, PVC, tmpfs, /dev/shm). */
    MOUNT,
    /** memfd_create or a deleted file (nlink 0). */
    FILELESS,
    /** Could not decide (container gone, image unreadable); reported with a reason. */
    UNRESOLVED;

    public boolean isDrift() {
        return this != IMAGE;
    }
}
