package io.driftagent.agent.cli;

import io.driftagent.agent.learn.AlertLog;
import io.driftagent.agent.learn.AlertLogReader;
import io.driftagent.agent.learn.SuggestionFile;
import io.driftagent.policy.learn.PolicySuggester;
import io.driftagent.policy.learn.RecordedAlert;
import io.driftagent.policy.learn.SuggestScope;
import io.driftagent.policy.learn.Suggestion;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.load.ProblemCode;
import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.DriftPolicy;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code policy suggest --alerts FILE [--policy CURRENT] [--namespace NS ...] [--workload W ...] [--kind K ...]
 * [--glob-threshold N] [--out FILE]}: a policy that silences the recorded alerts asked for, narrowly
 * ({@link PolicySuggester}). Exit codes: 0 written, 1 the current policy is invalid, 2 usage error or unreadable file.
 */
final class SuggestCommand {
    private final PolicyLoader loader;

    SuggestCommand(PolicyLoader loader) {
        this.loader = loader;
    }

    int run(String[] args, PrintStream out, PrintStream err) {
        String alertsFile = null;
        String policyFile = null;
        String outFile = null;
        int globThreshold = PolicySuggester.DEFAULT_GLOB_THRESHOLD;
        Set<String> namespaces = new LinkedHashSet<>();
        Set<String> workloads = new LinkedHashSet<>();
        Set<DriftKind> kinds = new LinkedHashSet<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (i + 1 >= args.length) {
                return usage(err, "unexpected argument '" + arg + "' (options take a value)");
            }
            String value = args[++i];
            switch (arg) {
                case "--alerts" -> alertsFile = value;
                case "--policy" -> policyFile = value;
                case "--out" -> outFile = value;
                case "--namespace" -> namespaces.add(value);
                case "--workload" -> workloads.add(value);
                case "--kind" -> {
                    DriftKind kind = kind(value);
                    if (kind == null) {
                        return usage(err, "--kind '" + value + "' is not a drift kind; use ADDED, MODIFIED, MOUNT, "
                                + "FILELESS or UNRESOLVED");
                    }
                    kinds.add(kind);
                }
                case "--glob-threshold" -> {
                    try {
                        globThreshold = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        globThreshold = -1;
                    }
                    if (globThreshold < 0 || globThreshold == 1) {
                        return usage(err, "--glob-threshold must be 0 (never) or at least 2");
                    }
                }
                default -> {
                    return usage(err, "unexpected argument '" + arg + "'");
                }
            }
        }
        if (alertsFile == null) {
            return usage(err, "--alerts FILE is required");
        }
        DriftPolicy current = new DriftPolicy(List.of(), Action.ALERT);
        if (policyFile != null) {
            PolicyLoadResult result = loader.load(Path.of(policyFile));
            if (!result.isValid()) {
                result.problems().forEach(err::println);
                return isUnreadable(result) ? PolicyCommand.USAGE : PolicyCommand.INVALID;
            }
            current = result.policy().orElseThrow().source();
        }
        AlertLog log;
        try {
            log = new AlertLogReader().read(Path.of(alertsFile));
        } catch (IOException e) {
            err.println("drift-agent policy suggest: cannot read " + alertsFile + ": " + e.getMessage());
            return PolicyCommand.USAGE;
        }
        reportMalformed(alertsFile, log, err);
        SuggestScope scope = new SuggestScope(namespaces, workloads, kinds);
        List<String> header = new ArrayList<>();
        header.add("Suggested by drift-agent policy suggest from " + alertsFile + " (" + log.alerts().size()
                + " alert lines, " + log.malformed().size() + " malformed)"
                + (policyFile == null ? "; no current policy: taken as 'defaultRule: alert'" : " and the policy " + policyFile));
        header.add("Scope: namespaces " + orAll(namespaces) + ", workloads " + orAll(workloads) + ", kinds " + orAll(kinds));
        Suggestion suggestion = new PolicySuggester(globThreshold).suggest(current, log.alerts(), scope, header);
        if (outFile == null) {
            out.print(suggestion.yaml());
        } else {
            try {
                SuggestionFile.write(Path.of(outFile), suggestion.yaml());
            } catch (IOException e) {
                err.println("drift-agent policy suggest: cannot write " + outFile + ": " + e.getMessage());
                return PolicyCommand.USAGE;
            }
        }
        summary(suggestion, err);
        return PolicyCommand.OK;
    }

    static void reportMalformed(String file, AlertLog log, PrintStream err) {
        for (AlertLog.Malformed m : log.malformed()) {
            err.println(file + ":" + m.line() + ": skipped: " + m.reason());
        }
        if (!log.malformed().isEmpty()) {
            err.println(file + ": " + log.malformed().size() + " malformed line" + (log.malformed().size() == 1 ? "" : "s")
                    + " skipped");
        }
    }

    private static void summary(Suggestion s, PrintStream err) {
        Suggestion.Counts c = s.counts();
        err.println("silenced " + c.silenced() + " alert lines with " + s.learned().size() + " learned rule"
                + (s.learned().size() == 1 ? "" : "s") + "; " + c.outOfScope() + " out of scope; " + c.alreadySilent()
                + " already ignored or allowed by the current policy");
        if (!c.unscoped().isEmpty()) {
            err.println(c.unscoped().size() + " alert lines name no namespace, workload label or image and stay as they"
                    + " are (no rule without a scope): lines " + c.unscoped());
        }
        if (!c.unmatchable().isEmpty()) {
            err.println(c.unmatchable().size() + " alert lines have neither an absolute path nor a sha256 and stay as"
                    + " they are: lines " + c.unmatchable());
        }
        for (RecordedAlert a : s.collateral()) {
            err.println("warning: line " + a.line() + " (" + a.facts().kind() + " " + a.facts().path()
                    + ") is outside the scope asked for but its verdict changes too");
        }
        if (s.renumbered()) {
            err.println("note: the current rules were renumbered (steps of 10, same order) to make room");
        }
        s.warnings().forEach(w -> err.println("warning: " + w));
    }

    private static String orAll(Set<?> values) {
        return values.isEmpty() ? "(all)" : values.toString();
    }

    private static DriftKind kind(String name) {
        for (DriftKind kind : DriftKind.values()) {
            if (kind.isDrift() && kind.name().equals(name)) {
                return kind;
            }
        }
        return null;
    }

    private static boolean isUnreadable(PolicyLoadResult result) {
        return result.problems().stream().anyMatch(p -> p.code() == ProblemCode.UNREADABLE);
    }

    private static int usage(PrintStream err, String message) {
        err.println("drift-agent policy suggest: " + message);
        PolicyCommand.usage(err);
        return PolicyCommand.USAGE;
    }
}
