package io.driftagent.policy.learn;

import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.AllowListEntry;
import io.driftagent.policy.model.CloudScope;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.DriftPolicy;
import io.driftagent.policy.model.OnTimeout;
import io.driftagent.policy.model.PolicyRule;
import io.driftagent.policy.model.ResourceCondition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@link DriftPolicy} as a policy file the loader reads back to the same policy. Rules are written in
 * evaluation order (priority ascending, ties in their order in the model). Every string is a double-quoted YAML
 * scalar with escapes, so no value (a path or label from inside a container) can change the document's structure;
 * comments are single lines with control characters escaped.
 */
public final class PolicyYamlWriter {

    /** Comments for one rule: lines above it, and one line above each of the given allow-list entries. */
    public record RuleComments(List<String> above, Map<AllowListEntry, String> entries) {
        public RuleComments {
            above = List.copyOf(above);
            entries = Map.copyOf(entries);
        }
    }

    public String write(DriftPolicy policy, List<String> header, Map<String, RuleComments> comments) {
        StringBuilder out = new StringBuilder();
        for (String line : header) {
            comment(out, "", line);
        }
        out.append("apiVersion: ").append(DriftPolicy.API_VERSION).append('\n');
        out.append("kind: ").append(DriftPolicy.KIND).append('\n');
        List<PolicyRule> ordered = new ArrayList<>(policy.rules());
        ordered.sort(Comparator.comparingInt(PolicyRule::priority));
        if (!ordered.isEmpty()) {
            out.append("rules:\n");
        }
        for (PolicyRule rule : ordered) {
            RuleComments c = comments.getOrDefault(rule.name(), new RuleComments(List.of(), Map.of()));
            rule(out, rule, c);
        }
        // an implicit "ignore" default stays implicit: written out, it would draw SHADOWED_RULE after a catch-all
        if (policy.defaultAction() != Action.IGNORE) {
            out.append("defaultRule:\n  action: ").append(policy.defaultAction().wireName()).append('\n');
            if (policy.defaultAction() == Action.BLOCK && policy.defaultOnTimeout() == OnTimeout.ALLOW) {
                out.append("  onTimeout: allow\n");
            }
        }
        return out.toString();
    }

    private static void rule(StringBuilder out, PolicyRule rule, RuleComments comments) {
        for (String line : comments.above()) {
            comment(out, "  ", line);
        }
        out.append("  - name: ").append(quote(rule.name())).append('\n');
        out.append("    priority: ").append(rule.priority()).append('\n');
        if (!rule.description().isEmpty()) {
            out.append("    description: ").append(quote(rule.description())).append('\n');
        }
        out.append("    action: ").append(rule.action().wireName()).append('\n');
        if (rule.action() == Action.BLOCK && rule.onTimeout() == OnTimeout.ALLOW) {
            out.append("    onTimeout: allow\n");
        }
        if (!rule.cloudScope().isEmpty()) {
            out.append("    cloudScope:\n");
            for (CloudScope cloud : rule.cloudScope()) {
                out.append("      - provider: ").append(cloud.provider().wireName()).append('\n');
                if (!cloud.accounts().isEmpty()) {
                    out.append("        accounts: ").append(flowList(cloud.accounts())).append('\n');
                }
            }
        }
        if (!rule.resourceScope().isEmpty()) {
            out.append("    resourceScope:\n");
            for (ResourceCondition condition : rule.resourceScope()) {
                out.append("      - field: ").append(condition.field().wireName()).append('\n');
                out.append("        operator: ").append(condition.operator().wireName()).append('\n');
                out.append("        values: ").append(flowList(condition.values())).append('\n');
                if (condition.ignoreCase()) {
                    out.append("        ignoreCase: true\n");
                }
            }
        }
        if (!rule.driftKinds().isEmpty()) {
            out.append("    driftKinds: [")
                    .append(String.join(", ", rule.driftKinds().stream().map(DriftKind::name).toList()))
                    .append("]\n");
        }
        if (!rule.triggers().isEmpty()) {
            out.append("    triggers: [")
                    .append(String.join(", ", rule.triggers().stream()
                            .map(io.driftagent.policy.model.Trigger::wireName).toList()))
                    .append("]\n");
        }
        if (!rule.allowList().isEmpty()) {
            out.append("    allowList:\n");
            for (AllowListEntry entry : rule.allowList()) {
                String note = comments.entries().get(entry);
                if (note != null) {
                    comment(out, "      ", note);
                }
                out.append("      - ").append(quote(entry.toString())).append('\n');
            }
        }
    }

    private static String flowList(List<String> values) {
        return "[" + String.join(", ", values.stream().map(PolicyYamlWriter::quote).toList()) + "]";
    }

    private static void comment(StringBuilder out, String indent, String text) {
        out.append(indent).append("# ").append(printable(text)).append('\n');
    }

    /** A YAML double-quoted scalar: every character that is not printable ASCII or plain text is escaped. */
    static String quote(String value) {
        StringBuilder out = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                out.append(c).append(value.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                out.append("\\uFFFD");
            } else if (needsEscape(c)) {
                out.append(String.format("\\u%04X", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    /** Comment text: one line, control characters and line separators shown as {@code \\uXXXX}. */
    static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                out.append(c).append(text.charAt(++i));
            } else if (Character.isSurrogate(c) || needsEscape(c)) {
                out.append(String.format("\\u%04X", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean needsEscape(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029' || c == '\uFEFF'
                || c == '\uFFFE' || c == '\uFFFF';
    }
}
