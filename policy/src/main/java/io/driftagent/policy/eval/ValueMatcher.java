package io.driftagent.policy.eval;

import io.driftagent.policy.model.MatchOperator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One operator with its values, precompiled: {@link #matches} is true when the value matches at least one of them.
 * Implementations allocate nothing per call. Case-insensitive comparisons follow {@link String#equalsIgnoreCase}
 * (locale-independent, per character).
 */
abstract class ValueMatcher {

    abstract boolean matches(String value);

    static ValueMatcher of(MatchOperator operator, List<String> values, boolean ignoreCase) {
        String[] array = values.toArray(String[]::new);
        switch (operator) {
            case EQUALS:
                if (ignoreCase) {
                    return new EqualsIgnoringCase(array);
                }
                return array.length == 1 ? new EqualsOne(array[0]) : new EqualsAny(new HashSet<>(values));
            case STARTS_WITH:
                return new StartsWith(array, ignoreCase);
            case ENDS_WITH:
                return new EndsWith(array, ignoreCase);
            case CONTAINS:
                return new Contains(array, ignoreCase);
            case GLOB:
                GlobPattern[] globs = new GlobPattern[array.length];
                for (int i = 0; i < array.length; i++) {
                    globs[i] = GlobPattern.compile(array[i], ignoreCase);
                }
                return new Globs(globs);
            case REGEX:
                BoundedRegex[] regexes = new BoundedRegex[array.length];
                for (int i = 0; i < array.length; i++) {
                    regexes[i] = BoundedRegex.compile(array[i], ignoreCase);
                }
                return new Regexes(regexes);
            default:
                throw new IllegalArgumentException("operator " + operator);
        }
    }

    /** One character compared as {@link String#equalsIgnoreCase} does when {@code ignoreCase}. */
    static boolean sameChar(char a, char b, boolean ignoreCase) {
        if (a == b) {
            return true;
        }
        if (!ignoreCase) {
            return false;
        }
        char upperA = Character.toUpperCase(a);
        char upperB = Character.toUpperCase(b);
        return upperA == upperB || Character.toLowerCase(upperA) == Character.toLowerCase(upperB);
    }

    private static final class EqualsOne extends ValueMatcher {
        private final String expected;

        EqualsOne(String expected) {
            this.expected = expected;
        }

        @Override
        boolean matches(String value) {
            return expected.equals(value);
        }
    }

    private static final class EqualsAny extends ValueMatcher {
        private final Set<String> expected;

        EqualsAny(Set<String> expected) {
            this.expected = expected;
        }

        @Override
        boolean matches(String value) {
            return expected.contains(value);
        }
    }

    private static final class EqualsIgnoringCase extends ValueMatcher {
        private final String[] expected;

        EqualsIgnoringCase(String[] expected) {
            this.expected = expected;
        }

        @Override
        boolean matches(String value) {
            for (String candidate : expected) {
                if (candidate.equalsIgnoreCase(value)) {
                    return true;
                }
            }
            return false;
        }
    }

    private static final class StartsWith extends ValueMatcher {
        private final String[] prefixes;
        private final boolean ignoreCase;

        StartsWith(String[] prefixes, boolean ignoreCase) {
            this.prefixes = prefixes;
            this.ignoreCase = ignoreCase;
        }

        @Override
        boolean matches(String value) {
            for (String prefix : prefixes) {
                int last = prefix.length() - 1;
                // prefixes often share a long head (a registry host): compare the far end first to fail fast
                if (last < 0 || (last < value.length() && sameChar(value.charAt(last), prefix.charAt(last), ignoreCase)
                        && value.regionMatches(ignoreCase, 0, prefix, 0, last))) {
                    return true;
                }
            }
            return false;
        }
    }

    private static final class EndsWith extends ValueMatcher {
        private final String[] suffixes;
        private final boolean ignoreCase;

        EndsWith(String[] suffixes, boolean ignoreCase) {
            this.suffixes = suffixes;
            this.ignoreCase = ignoreCase;
        }

        @Override
        boolean matches(String value) {
            for (String suffix : suffixes) {
                int start = value.length() - suffix.length();
                // suffixes often share a long tail: compare their first character first to fail fast
                if (start >= 0 && (suffix.isEmpty() || sameChar(value.charAt(start), suffix.charAt(0), ignoreCase)
                        && value.regionMatches(ignoreCase, start + 1, suffix, 1, suffix.length() - 1))) {
                    return true;
                }
            }
            return false;
        }
    }

    private static final class Contains extends ValueMatcher {
        private final String[] parts;
        private final boolean ignoreCase;

        Contains(String[] parts, boolean ignoreCase) {
            this.parts = parts;
            this.ignoreCase = ignoreCase;
        }

        @Override
        boolean matches(String value) {
            for (String part : parts) {
                if (ignoreCase ? containsIgnoringCase(value, part) : value.contains(part)) {
                    return true;
                }
            }
            return false;
        }

        private static boolean containsIgnoringCase(String value, String part) {
            for (int start = 0; start + part.length() <= value.length(); start++) {
                if (value.regionMatches(true, start, part, 0, part.length())) {
                    return true;
                }
            }
            return false;
        }
    }

    private static final class Globs extends ValueMatcher {
        private final GlobPattern[] globs;

        Globs(GlobPattern[] globs) {
            this.globs = globs;
        }

        @Override
        boolean matches(String value) {
            for (GlobPattern glob : globs) {
                if (glob.matches(value)) {
                    return true;
                }
            }
            return false;
        }
    }

    private static final class Regexes extends ValueMatcher {
        private final BoundedRegex[] regexes;

        Regexes(BoundedRegex[] regexes) {
            this.regexes = regexes;
        }

        @Override
        boolean matches(String value) {
            for (BoundedRegex regex : regexes) {
                if (regex.matches(value)) {
                    return true;
                }
            }
            return false;
        }
    }
}
