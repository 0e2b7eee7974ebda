package io.driftagent.agent.cli;

import io.driftagent.agent.learn.AlertLog;
import io.driftagent.agent.learn.AlertLogReader;
import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.learn.PolicyReplay;
import io.driftagent.policy.learn.RecordedAlert;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.load.ProblemCode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code policy replay --policy P --alerts FILE [--json]}: what the policy would decide for each recorded alert, per
 * rule, and what differs from the verdicts the log recorded. Exit codes: 0 replayed (differences are not an error),
 * 1 the policy is invalid, 2 usage error or unreadable file.
 */
final class ReplayCommand {
    private final PolicyLoader loader;
    private final JsonMapper json = JsonMapper.builder().build();

    ReplayCommand(PolicyLoader loader) {
        this.loader = loader;
    }

    int run(String[] args, PrintStream out, PrintStream err) {
        String policyFile = null;
        String alertsFile = null;
        boolean asJson = false;
        for (int i = 0; i < args.length; i++) {
            boolean hasValue = i + 1 < args.length;
            if (args[i].equals("--policy") && hasValue && policyFile == null) {
                policyFile = args[++i];
            } else if (args[i].equals("--alerts") && hasValue && alertsFile == null) {
                alertsFile = args[++i];
            } else if (args[i].equals("--json")) {
                asJson = true;
            } else {
                return usage(err, "unexpected argument '" + args[i] + "'");
            }
        }
        if (policyFile == null || alertsFile == null) {
            return usage(err, "both --policy FILE and --alerts FILE are required");
        }
        PolicyLoadResult result = loader.load(Path.of(policyFile));
        if (!result.isValid()) {
            result.problems().forEach(err::println);
            return result.problems().stream().anyMatch(p -> p.code() == ProblemCode.UNREADABLE)
                    ? PolicyCommand.USAGE : PolicyCommand.INVALID;
        }
        AlertLog log;
        try {
            log = new AlertLogReader().read(Path.of(alertsFile));
        } catch (IOException e) {
            err.println("drift-agent policy replay: cannot read " + alertsFile + ": " + e.getMessage());
            return PolicyCommand.USAGE;
        }
        SuggestCommand.reportMalformed(alertsFile, log, err);
        PolicyReplay.Report report = new PolicyReplay().replay(result.policy().orElseThrow(), log.alerts());
        if (asJson) {
            out.println(toJson(report, log));
        } else {
            text(report, log, alertsFile, policyFile, out);
        }
        return PolicyCommand.OK;
    }

    private static void text(PolicyReplay.Report report, AlertLog log, String alertsFile, String policyFile, PrintStream out) {
        out.println("replayed " + report.alerts() + " alert lines (" + report.occurrences() + " execs) from " + alertsFile
                + " against " + policyFile + (log.malformed().isEmpty() ? "" : "; " + log.malformed().size()
                + " malformed line" + (log.malformed().size() == 1 ? "" : "s") + " skipped"));
        out.println("execs per deciding rule:");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"rule", "priority", "alert", "block", "allowed", "ignore"});
        for (PolicyReplay.RuleCounts rule : report.rules()) {
            rows.add(new String[] {rule.name(), rule.defaultRule() ? "-" : String.valueOf(rule.priority()),
                    String.valueOf(rule.execs(Verdict.Decision.ALERT)), String.valueOf(rule.execs(Verdict.Decision.BLOCK)),
                    String.valueOf(rule.execs(Verdict.Decision.ALLOWED)), String.valueOf(rule.execs(Verdict.Decision.IGNORE))});
        }
        int[] widths = new int[6];
        rows.forEach(r -> {
            for (int i = 0; i < r.length; i++) {
                widths[i] = Math.max(widths[i], r[i].length());
            }
        });
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder("  ").append(pad(r[0], widths[0], false));
            for (int i = 1; i < r.length; i++) {
                line.append("  ").append(pad(r[i], widths[i], true));
            }
            out.println(line.toString().stripTrailing());
        }
        if (report.changes().isEmpty()) {
            out.println("no difference from the recorded verdicts");
            return;
        }
        List<PolicyReplay.Change> decisions = report.changes().stream().filter(PolicyReplay.Change::decisionChanged).toList();
        List<PolicyReplay.Change> rulesOnly = report.changes().stream().filter(c -> !c.decisionChanged()).toList();
        long execs = decisions.stream().mapToLong(c -> c.alert().count()).sum();
        out.println("differences from the recorded verdicts: " + decisions.size() + " alert lines (" + execs
                + " execs) change decision, " + rulesOnly.size() + " only their deciding rule");
        report.transitions().forEach((transition, n) -> out.println("  " + transition + ": " + n + " execs"));
        decisions.forEach(change -> out.println(describe(change)));
        rulesOnly.forEach(change -> out.println(describe(change)));
    }

    private static String describe(PolicyReplay.Change change) {
        RecordedAlert a = change.alert();
        return "  line " + a.line() + ": " + a.facts().kind() + " " + a.facts().path() + " (" + workload(a.facts())
                + "): recorded " + a.action() + (a.ruleName() == null ? "" : " by '" + a.ruleName() + "'")
                + ", now " + change.now().decision().wireName() + " by '" + change.now().ruleName() + "'"
                + (a.count() > 1 ? " (" + a.count() + " execs)" : "");
    }

    private static String workload(DriftFacts facts) {
        List<String> parts = new ArrayList<>();
        parts.add("namespace " + (facts.namespace() == null ? "(none)" : facts.namespace()));
        if (facts.podName() != null) {
            parts.add("pod " + facts.podName());
        }
        if (facts.containerName() != null) {
            parts.add("container " + facts.containerName());
        }
        return String.join(", ", parts);
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(Math.max(0, width - s.length()));
        return right ? fill + s : s + fill;
    }

    String toJson(PolicyReplay.Report report, AlertLog log) {
        ObjectNode root = json.createObjectNode();
        root.put("alerts", report.alerts());
        root.put("execs", report.occurrences());
        ArrayNode malformed = root.putArray("malformedLines");
        log.malformed().forEach(m -> malformed.add(m.line()));
        ArrayNode rules = root.putArray("rules");
        for (PolicyReplay.RuleCounts rule : report.rules()) {
            ObjectNode r = rules.addObject();
            r.put("name", rule.name());
            if (rule.priority() == null) {
                r.putNull("priority");
            } else {
                r.put("priority", rule.priority());
            }
            r.put("defaultRule", rule.defaultRule());
            r.put("alerts", rule.alerts());
            for (Verdict.Decision d : Verdict.Decision.values()) {
                r.put(d.wireName(), rule.execs(d));
            }
        }
        ObjectNode transitions = root.putObject("transitions");
        report.transitions().forEach(transitions::put);
        ArrayNode changes = root.putArray("changes");
        for (PolicyReplay.Change change : report.changes()) {
            RecordedAlert a = change.alert();
            ObjectNode c = changes.addObject();
            c.put("line", a.line());
            c.put("id", a.id());
            c.put("count", a.count());
            c.put("kind", a.facts().kind().name());
            c.put("path", a.facts().path());
            c.put("namespace", a.facts().namespace());
            c.put("pod", a.facts().podName());
            c.put("container", a.facts().containerName());
            ObjectNode recorded = c.putObject("recorded");
            recorded.put("action", a.action());
            recorded.put("rule", a.ruleName());
            ObjectNode now = c.putObject("now");
            now.put("verdict", change.now().decision().wireName());
            now.put("rule", change.now().ruleName());
            c.put("decisionChanged", change.decisionChanged());
        }
        return json.writeValueAsString(root);
    }

    private static int usage(PrintStream err, String message) {
        err.println("drift-agent policy replay: " + message);
        PolicyCommand.usage(err);
        return PolicyCommand.USAGE;
    }
}
