package io.driftagent.agent.classification;

import java.util.LinkedHashMap;
import java.util.Map;

/** A bounded LRU of sha256 digests by file content key. Thread-safe. */
final class Sha256Cache {

    private final Map<FileContentKey, String> digests;

    Sha256Cache(int maxEntries) {
        this.digests = new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<FileContentKey, String> eldest) {
                return size() > maxEntries;
            }
        };
    }

    synchronized String get(FileContentKey key) {
        return digests.get(key);
    }

    synchronized void put(FileContentKey key, String sha256) {
        digests.put(key, sha256);
    }

    synchronized int size() {
        return digests.size();
    }
}
