package io.driftagent.policy.eval;

import io.driftagent.policy.model.AllowListEntry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A rule's allow list, precompiled: exact paths and digests in hash maps, basenames and globs in arrays.
 * {@link #find} allocates nothing.
 */
final class CompiledAllowList {
    private final Map<String, AllowListEntry> paths = new HashMap<>();
    private final Map<String, AllowListEntry> digests = new HashMap<>();
    private final String[] names;
    private final AllowListEntry[] nameEntries;
    private final GlobPattern[] globs;
    private final AllowListEntry[] globEntries;

    CompiledAllowList(List<AllowListEntry> entries) {
        List<AllowListEntry> byName = new ArrayList<>();
        List<AllowListEntry> byGlob = new ArrayList<>();
        for (AllowListEntry entry : entries) {
            switch (entry.form()) {
                case PATH:
                    paths.putIfAbsent(entry.value(), entry);
                    break;
                case SHA256:
                    digests.putIfAbsent(entry.value().toLowerCase(Locale.ROOT), entry);
                    break;
                case NAME:
                    byName.add(entry);
                    break;
                case GLOB:
                    byGlob.add(entry);
                    break;
                default:
                    throw new IllegalArgumentException("allow-list form " + entry.form());
            }
        }
        nameEntries = byName.toArray(AllowListEntry[]::new);
        names = new String[nameEntries.length];
        for (int i = 0; i < names.length; i++) {
            names[i] = nameEntries[i].value();
        }
        globEntries = byGlob.toArray(AllowListEntry[]::new);
        globs = new GlobPattern[globEntries.length];
        for (int i = 0; i < globs.length; i++) {
            globs[i] = GlobPattern.compile(globEntries[i].value(), false);
        }
    }

    boolean isEmpty() {
        return paths.isEmpty() && digests.isEmpty() && names.length == 0 && globs.length == 0;
    }

    /** The first entry that allows the executed file, or null. {@code sha256} may be null (unknown). */
    AllowListEntry find(String path, String sha256) {
        AllowListEntry exact = paths.get(path);
        if (exact != null) {
            return exact;
        }
        if (names.length > 0) {
            int start = path.lastIndexOf('/') + 1;
            int length = path.length() - start;
            for (int i = 0; i < names.length; i++) {
                String name = names[i];
                if (name.length() == length && path.regionMatches(start, name, 0, length)) {
                    return nameEntries[i];
                }
            }
        }
        for (int i = 0; i < globs.length; i++) {
            if (globs[i].matches(path)) {
                return globEntries[i];
            }
        }
        return sha256 == null ? null : digests.get(sha256);
    }
}
