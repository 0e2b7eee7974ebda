package io.driftagent.policy.load;

/** ERROR makes a policy unusable; WARNING is reported but the policy loads. */
public enum Severity {
    ERROR, WARNING
}
