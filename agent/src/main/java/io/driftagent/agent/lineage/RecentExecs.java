package io.driftagent.agent.lineage;

import io.driftagent.agent.source.ExecEvent.ProcessKey;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The process tree's most recent execs not yet named by a later one: at most {@code max}, the one put longest ago
 * dropped first. Every exec asks it for its parent and each ancestor, and under a storm nearly every answer is "not
 * here" (they were admitted long ago, or never exec'd): a count per tgid slot answers most of those from one array
 * load, where the map would hash the key and walk to a bucket no recent exec touched, a cache miss each.
 *
 * @param <V> what is kept per process
 */
final class RecentExecs<V> {
    private static final int SLOTS = 4096;

    /** How many keys of the map have a tgid in each slot: zero means none of them is the key asked. */
    private final int[] perSlot = new int[SLOTS];
    private final LinkedHashMap<ProcessKey, V> byKey;

    /** @param max the most execs kept */
    RecentExecs(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("recent execs kept must be at least 1: " + max);
        }
        // the map drops its eldest itself as it grows past the bound: no iterator per exec
        this.byKey = new LinkedHashMap<>(256, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<ProcessKey, V> eldest) {
                if (size() <= max) {
                    return false;
                }
                perSlot[slot(eldest.getKey())]--;
                return true;
            }
        };
    }

    V get(ProcessKey key) {
        return perSlot[slot(key)] == 0 ? null : byKey.get(key);
    }

    /** Removes and returns the key's value, null when it is not here. */
    V remove(ProcessKey key) {
        int slot = slot(key);
        if (perSlot[slot] == 0) {
            return null;
        }
        V removed = byKey.remove(key);
        if (removed != null) {
            perSlot[slot]--;
        }
        return removed;
    }

    /** Keeps the value as the newest; drops the oldest when that makes more than the bound. The key must not be here. */
    void putNew(ProcessKey key, V value) {
        V before = byKey.put(key, value);
        if (before != null) {
            byKey.put(key, before);
            throw new IllegalStateException("already among the recent execs: " + key);
        }
        perSlot[slot(key)]++;
    }

    boolean isEmpty() {
        return byKey.isEmpty();
    }

    int size() {
        return byKey.size();
    }

    private static int slot(ProcessKey key) {
        return key.tgid() & (SLOTS - 1);
    }
}
