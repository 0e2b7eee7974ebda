package io.driftagent.policy.load;

import java.util.Objects;

/**
 * One thing wrong with a policy file.
 *
 * @param severity ERROR (the policy is rejected) or WARNING
 * @param code     stable identifier
 * @param file     the source name given to the loader (usually the path)
 * @param line     1-based line
 * @param column   1-based column (in code points)
 * @param path     where in the document, e.g. {@code rules[2].resourceScope[0].operator}; empty for the whole file
 * @param message  what is wrong and, where possible, how to fix it
 */
public record Problem(Severity severity, ProblemCode code, String file, int line, int column, String path,
                      String message) {

    public Problem {
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(message, "message");
        if (line < 1 || column < 1) {
            throw new IllegalArgumentException("line and column are 1-based: " + line + ":" + column);
        }
    }

    static Problem of(ProblemCode code, String file, int line, int column, String path, String message) {
        return new Problem(code.severity(), code, file, line, column, path, message);
    }

    public boolean isError() {
        return severity == Severity.ERROR;
    }

    /** {@code FILE:LINE:COL: CODE: message (at PATH)}; the {@code (at PATH)} part is left out when path is empty. */
    @Override
    public String toString() {
        return file + ":" + line + ":" + column + ": " + code + ": " + message + (path.isEmpty() ? "" : " (at " + path + ")");
    }
}
