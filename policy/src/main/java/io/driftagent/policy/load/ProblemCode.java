package io.driftagent.policy.load;

/** Stable identifiers of policy problems (documented in docs/policy.md); never renamed once released. */
public enum ProblemCode {
    // reading the file
    UNREADABLE(Severity.ERROR),
    TOO_LARGE(Severity.ERROR),
    NOT_UTF8(Severity.ERROR),
    YAML_SYNTAX(Severity.ERROR),
    TOO_DEEP(Severity.ERROR),
    ALIAS_LIMIT(Severity.ERROR),
    EMPTY_DOCUMENT(Severity.ERROR),
    MULTIPLE_DOCUMENTS(Severity.ERROR),
    // document shape
    DUPLICATE_KEY(Severity.ERROR),
    UNKNOWN_KEY(Severity.ERROR),
    MISSING_KEY(Severity.ERROR),
    WRONG_TYPE(Severity.ERROR),
    MISSING_API_VERSION(Severity.ERROR),
    UNSUPPORTED_API_VERSION(Severity.ERROR),
    MISSING_KIND(Severity.ERROR),
    WRONG_KIND(Severity.ERROR),
    // values
    UNKNOWN_FIELD(Severity.ERROR),
    UNKNOWN_OPERATOR(Severity.ERROR),
    UNKNOWN_PROVIDER(Severity.ERROR),
    UNKNOWN_ACTION(Severity.ERROR),
    UNKNOWN_DRIFT_KIND(Severity.ERROR),
    UNKNOWN_TRIGGER(Severity.ERROR),
    EMPTY_VALUES(Severity.ERROR),
    INVALID_REGEX(Severity.ERROR),
    INVALID_GLOB(Severity.ERROR),
    INVALID_SHA256(Severity.ERROR),
    INVALID_ALLOW_ENTRY(Severity.ERROR),
    INVALID_LABEL_SELECTOR(Severity.ERROR),
    INVALID_NAME(Severity.ERROR),
    DUPLICATE_RULE_NAME(Severity.ERROR),
    UNKNOWN_ON_TIMEOUT(Severity.ERROR),
    ON_TIMEOUT_WITHOUT_BLOCK(Severity.ERROR),
    // whole-policy lints
    DUPLICATE_PRIORITY(Severity.WARNING),
    SHADOWED_RULE(Severity.WARNING);

    private final Severity severity;

    ProblemCode(Severity severity) {
        this.severity = severity;
    }

    public Severity severity() {
        return severity;
    }
}
