package io.driftagent.policy.eval;

import java.util.Optional;

/**
 * A compiled glob: {@code *} matches any run of characters except {@code /}, {@code **} any run including
 * {@code /}, {@code ?} one character except {@code /}, {@code \} escapes the next character; everything else is
 * literal. The whole value must match.
 *
 * <p>Matching simulates the pattern as a set of positions (no backtracking), so it costs O(value length x pattern
 * length) for every input: an attacker who controls the value cannot make it slow. The two position buffers are
 * per thread, so a match allocates nothing once a thread has matched this glob before.
 */
public final class GlobPattern {
    /** Longest glob accepted; bounds the per-character work. */
    public static final int MAX_LENGTH = 1024;

    private static final int ANY_CHAR = -1;
    private static final int STAR = -2;
    private static final int DOUBLE_STAR = -3;

    private final String source;
    private final boolean ignoreCase;
    /** A literal character (>= 0) or one of the wildcard codes above. */
    private final int[] tokens;
    private final ThreadLocal<boolean[][]> positions;
    /** The literal characters before the first wildcard: a cheap first check. */
    private final String literalPrefix;

    private GlobPattern(String source, boolean ignoreCase, int[] tokens) {
        this.source = source;
        this.ignoreCase = ignoreCase;
        this.tokens = tokens;
        StringBuilder prefix = new StringBuilder();
        for (int token : tokens) {
            if (token < 0) {
                break;
            }
            prefix.append((char) token);
        }
        this.literalPrefix = prefix.toString();
        int width = tokens.length + 1;
        this.positions = ThreadLocal.withInitial(() -> new boolean[2][width]);
    }

    /** Why {@code glob} is not a valid glob, or empty if it is. */
    public static Optional<String> problem(String glob) {
        if (glob.isEmpty()) {
            return Optional.of("a glob must not be empty");
        }
        if (glob.length() > MAX_LENGTH) {
            return Optional.of("a glob must be at most " + MAX_LENGTH + " characters, this one has " + glob.length());
        }
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '\\') {
                if (i == glob.length() - 1) {
                    return Optional.of("the glob ends with an unfinished escape '\\'");
                }
                i++;
            } else if (c == '*' && i + 2 < glob.length() && glob.charAt(i + 1) == '*' && glob.charAt(i + 2) == '*') {
                return Optional.of("'***' at offset " + i + " is ambiguous: use '*' (one segment) or '**' (any depth)");
            }
        }
        return Optional.empty();
    }

    /** Compiles a glob; throws {@link IllegalArgumentException} with {@link #problem}'s message if it is invalid. */
    public static GlobPattern compile(String glob, boolean ignoreCase) {
        Optional<String> problem = problem(glob);
        if (problem.isPresent()) {
            throw new IllegalArgumentException(problem.get());
        }
        int[] tokens = new int[glob.length()];
        int count = 0;
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '\\') {
                tokens[count++] = fold(glob.charAt(++i), ignoreCase);
            } else if (c == '*') {
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                    tokens[count++] = DOUBLE_STAR;
                    i++;
                } else {
                    tokens[count++] = STAR;
                }
            } else if (c == '?') {
                tokens[count++] = ANY_CHAR;
            } else {
                tokens[count++] = fold(c, ignoreCase);
            }
        }
        int[] exact = new int[count];
        System.arraycopy(tokens, 0, exact, 0, count);
        return new GlobPattern(glob, ignoreCase, exact);
    }

    public String source() {
        return source;
    }

    public boolean matches(String value) {
        if (!value.regionMatches(ignoreCase, 0, literalPrefix, 0, literalPrefix.length())) {
            return false;
        }
        boolean[][] buffers = positions.get();
        boolean[] current = buffers[0];
        boolean[] next = buffers[1];
        int last = tokens.length;
        java.util.Arrays.fill(current, false);
        current[0] = true;
        skipEmptyStars(current);
        for (int i = 0; i < value.length(); i++) {
            int c = fold(value.charAt(i), ignoreCase);
            java.util.Arrays.fill(next, false);
            boolean alive = false;
            for (int j = 0; j < last; j++) {
                if (!current[j]) {
                    continue;
                }
                int token = tokens[j];
                if (token >= 0) {
                    if (token == c) {
                        next[j + 1] = true;
                        alive = true;
                    }
                } else if (token == ANY_CHAR) {
                    if (c != '/') {
                        next[j + 1] = true;
                        alive = true;
                    }
                } else if (token == STAR) {
                    if (c != '/') {
                        next[j] = true;
                        alive = true;
                    }
                } else {
                    next[j] = true;
                    alive = true;
                }
            }
            if (!alive) {
                return false;
            }
            skipEmptyStars(next);
            boolean[] swap = current;
            current = next;
            next = swap;
        }
        return current[last];
    }

    /** A star may match nothing: every position before a star also stands after it. */
    private void skipEmptyStars(boolean[] state) {
        for (int j = 0; j < tokens.length; j++) {
            if (state[j] && (tokens[j] == STAR || tokens[j] == DOUBLE_STAR)) {
                state[j + 1] = true;
            }
        }
    }

    /** The same folding as {@link String#equalsIgnoreCase}: upper case, then lower case. */
    private static int fold(char c, boolean ignoreCase) {
        return ignoreCase ? Character.toLowerCase(Character.toUpperCase(c)) : c;
    }

    @Override
    public String toString() {
        return source;
    }
}
