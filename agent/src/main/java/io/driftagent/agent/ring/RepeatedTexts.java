package io.driftagent.agent.ring;

import java.util.Arrays;

/**
 * The strings a ring reader decoded lately, found again by their bytes: an exec storm, a health probe or a shell loop
 * names the same few files and comms record after record, and a string decoded again is two objects more for the
 * young generation (the agent's is 4 MiB, so its collections are paid per exec). Direct-mapped by a hash of the bytes:
 * a text that meets another in its slot replaces it. Texts longer than {@value #MAX_LENGTH} bytes are decoded every
 * time. For the one thread that reads the ring.
 */
final class RepeatedTexts {
    /** How a text's bytes become a string; the same bytes must always give an equal string. */
    interface Decoding {
        String decode(byte[] bytes, int at, int len);
    }

    static final int MAX_LENGTH = 96;
    private static final int SLOTS = 128;

    private final Decoding decoding;
    private final byte[][] keys = new byte[SLOTS][];
    private final String[] texts = new String[SLOTS];

    RepeatedTexts(Decoding decoding) {
        this.decoding = decoding;
    }

    String text(byte[] bytes, int at, int len) {
        if (len > MAX_LENGTH) {
            return decoding.decode(bytes, at, len);
        }
        int slot = slot(bytes, at, len);
        byte[] key = keys[slot];
        if (key != null && key.length == len && Arrays.equals(key, 0, len, bytes, at, at + len)) {
            return texts[slot];
        }
        String text = decoding.decode(bytes, at, len);
        keys[slot] = Arrays.copyOfRange(bytes, at, at + len);
        texts[slot] = text;
        return text;
    }

    static int slot(byte[] bytes, int at, int len) {
        int hash = len;
        for (int i = at; i < at + len; i++) {
            hash = 31 * hash + bytes[i];
        }
        return (hash ^ hash >>> 16) & (SLOTS - 1);
    }
}
