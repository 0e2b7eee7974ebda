package io.driftagent.agent.classification;

/**
 * Why an exec is UNRESOLVED: a small closed set, the {@code reason} label of {@code drift_unresolved_total}. Each is
 * listed in {@code docs/alerts.md} with what the user can do about it.
 */
public enum UnresolvedReason {
    /** Exec'd by a relative path, and the process (its cwd) was gone before the path could be made absolute. */
    RELATIVE_PATH("relative_path"),
    /** The container's filesystems are unknown: its processes were gone before it was seen, and it was not captured. */
    CONTAINER_UNKNOWN("container_unknown"),
    /** The container's root is not an overlay filesystem: there is no image layer to compare with. */
    ROOT_NOT_OVERLAY("root_not_overlay"),
    /** The file is on a device that is none of the container's known mounts. */
    UNKNOWN_MOUNT("unknown_mount"),
    /** The image's layers could not be read (index or content). */
    IMAGE_UNREADABLE("image_unreadable"),
    /** The writable layer exists but could not be read. */
    WRITABLE_LAYER_UNREADABLE("writable_layer_unreadable"),
    /** The executed file is no longer where it was exec'd from (removed or renamed before it was classified). */
    FILE_GONE("file_gone"),
    /** The executed entry is not a regular file. */
    NOT_REGULAR_FILE("not_regular_file"),
    /** Decided before classification: a blocking decision at its deadline or without a decision. */
    NOT_CLASSIFIED("not_classified");

    private final String label;

    UnresolvedReason(String label) {
        this.label = label;
    }

    /** The metric label and the alert's reason code. */
    public String label() {
        return label;
    }
}
