package io.driftagent.policy.eval;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A java.util.regex pattern that must match the whole value, restricted so that matching cannot backtrack
 * exponentially on attacker-chosen values: at most {@value #MAX_LENGTH} characters, no back-references, and no
 * repeated ({@code *}, {@code +}, <code>{n,m}</code>) group that itself contains a repetition or an alternation
 * (the {@code (a+)+} and {@code (a|aa)*} families). Each thread reuses its own {@link Matcher}, so matching
 * allocates nothing once the thread has used this pattern.
 */
public final class BoundedRegex {
    public static final int MAX_LENGTH = 512;

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
        Optional<String> unsafe = backtrackingHazard(regex);
        if (unsafe.isPresent()) {
            return unsafe;
        }
        try {
            Pattern.compile(regex);
            return Optional.empty();
        } catch (PatternSyntaxException e) {
            return Optional.of("invalid regex: " + e.getDescription() + " near offset " + e.getIndex());
        } catch (RuntimeException | StackOverflowError e) {
            return Optional.of("invalid regex: " + e);
        }
    }

    public static BoundedRegex compile(String regex, boolean ignoreCase) {
        Optional<String> problem = problem(regex);
        if (problem.isPresent()) {
            throw new IllegalArgumentException(problem.get());
        }
        int flags = ignoreCase ? Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE : 0;
        return new BoundedRegex(Pattern.compile(regex, flags), ignoreCase);
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

    /** A lexical scan for the constructs that make a backtracking matcher exponential. */
    private static Optional<String> backtrackingHazard(String regex) {
        // for each open group: does its content repeat or alternate?
        Deque<boolean[]> groups = new ArrayDeque<>();
        boolean[] top = new boolean[1];
        int i = 0;
        while (i < regex.length()) {
            char c = regex.charAt(i);
            if (c == '\\') {
                if (i + 1 < regex.length()) {
                    char escaped = regex.charAt(i + 1);
                    if ((escaped >= '1' && escaped <= '9') || escaped == 'k') {
                        return Optional.of("back-references are not allowed (offset " + i + ")");
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
            } else if (c == '(') {
                groups.push(top);
                top = new boolean[1];
                i++;
            } else if (c == ')') {
                boolean innerHazard = top[0];
                top = groups.isEmpty() ? new boolean[1] : groups.pop();
                i++;
                if (i < regex.length() && isRepetition(regex, i)) {
                    if (innerHazard) {
                        return Optional.of("a repeated group that itself repeats or alternates (offset " + (i - 1)
                                + ") can backtrack exponentially; rewrite it without nesting");
                    }
                    top[0] = true;
                } else if (innerHazard) {
                    top[0] = true;
                }
            } else if (c == '|') {
                top[0] = true;
                i++;
            } else if (isRepetition(regex, i)) {
                top[0] = true;
                i++;
            } else {
                i++;
            }
        }
        return Optional.empty();
    }

    private static boolean isRepetition(String regex, int i) {
        char c = regex.charAt(i);
        return c == '*' || c == '+' || c == '{';
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
