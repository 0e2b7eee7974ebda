package io.driftagent.policy.load;

/** The YAML could not be read into a tree; carries the one problem that stopped the reader. */
final class YamlReadException extends Exception {
    private static final long serialVersionUID = 1L;

    private final ProblemCode code;
    private final int line;
    private final int column;

    YamlReadException(ProblemCode code, int line, int column, String message) {
        super(message);
        this.code = code;
        this.line = Math.max(1, line);
        this.column = Math.max(1, column);
    }

    Problem toProblem(String file) {
        return Problem.of(code, file, line, column, "", getMessage());
    }
}
