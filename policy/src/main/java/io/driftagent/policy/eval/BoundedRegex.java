package io.driftagent.policy.eval;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.util.Optional;

/**
 * A policy regex that must match the whole value, run by RE2/J: matching takes time linear in the value's length
 * whatever the pattern (no backtracking), so a value chosen inside a container (an image or pod name) cannot make
 * evaluation slow. RE2 syntax is Java's without the constructs that need backtracking: back-references, lookahead
 * and lookbehind, possessive quantifiers and atomic groups are refused with a message that names the construct.
 * At most {@value #MAX_LENGTH} characters and {@value #MAX_PROGRAM_SIZE} compiled instructions. Each thread reuses its own {@link Matcher}.
 */
public final class BoundedRegex {
    public static final int MAX_LENGTH = 512;
    /**
     * Matching costs up to (value length) x (program size) steps; this bounds the second factor (e.g.
     * {@code [a-z]{1,100}} is 201 instructions, {@code (.*a){60}} about 300).
     */
    public static final int MAX_PROGRAM_SIZE = 256;

    private final Pattern pattern;
    private final ThreadLocal<Matcher> matchers;
    /** Text every match starts with (empty if unknown): most values are rejected without running the matcher. */
    private final String literalPrefix;
    private final boolean ignoreCase;

    private BoundedRegex(Pattern pattern, boolean ignoreCase) {
        this.pattern = pattern;
        this.ignoreCase = ignoreCase;
        this.literalPrefix = literalPrefix(pattern.pattern());
        this.matchers = ThreadLocal.withInitial(() -> pattern.matcher(""));
    }

    /** Why {@code regex} is rejected, or empty if it is acceptable. */
    public static Optional<String> problem(String regex) {
        if (regex.isEmpty()) {
            return Optional.of("a regex must not be empty");
        }
        if (regex.length() > MAX_LENGTH) {
            return Optional.of("a regex must be at most " + MAX_LENGTH + " characters, this one has " + regex.length());
        }
        Optional<String> unsupported = unsupportedConstruct(regex);
        if (unsupported.isPresent()) {
            return unsupported;
        }
        try {
            int size = Pattern.compile(regex).programSize();
            if (size > MAX_PROGRAM_SIZE) {
                return Optional.of("regex too large: it compiles to " + size + " matcher instructions, at most "
                        + MAX_PROGRAM_SIZE + " are allowed (large counted repetitions such as {n,m} multiply it)");
            }
            return Optional.empty();
        } catch (PatternSyntaxException e) {
            return Optional.of("invalid regex: " + e.getDescription()
                    + (e.getPattern() == null || e.getPattern().isEmpty() ? "" : " at '" + e.getPattern() + "'"));
        } catch (RuntimeException | StackOverflowError e) {
            return Optional.of("invalid regex: " + e);
        }
    }

    public static BoundedRegex compile(String regex, boolean ignoreCase) {
        Optional<String> problem = problem(regex);
        if (problem.isPresent()) {
            throw new IllegalArgumentException(problem.get());
        }
        return new BoundedRegex(Pattern.compile(regex, ignoreCase ? Pattern.CASE_INSENSITIVE : 0), ignoreCase);
    }

    public boolean matches(String value) {
        if (!value.regionMatches(ignoreCase, 0, literalPrefix, 0, literalPrefix.length())) {
            return false;
        }
        return matchers.get().reset(value).matches();
    }

    /**
     * The plain characters a regex starts with, up to the first metacharacter; a character followed by a quantifier
     * is optional and not part of it, and a regex with an alternation anywhere has none.
     */
    static String literalPrefix(String regex) {
        if (regex.indexOf('|') >= 0) {
            return "";
        }
        int end = 0;
        while (end < regex.length() && "\\^$.|?*+()[]{}".indexOf(regex.charAt(end)) < 0) {
            end++;
        }
        if (end < regex.length() && "?*{".indexOf(regex.charAt(end)) >= 0 && end > 0) {
            end--;
        }
        return regex.substring(0, end);
    }

    public String source() {
        return pattern.pattern();
    }

    /**
     * A lexical scan for the constructs RE2 cannot run in linear time, so that the error names them (RE2/J's own
     * message for them is a bare syntax error).
     */
    private static Optional<String> unsupportedConstruct(String regex) {
        int i = 0;
        while (i < regex.length()) {
            char c = regex.charAt(i);
            if (c == '\\') {
                if (i + 1 < regex.length()) {
                    char escaped = regex.charAt(i + 1);
                    if ((escaped >= '1' && escaped <= '9') || escaped == 'k') {
                        return Optional.of("back-references (offset " + i + ") are not supported: policy regexes use"
                                + " RE2 syntax, which matches in linear time");
                    }
                    if (escaped == 'Q') {
                        int end = regex.indexOf("\\E", i + 2);
                        i = end < 0 ? regex.length() : end + 2;
                        continue;
                    }
                }
                i += 2;
            } else if (c == '[') {
                i = skipCharacterClass(regex, i);
            } else if (regex.startsWith("(?=", i) || regex.startsWith("(?!", i) || regex.startsWith("(?<=", i)
                    || regex.startsWith("(?<!", i)) {
                return Optional.of("lookaround (offset " + i + ") is not supported: policy regexes use RE2 syntax,"
                        + " which matches in linear time");
            } else if (regex.startsWith("(?>", i)) {
                return Optional.of("atomic groups (offset " + i + ") are not supported: policy regexes use RE2 syntax,"
                        + " which matches in linear time");
            } else if ((c == '*' || c == '+' || c == '?' || c == '}') && i + 1 < regex.length()
                    && regex.charAt(i + 1) == '+') {
                return Optional.of("possessive quantifiers (offset " + i + ") are not supported: policy regexes use"
                        + " RE2 syntax, which matches in linear time");
            } else {
                i++;
            }
        }
        return Optional.empty();
    }

    private static int skipCharacterClass(String regex, int open) {
        int depth = 0;
        int i = open;
        while (i < regex.length()) {
            char c = regex.charAt(i);
            if (c == '\\') {
                i += 2;
                continue;
            }
            if (c == '[') {
                depth++;
            } else if (c == ']' && i > open + 1) {
                depth--;
                if (depth == 0) {
                    return i + 1;
                }
            }
            i++;
        }
        return regex.length();
    }

    @Override
    public String toString() {
        return pattern.pattern();
    }
}
