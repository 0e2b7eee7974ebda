package io.driftagent.policy.learn;

import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.load.PolicyLoadResult;
import io.driftagent.policy.load.PolicyLoader;
import io.driftagent.policy.load.Problem;
import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.AllowListEntry;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.DriftPolicy;
import io.driftagent.policy.model.OnTimeout;
import io.driftagent.policy.model.PolicyRule;
import io.driftagent.policy.model.ResourceCondition;
import io.driftagent.policy.model.Trigger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Suggests the narrowest policy change that silences recorded alerts.
 *
 * <p>The policy model has no condition on the executed path outside allow lists, so a path can only be silenced
 * by an allow-list entry, and an allow list belongs to its rule: adding entries to the rule that decided the alerts
 * would silence them for every workload that rule covers. Instead, for each workload (namespace, workload label,
 * container, and the image when no workload label names it) and each rule that decided its alerts, a <em>learned
 * rule</em> is inserted just before that rule: a copy of it (same action, cloud scope, resource scope, allow list),
 * narrowed by the workload's conditions and to the drift kinds seen, with the learned entries added to its allow
 * list. Any exec it matches would have been decided by the copied rule, so it changes nothing but the learned
 * entries: an exact path; a sha256 when the same content ran from several paths of the workload (or a fileless
 * exec); a one-directory glob ({@code glob:/dir/*}) when at least {@code globThreshold} exact paths of the workload
 * share a directory that is not a temporary one ({@code /tmp}, {@code /var/tmp}, {@code /dev/shm}, {@code /run},
 * {@code /dev}, {@code /}). Alerts that name no namespace, workload label or image are never silenced (no rule
 * without a scope).
 *
 * <p>Learned rules of one slot are ordered most specific first (a higher-ranked workload label first, then more
 * conditions), so no learned rule takes another one's execs. The result is checked before it is returned: the YAML
 * loads with the project's loader without errors, every alert asked for is silenced, and the verdict of every other
 * recorded alert is compared with the current policy's ({@link Suggestion#collateral()}).
 */
public final class PolicySuggester {
    public static final int DEFAULT_GLOB_THRESHOLD = 3;
    private static final Set<String> NO_GLOB_DIRECTORIES = Set.of("", "/", "/tmp", "/var/tmp", "/dev/shm", "/run", "/dev");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final int MAX_GLOB_DIRECTORY = 1000;
    private static final int MAX_NAME = 200;
    private static final int RENUMBER_STEP = 10;

    private final int globThreshold;
    private final PolicyLoader loader;

    /** @param globThreshold how many exact paths of one workload in one directory become a glob; 0 = never */
    public PolicySuggester(int globThreshold) {
        if (globThreshold < 0 || globThreshold == 1) {
            throw new IllegalArgumentException("globThreshold must be 0 (never) or at least 2: " + globThreshold);
        }
        this.globThreshold = globThreshold;
        this.loader = new PolicyLoader();
    }

    public PolicySuggester() {
        this(DEFAULT_GLOB_THRESHOLD);
    }

    /**
     * @param current the policy in force (its rules are kept)
     * @param alerts  the recorded alerts
     * @param scope   which alerts to silence
     * @param header  comment lines for the top of the file
     */
    public Suggestion suggest(DriftPolicy current, List<RecordedAlert> alerts, SuggestScope scope, List<String> header) {
        Objects.requireNonNull(current, "current");
        CompiledPolicy before = CompiledPolicy.compile(current);
        Map<GroupKey, List<RecordedAlert>> groups = new LinkedHashMap<>();
        long outOfScope = 0;
        long alreadySilent = 0;
        List<Long> unscoped = new ArrayList<>();
        for (RecordedAlert alert : alerts) {
            if (!scope.includes(alert)) {
                outOfScope++;
                continue;
            }
            Verdict verdict = before.evaluate(alert.facts());
            if (!isLoud(verdict)) {
                alreadySilent++;
                continue;
            }
            WorkloadIdentity workload = WorkloadIdentity.of(alert.facts());
            if (workload.conditions().isEmpty()) {
                unscoped.add(alert.line());
                continue;
            }
            groups.computeIfAbsent(new GroupKey(verdict.ruleName(), workload), k -> new ArrayList<>()).add(alert);
        }

        Map<String, PolicyRule> byName = new LinkedHashMap<>();
        current.rules().forEach(r -> byName.put(r.name(), r));
        Set<String> names = new HashSet<>(byName.keySet());
        List<Long> unmatchable = new ArrayList<>();
        Map<String, List<LearnedRule>> bySlot = new LinkedHashMap<>();
        Set<RecordedAlert> silenced = new HashSet<>();
        for (Map.Entry<GroupKey, List<RecordedAlert>> group : groups.entrySet()) {
            Map<AllowListEntry, Acc> entries = entries(group.getValue(), unmatchable);
            if (entries.isEmpty()) {
                continue;
            }
            entries.values().forEach(acc -> silenced.addAll(acc.alerts));
            GroupKey key = group.getKey();
            PolicyRule base = byName.get(key.decider());
            Set<DriftKind> kinds = EnumSet.noneOf(DriftKind.class);
            entries.values().forEach(acc -> acc.alerts.forEach(a -> kinds.add(a.facts().kind())));
            Set<Trigger> triggers = EnumSet.noneOf(Trigger.class);
            entries.values().forEach(acc -> acc.alerts.forEach(a -> triggers.add(a.facts().trigger())));
            LearnedRule learned = learnedRule(current, base, key, kinds, triggers, entries, names);
            bySlot.computeIfAbsent(key.decider(), k -> new ArrayList<>()).add(learned);
        }
        bySlot.values().forEach(list -> list.sort(SPECIFIC_FIRST));

        Placement placement = place(current, bySlot);
        DriftPolicy suggested = new DriftPolicy(placement.rules(), current.defaultAction(), current.defaultOnTimeout());
        String yaml = new PolicyYamlWriter().write(suggested, headerWith(header, placement), comments(placement.learned()));
        List<String> warnings = check(yaml);
        CompiledPolicy after = CompiledPolicy.compile(suggested);
        List<RecordedAlert> collateral = new ArrayList<>();
        for (RecordedAlert alert : alerts) {
            Verdict now = after.evaluate(alert.facts());
            if (silenced.contains(alert)) {
                if (now.decision() != Verdict.Decision.ALLOWED) {
                    throw new IllegalStateException("line " + alert.line() + " should be allowed by the suggestion but is "
                            + now.decision().wireName() + " by " + now.ruleName());
                }
            } else if (before.evaluate(alert.facts()).decision() != now.decision()) {
                collateral.add(alert);
            }
        }
        long silencedLines = silenced.size();
        return new Suggestion(suggested, yaml, placement.learned(), placement.renumbered(),
                new Suggestion.Counts(silencedLines, outOfScope, alreadySilent, unscoped, unmatchable), collateral,
                warnings);
    }

    private static boolean isLoud(Verdict verdict) {
        return verdict.decision() == Verdict.Decision.ALERT || verdict.decision() == Verdict.Decision.BLOCK;
    }

    /** The entries that cover one workload's alerts: sha256, then one-directory globs, then exact paths. */
    private Map<AllowListEntry, Acc> entries(List<RecordedAlert> alerts, List<Long> unmatchable) {
        Map<String, Set<String>> pathsBySha = new LinkedHashMap<>();
        for (RecordedAlert alert : alerts) {
            String sha = sha256(alert.facts());
            if (sha != null) {
                pathsBySha.computeIfAbsent(sha, k -> new TreeSet<>()).add(alert.facts().path());
            }
        }
        Map<AllowListEntry, Acc> entries = new LinkedHashMap<>();
        List<RecordedAlert> byPath = new ArrayList<>();
        for (RecordedAlert alert : alerts) {
            DriftFacts facts = alert.facts();
            String sha = sha256(facts);
            if (sha != null && (facts.kind() == DriftKind.FILELESS || !isAbsolute(facts.path())
                    || pathsBySha.get(sha).size() >= 2)) {
                entries.computeIfAbsent(new AllowListEntry(AllowListEntry.Form.SHA256, sha), e -> new Acc()).add(alert);
            } else if (isAbsolute(facts.path())) {
                byPath.add(alert);
            } else {
                unmatchable.add(alert.line());
            }
        }
        Map<String, Set<String>> pathsByDirectory = new LinkedHashMap<>();
        for (RecordedAlert alert : byPath) {
            pathsByDirectory.computeIfAbsent(directory(alert.facts().path()), k -> new TreeSet<>()).add(alert.facts().path());
        }
        for (RecordedAlert alert : byPath) {
            String path = alert.facts().path();
            String directory = directory(path);
            AllowListEntry entry = globbable(directory) && pathsByDirectory.get(directory).size() >= globThreshold
                    ? new AllowListEntry(AllowListEntry.Form.GLOB, escapeGlob(directory) + "/*")
                    : new AllowListEntry(AllowListEntry.Form.PATH, path);
            entries.computeIfAbsent(entry, e -> new Acc()).add(alert);
        }
        return entries;
    }

    private boolean globbable(String directory) {
        return globThreshold > 0 && !NO_GLOB_DIRECTORIES.contains(directory) && directory.length() <= MAX_GLOB_DIRECTORY;
    }

    private static String sha256(DriftFacts facts) {
        String sha = facts.sha256();
        return sha != null && SHA256.matcher(sha).matches() ? sha : null;
    }

    private static boolean isAbsolute(String path) {
        return path.startsWith("/");
    }

    private static String directory(String path) {
        return path.substring(0, path.lastIndexOf('/'));
    }

    private static String escapeGlob(String literal) {
        StringBuilder out = new StringBuilder(literal.length());
        for (int i = 0; i < literal.length(); i++) {
            char c = literal.charAt(i);
            if (c == '*' || c == '?' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }

    /**
     * A copy of {@code base} narrowed to the workload, the drift kinds and the triggers seen (a library load learned
     * does not allow an exec of the same file, nor the reverse), with the learned entries added to its allow list.
     */
    private static LearnedRule learnedRule(DriftPolicy current, PolicyRule base, GroupKey key, Set<DriftKind> kinds,
                                           Set<Trigger> triggers, Map<AllowListEntry, Acc> entries, Set<String> names) {
        Action action = base == null ? current.defaultAction() : base.action();
        OnTimeout onTimeout = base == null ? current.defaultOnTimeout() : base.onTimeout();
        List<ResourceCondition> scope = new ArrayList<>(base == null ? List.of() : base.resourceScope());
        for (ResourceCondition condition : key.workload().conditions()) {
            if (!scope.contains(condition)) {
                scope.add(condition);
            }
        }
        Set<AllowListEntry> allow = new LinkedHashSet<>(base == null ? List.of() : base.allowList());
        allow.addAll(entries.keySet());
        String basedOn = base == null ? CompiledPolicy.DEFAULT_RULE_NAME : base.name();
        String name = uniqueName(key.workload(), names);
        String description = "learned allow list for " + key.workload().describe() + "; otherwise as "
                + (base == null ? "the default rule" : "rule '" + base.name() + "'");
        PolicyRule rule = new PolicyRule(name, 0, description, action,
                base == null ? List.of() : base.cloudScope(), scope, kinds, List.copyOf(allow),
                action == Action.BLOCK ? onTimeout : null,
                triggers.size() == Trigger.values().length ? Set.of() : triggers);
        Map<AllowListEntry, LearnedRule.Silenced> silenced = new LinkedHashMap<>();
        entries.forEach((entry, acc) -> silenced.put(entry, acc.silenced()));
        return new LearnedRule(rule, key.workload(), basedOn, silenced);
    }

    private static String uniqueName(WorkloadIdentity workload, Set<String> names) {
        String base = "learned-" + slug(workload.namespace() == null ? "host" : workload.namespace())
                + "-" + slug(workload.workload() == null ? (workload.imageName() == null ? "workload" : workload.imageName())
                : workload.workload());
        if (base.length() > MAX_NAME) {
            base = base.substring(0, MAX_NAME);
        }
        String name = base;
        for (int n = 2; !names.add(name); n++) {
            name = base + "-" + n;
        }
        return name;
    }

    private static String slug(String text) {
        String slug = text.replaceAll("[^A-Za-z0-9._-]+", "-");
        return slug.isEmpty() ? "x" : slug;
    }

    /** Most specific first: a higher-ranked workload label, then no label; then more conditions. */
    private static final Comparator<LearnedRule> SPECIFIC_FIRST = Comparator
            .comparingInt((LearnedRule r) -> r.workload().labelKey() == null ? Integer.MAX_VALUE
                    : WorkloadIdentity.WORKLOAD_LABELS.indexOf(r.workload().labelKey()))
            .thenComparing(r -> -r.workload().conditions().size());

    private record Placement(List<PolicyRule> rules, List<LearnedRule> learned, boolean renumbered) {
    }

    /**
     * Puts each slot's learned rules just before the rule they copy (the default rule's after every rule). The
     * current rules keep their priorities when there are enough free integers before each copied rule; otherwise
     * (or when the current policy has duplicate priorities) every rule is renumbered in steps of 10, in order.
     */
    private static Placement place(DriftPolicy current, Map<String, List<LearnedRule>> bySlot) {
        List<PolicyRule> ordered = new ArrayList<>(current.rules());
        ordered.sort(Comparator.comparingInt(PolicyRule::priority));
        List<Object> sequence = new ArrayList<>(); // PolicyRule (current) or LearnedRule, in evaluation order
        for (PolicyRule rule : ordered) {
            sequence.addAll(bySlot.getOrDefault(rule.name(), List.of()));
            sequence.add(rule);
        }
        sequence.addAll(bySlot.getOrDefault(CompiledPolicy.DEFAULT_RULE_NAME, List.of()));

        boolean duplicates = ordered.stream().map(PolicyRule::priority).distinct().count() != ordered.size();
        List<Integer> priorities = duplicates ? null : keepPriorities(sequence);
        boolean renumbered = priorities == null;
        if (renumbered) {
            priorities = new ArrayList<>();
            for (int i = 0; i < sequence.size(); i++) {
                priorities.add(RENUMBER_STEP * (i + 1));
            }
        }
        List<PolicyRule> rules = new ArrayList<>();
        List<LearnedRule> learned = new ArrayList<>();
        for (int i = 0; i < sequence.size(); i++) {
            int priority = priorities.get(i);
            if (sequence.get(i) instanceof PolicyRule rule) {
                rules.add(renumbered ? withPriority(rule, priority) : rule);
            } else {
                LearnedRule l = (LearnedRule) sequence.get(i);
                LearnedRule placed = new LearnedRule(withPriority(l.rule(), priority), l.workload(), l.basedOn(), l.entries());
                rules.add(placed.rule());
                learned.add(placed);
            }
        }
        return new Placement(rules, learned, renumbered);
    }

    /** Priorities for the sequence that keep every current rule's, or null when a gap is too small. */
    private static List<Integer> keepPriorities(List<Object> sequence) {
        List<Integer> out = new ArrayList<>();
        long previous = Long.MIN_VALUE;
        int i = 0;
        while (i < sequence.size()) {
            int run = 0;
            while (i + run < sequence.size() && sequence.get(i + run) instanceof LearnedRule) {
                run++;
            }
            boolean atEnd = i + run == sequence.size();
            if (run > 0) {
                long low = previous == Long.MIN_VALUE ? (long) Integer.MIN_VALUE - 1 : previous;
                long high = atEnd ? (long) Integer.MAX_VALUE + 1 : ((PolicyRule) sequence.get(i + run)).priority();
                if (high - low - 1 < run) {
                    return null;
                }
                // before a rule: the integers just below it; after the last rule: just above it (100 with no rule)
                long first = atEnd ? (previous == Long.MIN_VALUE ? Math.max(low + 1, Math.min(100, high - run)) : low + 1)
                        : high - run;
                for (int k = 0; k < run; k++) {
                    out.add((int) (first + k));
                }
                i += run;
            }
            if (!atEnd) {
                PolicyRule rule = (PolicyRule) sequence.get(i);
                out.add(rule.priority());
                previous = rule.priority();
                i++;
            }
        }
        return out;
    }

    private static PolicyRule withPriority(PolicyRule rule, int priority) {
        return new PolicyRule(rule.name(), priority, rule.description(), rule.action(), rule.cloudScope(),
                rule.resourceScope(), rule.driftKinds(), rule.allowList(),
                rule.action() == Action.BLOCK ? rule.onTimeout() : null, rule.triggers());
    }

    private static List<String> headerWith(List<String> header, Placement placement) {
        List<String> lines = new ArrayList<>(header);
        if (placement.renumbered()) {
            lines.add("The current rules were renumbered (steps of 10, same order) to make room for the learned rules.");
        }
        return lines;
    }

    private static Map<String, PolicyYamlWriter.RuleComments> comments(List<LearnedRule> learned) {
        Map<String, PolicyYamlWriter.RuleComments> comments = new LinkedHashMap<>();
        for (LearnedRule rule : learned) {
            long alerts = rule.entries().values().stream().mapToLong(LearnedRule.Silenced::alerts).sum();
            long execs = rule.entries().values().stream().mapToLong(LearnedRule.Silenced::occurrences).sum();
            List<String> above = List.of("learned: silences " + plural(alerts, "alert") + " (" + plural(execs, "exec")
                    + ") of " + rule.workload().describe() + "; a copy of "
                    + (rule.basedOn().equals(CompiledPolicy.DEFAULT_RULE_NAME) ? "the default rule"
                    : "rule '" + rule.basedOn() + "'") + " (action " + rule.rule().action().wireName()
                    + ") narrowed to this workload and " + rule.rule().driftKinds()
                    + ": any other drift of the workload is decided as before");
            Map<AllowListEntry, String> entries = new LinkedHashMap<>();
            rule.entries().forEach((entry, s) -> entries.put(entry, describe(entry, s)));
            comments.put(rule.rule().name(), new PolicyYamlWriter.RuleComments(above, entries));
        }
        return comments;
    }

    private static String describe(AllowListEntry entry, LearnedRule.Silenced s) {
        String what = switch (entry.form()) {
            case SHA256 -> "this content at " + plural(s.paths().size(), "path") + " " + new TreeSet<>(s.paths());
            case GLOB -> plural(s.paths().size(), "exact path") + " in one directory " + new TreeSet<>(s.paths());
            default -> s.paths().iterator().next();
        };
        return "silences " + plural(s.alerts(), "alert") + " (" + plural(s.occurrences(), "exec") + "): " + what
                + "; first seen " + (s.first() == null ? "unknown" : s.first()) + ", last seen "
                + (s.last() == null ? "unknown" : s.last());
    }

    private static String plural(long n, String word) {
        return n + " " + word + (n == 1 ? "" : "s");
    }

    /** Loads the text with the project's loader: errors are a bug here; warnings are returned. */
    private List<String> check(String yaml) {
        PolicyLoadResult result = loader.load("suggested-policy.yaml", yaml.getBytes(StandardCharsets.UTF_8));
        List<Problem> errors = result.errors();
        if (!errors.isEmpty()) {
            throw new IllegalStateException("the suggested policy does not load: " + errors + "\n" + yaml);
        }
        return result.warnings().stream().map(Problem::toString).toList();
    }

    private record GroupKey(String decider, WorkloadIdentity workload) {
    }

    /** What one entry covers, accumulated. */
    private static final class Acc {
        final List<RecordedAlert> alerts = new ArrayList<>();
        long occurrences;
        Instant first;
        Instant last;
        final Set<String> paths = new LinkedHashSet<>();

        void add(RecordedAlert alert) {
            alerts.add(alert);
            occurrences += alert.count();
            paths.add(alert.facts().path());
            Instant t = alert.time();
            if (t != null) {
                first = first == null || t.isBefore(first) ? t : first;
                last = last == null || t.isAfter(last) ? t : last;
            }
        }

        LearnedRule.Silenced silenced() {
            return new LearnedRule.Silenced(alerts.size(), occurrences, first, last, paths);
        }
    }
}
