package io.driftagent.agent.host;

import java.util.List;
import java.util.Objects;

/**
 * One line of {@code /proc/<pid>/mountinfo}, every field unescaped.
 *
 * @param mountId      field 1
 * @param parentId     field 2
 * @param dev          field 3 ({@code major:minor}) in stat(2) encoding
 * @param root         field 4: the mount's root within its filesystem
 * @param mountPoint   field 5, relative to the reading process's root
 * @param optionalTags the optional fields (shared:N, master:N, ...)
 * @param fsType       the filesystem type
 * @param source       the mount source
 * @param superOptions the super-block options, split on unescaped commas and unescaped
 */
public record MountInfoEntry(int mountId, int parentId, long dev, String root, String mountPoint,
                             List<String> optionalTags, String fsType, String source, List<String> superOptions) {
    public MountInfoEntry {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(mountPoint, "mountPoint");
        optionalTags = List.copyOf(optionalTags);
        Objects.requireNonNull(fsType, "fsType");
        Objects.requireNonNull(source, "source");
        superOptions = List.copyOf(superOptions);
    }
}
