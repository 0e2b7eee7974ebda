package io.driftagent.reporter.json;

import tools.jackson.core.SerializableString;
import tools.jackson.core.io.CharacterEscapes;
import tools.jackson.core.io.SerializedString;

/**
 * JSON escapes that keep one alert on one line and terminals safe: on top of JSON's mandatory escapes of
 * U+0000..U+001F, also DEL, the C1 controls (U+0080..U+009F, e.g. the CSI that drives terminals) and the Unicode
 * line/paragraph separators U+2028/U+2029 (line breaks for JavaScript and some log shippers).
 */
public final class LineSafeEscapes extends CharacterEscapes {

    private static final long serialVersionUID = 1L;
    private static final char REPLACEMENT = '\uFFFD';

    private final int[] asciiEscapes;

    public LineSafeEscapes() {
        asciiEscapes = CharacterEscapes.standardAsciiEscapesForJSON();
        asciiEscapes[0x7F] = CharacterEscapes.ESCAPE_CUSTOM;
    }

    @Override
    public int[] getEscapeCodesForAscii() {
        return asciiEscapes;
    }

    @Override
    public SerializableString getEscapeSequence(int ch) {
        if (ch == 0x7F || (ch >= 0x80 && ch <= 0x9F) || ch == 0x2028 || ch == 0x2029) {
            return new SerializedString(String.format("\\u%04x", ch));
        }
        return null;
    }

    /**
     * Replaces unpaired UTF-16 surrogates (possible in names decoded from attacker-controlled bytes) by U+FFFD, so the
     * output is valid UTF-8. Returns the same instance when nothing needs replacing (the common case).
     */
    public static String sanitize(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return replaceUnpairedSurrogates(s);
            }
        }
        return s;
    }

    private static String replaceUnpairedSurrogates(String s) {
        StringBuilder b = new StringBuilder(s.length());
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                b.append(REPLACEMENT);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
