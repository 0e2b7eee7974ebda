package io.driftagent.agent.fs;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The one mapping between a file name's bytes (what the kernel stores) and the Java String the agent uses for it.
 *
 * <p>Valid UTF-8 decodes as UTF-8. Every byte that is not part of a valid UTF-8 sequence maps to the lone low
 * surrogate {@code U+DC00 + byte} (the "surrogateescape" scheme of Python's PEP 383). Decoding valid UTF-8 never
 * yields a lone surrogate, so the mapping is injective and {@link #encode} restores the exact bytes: a name with
 * invalid UTF-8 can be indexed, compared and reopened. Newlines and other control characters are kept as they are
 * (the String is data, never a log line or a shell word).
 */
public final class PathBytes {

    private PathBytes() {
    }

    /** The String for raw name bytes {@code bytes[offset, offset+length)}. */
    public static String decode(byte[] bytes, int offset, int length) {
        boolean ascii = true;
        for (int i = offset; i < offset + length; i++) {
            if (bytes[i] < 0) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
        }
        CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return strict.decode(ByteBuffer.wrap(bytes, offset, length)).toString();
        } catch (CharacterCodingException invalid) {
            return decodeEscaping(bytes, offset, length);
        }
    }

    public static String decode(byte[] bytes) {
        return decode(bytes, 0, bytes.length);
    }

    private static String decodeEscaping(byte[] bytes, int offset, int length) {
        StringBuilder out = new StringBuilder(length);
        CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        int i = offset;
        int end = offset + length;
        while (i < end) {
            int b = bytes[i] & 0xff;
            if (b < 0x80) {
                out.append((char) b);
                i++;
                continue;
            }
            int seqLen = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
            if (seqLen > 0 && i + seqLen <= end) {
                try {
                    CharBuffer chars = strict.reset().decode(ByteBuffer.wrap(bytes, i, seqLen));
                    out.append(chars);
                    i += seqLen;
                    continue;
                } catch (CharacterCodingException notASequence) {
                    // fall through: escape this byte alone
                }
            }
            out.append((char) (0xDC00 + b));
            i++;
        }
        return out.toString();
    }

    /** The raw bytes of a String produced by {@link #decode} (escaped bytes restored, the rest UTF-8). */
    public static byte[] encode(String name) {
        boolean ascii = true;
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) >= 0x80) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return name.getBytes(StandardCharsets.ISO_8859_1);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(name.length() + 8);
        int i = 0;
        while (i < name.length()) {
            char c = name.charAt(i);
            if (c >= 0xDC80 && c <= 0xDCFF) {
                out.write(c - 0xDC00);
                i++;
            } else if (Character.isHighSurrogate(c) && i + 1 < name.length()
                    && Character.isLowSurrogate(name.charAt(i + 1))) {
                byte[] pair = name.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                out.write(pair, 0, pair.length);
                i += 2;
            } else {
                byte[] one = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(one, 0, one.length);
                i++;
            }
        }
        return out.toByteArray();
    }

    /**
     * The name's exact bytes in base64 (RFC 4648, padded) when the name holds a byte that is not UTF-8 (an escaped
     * byte of {@link #decode}), else null: what an alert carries next to a text rendering that cannot be lossless.
     */
    public static String base64IfNotUtf8(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 0xDC80 && c <= 0xDCFF && (i == 0 || !Character.isHighSurrogate(name.charAt(i - 1)))) {
                return java.util.Base64.getEncoder().encodeToString(encode(name));
            }
        }
        return null;
    }

    /** {@link #encode} plus a terminating NUL, as the kernel wants a path. */
    public static byte[] encodeCString(String name) {
        byte[] raw = encode(name);
        byte[] withNul = new byte[raw.length + 1];
        System.arraycopy(raw, 0, withNul, 0, raw.length);
        return withNul;
    }
}
