package io.driftagent.agent.image;

import java.util.ArrayList;
import java.util.List;

/** Normalisation of image paths: absolute, single slashes, no "." components, no trailing slash. */
public final class ImagePaths {

    private ImagePaths() {
    }

    /** True when the path is already in the normal form {@link #normalize} produces. */
    static boolean isNormal(String path) {
        int n = path.length();
        if (n == 0 || path.charAt(0) != '/') {
            return false;
        }
        if (n == 1) {
            return true;
        }
        if (path.charAt(n - 1) == '/') {
            return false;
        }
        for (int i = 1; i < n; i++) {
            if (path.charAt(i) == '/' && path.charAt(i - 1) == '/') {
                return false;
            }
            if (path.charAt(i) == '.' && path.charAt(i - 1) == '/'
                    && (i + 1 == n || path.charAt(i + 1) == '/'
                        || (path.charAt(i + 1) == '.' && (i + 2 == n || path.charAt(i + 2) == '/')))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Normal form of a path from an archive or a caller ("./usr/bin/", "usr//bin"); null when it has a ".."
     * component (an archive entry escaping its root is dropped, never clamped).
     */
    static String normalize(String raw) {
        if (isNormal(raw)) {
            return raw;
        }
        StringBuilder out = new StringBuilder(raw.length() + 1);
        for (String part : raw.split("/", -1)) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                return null;
            }
            out.append('/').append(part);
        }
        return out.length() == 0 ? "/" : out.toString();
    }

    static String parent(String normal) {
        int slash = normal.lastIndexOf('/');
        return slash <= 0 ? "/" : normal.substring(0, slash);
    }

    static String name(String normal) {
        return normal.substring(normal.lastIndexOf('/') + 1);
    }

    /** The non-empty components of a path ("/a//b/" -> [a, b]). */
    public static List<String> components(String path) {
        List<String> parts = new ArrayList<>();
        for (String part : path.split("/")) {
            if (!part.isEmpty()) {
                parts.add(part);
            }
        }
        return parts;
    }
}
