package io.driftagent.agent.classification;

import io.driftagent.agent.fs.FileFacts;
import io.driftagent.agent.fs.RootedFiles;
import io.driftagent.agent.image.ImageIndex;
import io.driftagent.agent.image.ImagePaths;
import io.driftagent.agent.image.IndexEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * Resolves a path the way a container's overlay root shows it: each component is looked up in the writable layer
 * first (through {@link RootedFiles}, never following anything out of it), then in the image index; symlinks of
 * either layer are followed inside the container's view (at most {@value #MAX_SYMLINKS}), a whiteout hides the path.
 */
final class MergedView {

    static final int MAX_SYMLINKS = 40;
    private static final int MAX_LINK_TARGET = 4096;

    /** Where a path led. {@code upperFacts} set when the final entry is the writable layer's, else {@code imageEntry}. */
    record Resolution(String canonicalPath, FileFacts upperFacts, IndexEntry imageEntry) {
        boolean inUpper() {
            return upperFacts != null;
        }
    }

    private final RootedFiles rootedFiles;

    MergedView(RootedFiles rootedFiles) {
        this.rootedFiles = rootedFiles;
    }

    /** The entry {@code path} names (following a final symlink too); empty when it leads nowhere. */
    Optional<Resolution> resolve(Path upperDir, ImageIndex image, String path) throws IOException {
        if (isPlain(path)) {
            // every parent a real directory of the upper layer and the entry a regular file there: that is what the
            // merged view shows (an upper directory hides whatever a lower layer has at that path)
            Optional<FileFacts> direct = rootedFiles.stat(upperDir, path);
            if (direct.isPresent() && direct.get().type() == FileFacts.Type.REGULAR) {
                return Optional.of(new Resolution(path, direct.get(), null));
            }
        }
        Deque<String> pending = new ArrayDeque<>(components(path));
        List<String> resolved = new ArrayList<>();
        int symlinks = 0;
        FileFacts lastUpper = null;
        IndexEntry lastImage = null;
        while (!pending.isEmpty()) {
            String name = pending.pollFirst();
            if (name.equals(".")) {
                continue;
            }
            if (name.equals("..")) {
                if (!resolved.isEmpty()) {
                    resolved.remove(resolved.size() - 1);
                }
                continue;
            }
            resolved.add(name);
            String current = "/" + String.join("/", resolved);
            String linkTarget = null;
            Optional<FileFacts> upper = rootedFiles.stat(upperDir, current);
            if (upper.isPresent()) {
                FileFacts facts = upper.get();
                if (facts.type() == FileFacts.Type.CHAR_DEVICE) {
                    return Optional.empty(); // an overlay whiteout: deleted in the container
                }
                if (facts.type() == FileFacts.Type.SYMLINK) {
                    linkTarget = rootedFiles.readLink(upperDir, current, MAX_LINK_TARGET).orElse(null);
                    if (linkTarget == null) {
                        return Optional.empty();
                    }
                }
                lastUpper = facts;
                lastImage = null;
            } else {
                Optional<IndexEntry> entry = image.lookup(current);
                if (entry.isEmpty()) {
                    return Optional.empty();
                }
                if (entry.get().type() == IndexEntry.EntryType.SYMLINK) {
                    linkTarget = entry.get().linkTarget();
                }
                lastUpper = null;
                lastImage = entry.get();
            }
            if (linkTarget != null) {
                if (++symlinks > MAX_SYMLINKS) {
                    return Optional.empty();
                }
                resolved.remove(resolved.size() - 1);
                if (linkTarget.startsWith("/")) {
                    resolved.clear();
                }
                List<String> targetParts = components(linkTarget);
                for (int i = targetParts.size() - 1; i >= 0; i--) {
                    pending.addFirst(targetParts.get(i));
                }
            }
        }
        if (lastUpper == null && lastImage == null) {
            return Optional.empty();
        }
        return Optional.of(new Resolution("/" + String.join("/", resolved), lastUpper, lastImage));
    }

    /** Absolute, no empty, "." or ".." component, no trailing slash. */
    static boolean isPlain(String path) {
        if (!path.startsWith("/") || path.length() < 2 || path.endsWith("/") || path.contains("//")) {
            return false;
        }
        return !path.contains("/./") && !path.contains("/../") && !path.endsWith("/.") && !path.endsWith("/..");
    }

    static List<String> components(String path) {
        return ImagePaths.components(path);
    }

    /** Lexical normalisation for display ("/a/./b/../c" → "/a/c"); symlinks are not consulted. */
    static String normalise(String path) {
        if (isPlain(path)) {
            return path;
        }
        List<String> out = new ArrayList<>();
        for (String part : components(path)) {
            if (part.equals("..")) {
                if (!out.isEmpty()) {
                    out.remove(out.size() - 1);
                }
            } else if (!part.equals(".")) {
                out.add(part);
            }
        }
        return "/" + String.join("/", out);
    }

    static boolean isDirectory(Path hostPath) {
        return Files.isDirectory(hostPath, LinkOption.NOFOLLOW_LINKS);
    }
}
