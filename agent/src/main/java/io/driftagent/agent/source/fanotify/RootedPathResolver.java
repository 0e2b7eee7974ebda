package io.driftagent.agent.source.fanotify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;

/**
 * Resolves an absolute path as a process rooted at {@code root} would (a container's root), one component at a time:
 * symlinks are read and followed inside the root (absolute targets restart at the root, {@code ..} stops at it),
 * never through the agent's own root. Only lstat and readlink are used; nothing is opened.
 */
final class RootedPathResolver {

    private static final int MAX_SYMLINKS = 40;
    private static final int MAX_COMPONENTS = 256;

    private RootedPathResolver() {
    }

    /** {dev, ino} of the regular file {@code path} resolves to under {@code root}, or null. */
    static long[] regularFile(Path root, String path) {
        Deque<String> todo = new ArrayDeque<>();
        push(todo, path);
        Deque<String> resolved = new ArrayDeque<>();
        int links = 0;
        int steps = 0;
        try {
            while (!todo.isEmpty()) {
                if (++steps > MAX_COMPONENTS) {
                    return null;
                }
                String c = todo.pop();
                if (c.isEmpty() || c.equals(".")) {
                    continue;
                }
                if (c.equals("..")) {
                    resolved.pollLast();
                    continue;
                }
                Path p = at(root, resolved).resolve(c);
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,ino,dev", LinkOption.NOFOLLOW_LINKS);
                int type = ((Number) a.get("mode")).intValue() & 0170000;
                if (type == 0120000) {
                    if (++links > MAX_SYMLINKS) {
                        return null;
                    }
                    String target = Files.readSymbolicLink(p).toString();
                    if (target.startsWith("/")) {
                        resolved.clear();
                    }
                    push(todo, target);
                    continue;
                }
                resolved.addLast(c);
                if (todo.isEmpty()) {
                    return type == 0100000
                            ? new long[] {((Number) a.get("dev")).longValue(), ((Number) a.get("ino")).longValue()} : null;
                }
                if (type != 0040000) {
                    return null;
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    private static void push(Deque<String> todo, String path) {
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) {
            todo.push(parts[i]);
        }
    }

    private static Path at(Path root, Deque<String> components) {
        Path p = root;
        for (String c : components) {
            p = p.resolve(c);
        }
        return p;
    }
}
