package io.driftagent.agent.image;

import java.util.Objects;

/**
 * One path of an image's merged view.
 *
 * @param path       absolute image path
 * @param type       file type
 * @param mode       permission bits (07777)
 * @param size       size in bytes (regular files)
 * @param layer      the layer that provides it (digest or directory)
 * @param linkTarget symlink target as stored, else null
 */
public record IndexEntry(String path, EntryType type, int mode, long size, String layer, String linkTarget) {
    public IndexEntry {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(layer, "layer");
    }

    public enum EntryType { REGULAR, DIRECTORY, SYMLINK, HARDLINK, CHAR_DEVICE, BLOCK_DEVICE, FIFO, SOCKET }
}
