package io.driftagent.agent.policywatch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;

/**
 * What identifies one version of a file cheaply, through its symlinks: the final target's path, file key
 * (device and inode), modification time and size. A ConfigMap update changes the target path and inode.
 */
record FileFingerprint(Path target, Object fileKey, FileTime modified, long size) {

    static FileFingerprint of(Path file) throws IOException {
        Path target = file.toRealPath();
        BasicFileAttributes attributes = Files.readAttributes(target, BasicFileAttributes.class);
        return new FileFingerprint(target, attributes.fileKey(), attributes.lastModifiedTime(), attributes.size());
    }
}
