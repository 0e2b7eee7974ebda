package io.driftagent.agent.cli;

import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.eval.Explanation;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.load.ProblemCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code policy validate FILE...}, {@code policy explain --policy FILE --event EVENT.json}, {@code policy suggest}
 * ({@link SuggestCommand}) and {@code policy replay} ({@link ReplayCommand}).
 * Exit codes: 0 valid / explained, 1 invalid policy, 2 usage error, unreadable file or bad event.
 */
public final class PolicyCommand {
    static final int OK = 0;
    static final int INVALID = 1;
    static final int USAGE = 2;
    private static final int MAX_EVENT_BYTES = 1024 * 1024;

    private final PolicyLoader loader;
    private final EventFactsReader events = new EventFactsReader();
    private final JsonMapper json = JsonMapper.builder().build();

    public PolicyCommand() {
        this(new PolicyLoader());
    }

    public PolicyCommand(PolicyLoader loader) {
        this.loader = Objects.requireNonNull(loader, "loader");
    }

    /** Runs {@code policy <sub-command> ...}; {@code args} starts after the word "policy". */
    public int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            usage(err);
            return USAGE;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0]) {
            case "validate":
                return validate(rest, out, err);
            case "explain":
                return explain(rest, out, err);
            case "suggest":
                return new SuggestCommand(loader).run(rest, out, err);
            case "replay":
                return new ReplayCommand(loader).run(rest, out, err);
            case "--help":
            case "help":
                usage(out);
                return OK;
            default:
                err.println("drift-agent policy: unknown sub-command '" + args[0] + "'");
                usage(err);
                return USAGE;
        }
    }

    private int validate(String[] files, PrintStream out, PrintStream err) {
        if (files.length == 0) {
            err.println("drift-agent policy validate: no FILE given");
            usage(err);
            return USAGE;
        }
        int exit = OK;
        for (String file : files) {
            PolicyLoadResult result = loader.load(Path.of(file));
            result.problems().forEach(out::println);
            if (isUnreadable(result)) {
                exit = USAGE;
            } else if (!result.isValid()) {
                exit = Math.max(exit, INVALID);
            }
            err.println(file + ": " + (result.isValid()
                    ? "valid (" + result.warnings().size() + " warnings)"
                    : "invalid (" + result.errors().size() + " errors, " + result.warnings().size() + " warnings)"));
        }
        return exit;
    }

    private int explain(String[] args, PrintStream out, PrintStream err) {
        String policyFile = null;
        String eventFile = null;
        for (int i = 0; i < args.length; i++) {
            boolean hasValue = i + 1 < args.length;
            if (args[i].equals("--policy") && hasValue && policyFile == null) {
                policyFile = args[++i];
            } else if (args[i].equals("--event") && hasValue && eventFile == null) {
                eventFile = args[++i];
            } else {
                err.println("drift-agent policy explain: unexpected argument '" + args[i] + "'");
                usage(err);
                return USAGE;
            }
        }
        if (policyFile == null || eventFile == null) {
            err.println("drift-agent policy explain: both --policy FILE and --event FILE are required");
            usage(err);
            return USAGE;
        }
        PolicyLoadResult result = loader.load(Path.of(policyFile));
        if (!result.isValid()) {
            result.problems().forEach(err::println);
            return isUnreadable(result) ? USAGE : INVALID;
        }
        DriftFacts facts;
        try {
            facts = events.read(readEvent(Path.of(eventFile)));
        } catch (IOException e) {
            err.println("drift-agent policy explain: cannot read " + eventFile + ": " + e.getMessage());
            return USAGE;
        } catch (InvalidEventException e) {
            err.println("drift-agent policy explain: " + eventFile + ": " + e.getMessage());
            return USAGE;
        }
        out.println(toJson(result.policy().orElseThrow().explain(facts)));
        return OK;
    }

    private static byte[] readEvent(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(Files.exists(file) ? "not a regular file" : "no such file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] content = in.readNBytes(MAX_EVENT_BYTES + 1);
            if (content.length > MAX_EVENT_BYTES) {
                throw new IOException("larger than " + MAX_EVENT_BYTES + " bytes");
            }
            return content;
        }
    }

    /** {@code {"verdict":..,"rule":{"name":..,"priority":..}|null,"defaultRule":..,"reasons":[..]}} */
    String toJson(Explanation explanation) {
        Verdict verdict = explanation.verdict();
        ObjectNode root = json.createObjectNode();
        root.put("verdict", verdict.decision().wireName());
        if (verdict.defaultRule()) {
            root.putNull("rule");
        } else {
            ObjectNode rule = root.putObject("rule");
            rule.put("name", verdict.ruleName());
            rule.put("priority", verdict.rulePriority());
        }
        root.put("defaultRule", verdict.defaultRule());
        ArrayNode reasons = root.putArray("reasons");
        explanation.reasons().forEach(reasons::add);
        return json.writeValueAsString(root);
    }

    private static boolean isUnreadable(PolicyLoadResult result) {
        return result.problems().stream().anyMatch(p -> p.code() == ProblemCode.UNREADABLE);
    }

    static void usage(PrintStream out) {
        out.println("usage: java -jar drift-agent.jar policy validate FILE...");
        out.println("       java -jar drift-agent.jar policy explain --policy FILE --event EVENT.json");
        out.println("       java -jar drift-agent.jar policy suggest --alerts FILE [--policy CURRENT] [--namespace NS]...");
        out.println("                [--workload W]... [--kind K]... [--glob-threshold N] [--out FILE]");
        out.println("       java -jar drift-agent.jar policy replay --policy FILE --alerts FILE [--json]");
        out.println("validate prints one problem per line (FILE:LINE:COL: CODE: message (at PATH)) and exits");
        out.println("  0 when every file is valid (warnings allowed), 1 when one is invalid, 2 on usage or read errors.");
        out.println("explain prints one JSON object: the verdict, the deciding rule and the reasons.");
        out.println("suggest writes a policy silencing the recorded alerts narrowly; replay shows what a policy would");
        out.println("  decide for recorded alerts, per rule, and the differences from the recorded verdicts.");
    }
}
