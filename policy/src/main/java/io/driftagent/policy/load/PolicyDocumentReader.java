package io.driftagent.policy.load;

import io.driftagent.policy.eval.BoundedRegex;
import io.driftagent.policy.eval.GlobPattern;
import io.driftagent.policy.model.Action;
import io.driftagent.policy.model.AllowListEntry;
import io.driftagent.policy.model.CloudProvider;
import io.driftagent.policy.model.CloudScope;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.policy.model.DriftPolicy;
import io.driftagent.policy.model.MatchOperator;
import io.driftagent.policy.model.OnTimeout;
import io.driftagent.policy.model.PolicyRule;
import io.driftagent.policy.model.ResourceCondition;
import io.driftagent.policy.model.ResourceField;
import io.driftagent.policy.model.Trigger;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns a YAML tree into a {@link DriftPolicy}, reporting every problem it finds (it never stops at the first),
 * then the whole-policy warnings (duplicate priorities, shadowed rules). One instance reads one document.
 */
final class PolicyDocumentReader {
    private static final List<String> ROOT_KEYS = List.of("apiVersion", "kind", "rules", "defaultRule");
    private static final List<String> RULE_KEYS = List.of("name", "priority", "description", "action", "cloudScope",
            "resourceScope", "driftKinds", "allowList", "onTimeout", "triggers");
    private static final List<String> CLOUD_KEYS = List.of("provider", "accounts");
    private static final List<String> CONDITION_KEYS = List.of("field", "operator", "values", "ignoreCase");
    private static final List<String> DEFAULT_RULE_KEYS = List.of("action", "onTimeout");
    private static final int MAX_NAME_LENGTH = 253;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");

    private final String file;
    private final List<Problem> problems = new ArrayList<>();
    private int errors;

    /** A rule that read without errors, with where it was written (for the whole-policy warnings). */
    private record RuleSite(PolicyRule rule, int index, YamlNode.Mapping node, YamlNode priorityNode) {
    }

    PolicyDocumentReader(String file) {
        this.file = file;
    }

    List<Problem> problems() {
        List<Problem> sorted = new ArrayList<>(problems);
        sorted.sort(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column));
        return sorted;
    }

    /** The policy, or empty when there was at least one error. */
    Optional<DriftPolicy> read(Optional<YamlNode> document) {
        if (document.isEmpty() || isNull(document.get())) {
            report(ProblemCode.EMPTY_DOCUMENT, 1, 1, "", "the file holds no policy; start with 'apiVersion: "
                    + DriftPolicy.API_VERSION + "' and 'kind: " + DriftPolicy.KIND + "'");
            return Optional.empty();
        }
        YamlNode root = document.get();
        if (!(root instanceof YamlNode.Mapping)) {
            wrongType(root, "", "a mapping with apiVersion, kind, rules and defaultRule");
            return Optional.empty();
        }
        YamlNode.Mapping mapping = (YamlNode.Mapping) root;
        Map<String, YamlNode.Entry> keys = keys(mapping, "", ROOT_KEYS);
        readHeader(mapping, keys);

        List<RuleSite> sites = new ArrayList<>();
        YamlNode.Entry rules = keys.get("rules");
        if (rules != null) {
            List<YamlNode> items = sequence(rules.value(), "rules").orElse(List.of());
            Map<String, YamlNode> names = new HashMap<>();
            for (int i = 0; i < items.size(); i++) {
                readRule(items.get(i), i, names).ifPresent(sites::add);
            }
        }
        Action defaultAction = Action.IGNORE;
        OnTimeout defaultOnTimeout = null;
        YamlNode.Entry defaultRule = keys.get("defaultRule");
        if (defaultRule != null) {
            Optional<YamlNode.Mapping> defaultMapping = mapping(defaultRule.value(), "defaultRule");
            if (defaultMapping.isPresent()) {
                Map<String, YamlNode.Entry> defaultKeys = keys(defaultMapping.get(), "defaultRule", DEFAULT_RULE_KEYS);
                Optional<Action> action = required(defaultMapping.get(), defaultKeys, "defaultRule", "action")
                        .flatMap(a -> action(a, "defaultRule.action"));
                defaultAction = action.orElse(Action.IGNORE);
                defaultOnTimeout = onTimeout(defaultKeys, action, "defaultRule");
            }
        }
        if (errors > 0) {
            return Optional.empty();
        }
        warnAboutDuplicatePriorities(sites);
        warnAboutShadowedRules(sites, defaultRule);
        return Optional.of(new DriftPolicy(sites.stream().map(RuleSite::rule).collect(Collectors.toList()), defaultAction,
                defaultOnTimeout));
    }

    private void readHeader(YamlNode.Mapping root, Map<String, YamlNode.Entry> keys) {
        YamlNode.Entry apiVersion = keys.get("apiVersion");
        if (apiVersion == null) {
            report(ProblemCode.MISSING_API_VERSION, root, "", "missing 'apiVersion: " + DriftPolicy.API_VERSION + "'");
        } else {
            text(apiVersion.value(), "apiVersion").filter(v -> !v.equals(DriftPolicy.API_VERSION)).ifPresent(v ->
                    report(ProblemCode.UNSUPPORTED_API_VERSION, apiVersion.value(), "apiVersion",
                            "apiVersion '" + v + "' is not supported; use '" + DriftPolicy.API_VERSION + "'"));
        }
        YamlNode.Entry kind = keys.get("kind");
        if (kind == null) {
            report(ProblemCode.MISSING_KIND, root, "", "missing 'kind: " + DriftPolicy.KIND + "'");
        } else {
            text(kind.value(), "kind").filter(v -> !v.equals(DriftPolicy.KIND)).ifPresent(v ->
                    report(ProblemCode.WRONG_KIND, kind.value(), "kind",
                            "kind '" + v + "' is not a drift policy; use '" + DriftPolicy.KIND + "'"));
        }
    }

    private Optional<RuleSite> readRule(YamlNode node, int index, Map<String, YamlNode> names) {
        String path = "rules[" + index + "]";
        Optional<YamlNode.Mapping> mapping = mapping(node, path);
        if (mapping.isEmpty()) {
            return Optional.empty();
        }
        int errorsBefore = errors;
        Map<String, YamlNode.Entry> keys = keys(mapping.get(), path, RULE_KEYS);

        Optional<String> name = required(mapping.get(), keys, path, "name").flatMap(n -> ruleName(n, path + ".name"));
        name.ifPresent(n -> {
            YamlNode nameNode = keys.get("name").value();
            YamlNode first = names.putIfAbsent(n, nameNode);
            if (first != null) {
                report(ProblemCode.DUPLICATE_RULE_NAME, nameNode, path + ".name",
                        "rule name '" + n + "' is already used at line " + first.line() + "; names must be unique");
            }
        });
        Optional<Integer> priority = required(mapping.get(), keys, path, "priority")
                .flatMap(p -> integer(p, path + ".priority"));
        String description = optional(keys, "description").flatMap(d -> text(d, path + ".description")).orElse("");
        Optional<Action> action = required(mapping.get(), keys, path, "action").flatMap(a -> action(a, path + ".action"));
        List<CloudScope> cloudScope = optional(keys, "cloudScope")
                .map(c -> readCloudScope(c, path + ".cloudScope")).orElse(List.of());
        List<ResourceCondition> resourceScope = optional(keys, "resourceScope")
                .map(r -> readResourceScope(r, path + ".resourceScope")).orElse(List.of());
        Set<DriftKind> driftKinds = optional(keys, "driftKinds")
                .map(k -> readDriftKinds(k, path + ".driftKinds")).orElse(Set.of());
        List<AllowListEntry> allowList = optional(keys, "allowList")
                .map(a -> readAllowList(a, path + ".allowList")).orElse(List.of());
        OnTimeout onTimeout = onTimeout(keys, action, path);
        Set<Trigger> triggers = optional(keys, "triggers")
                .map(t -> readTriggers(t, path + ".triggers")).orElse(Set.of());

        if (errors > errorsBefore || name.isEmpty() || priority.isEmpty() || action.isEmpty()) {
            return Optional.empty();
        }
        PolicyRule rule = new PolicyRule(name.get(), priority.get(), description, action.get(), cloudScope,
                resourceScope, driftKinds, allowList, onTimeout, triggers);
        return Optional.of(new RuleSite(rule, index, mapping.get(), keys.get("priority").value()));
    }

    private Optional<String> ruleName(YamlNode node, String path) {
        Optional<String> name = text(node, path);
        if (name.isEmpty()) {
            return name;
        }
        String value = name.get();
        String why = null;
        if (value.isBlank()) {
            why = "a rule name must not be blank";
        } else if (value.length() > MAX_NAME_LENGTH) {
            why = "a rule name must be at most " + MAX_NAME_LENGTH + " characters";
        } else if (value.chars().anyMatch(Character::isISOControl)) {
            why = "a rule name must not contain control characters";
        } else if (value.equals(io.driftagent.policy.eval.CompiledPolicy.DEFAULT_RULE_NAME)) {
            why = "'" + value + "' is reserved for the default rule";
        }
        if (why != null) {
            report(ProblemCode.INVALID_NAME, node, path, why);
            return Optional.empty();
        }
        return name;
    }

    private List<CloudScope> readCloudScope(YamlNode node, String path) {
        List<CloudScope> scopes = new ArrayList<>();
        List<YamlNode> items = nonEmptySequence(node, path).orElse(List.of());
        for (int i = 0; i < items.size(); i++) {
            String itemPath = path + "[" + i + "]";
            Optional<YamlNode.Mapping> mapping = mapping(items.get(i), itemPath);
            if (mapping.isEmpty()) {
                continue;
            }
            Map<String, YamlNode.Entry> keys = keys(mapping.get(), itemPath, CLOUD_KEYS);
            Optional<CloudProvider> provider = required(mapping.get(), keys, itemPath, "provider")
                    .flatMap(p -> text(p, itemPath + ".provider").flatMap(text -> {
                        Optional<CloudProvider> parsed = CloudProvider.fromWireName(text);
                        if (parsed.isEmpty()) {
                            report(ProblemCode.UNKNOWN_PROVIDER, p, itemPath + ".provider", "unknown provider '" + text
                                    + "'; use azure, aws or gcp" + ClosestName.hint(text, wireNames(CloudProvider.values())));
                        }
                        return parsed;
                    }));
            List<String> accounts = optional(keys, "accounts")
                    .map(a -> textList(a, itemPath + ".accounts")).orElse(List.of());
            provider.ifPresent(p -> scopes.add(new CloudScope(p, accounts)));
        }
        return scopes;
    }

    private List<ResourceCondition> readResourceScope(YamlNode node, String path) {
        List<ResourceCondition> conditions = new ArrayList<>();
        List<YamlNode> items = sequence(node, path).orElse(List.of());
        for (int i = 0; i < items.size(); i++) {
            String itemPath = path + "[" + i + "]";
            Optional<YamlNode.Mapping> mapping = mapping(items.get(i), itemPath);
            if (mapping.isEmpty()) {
                continue;
            }
            Map<String, YamlNode.Entry> keys = keys(mapping.get(), itemPath, CONDITION_KEYS);
            Optional<ResourceField> field = required(mapping.get(), keys, itemPath, "field")
                    .flatMap(f -> text(f, itemPath + ".field").flatMap(text -> {
                        Optional<ResourceField> parsed = ResourceField.fromWireName(text);
                        if (parsed.isEmpty()) {
                            report(ProblemCode.UNKNOWN_FIELD, f, itemPath + ".field", "unknown field '" + text
                                    + "'; use one of " + wireNames(ResourceField.values())
                                    + ClosestName.hint(text, wireNames(ResourceField.values())));
                        }
                        return parsed;
                    }));
            Optional<MatchOperator> operator = required(mapping.get(), keys, itemPath, "operator")
                    .flatMap(o -> text(o, itemPath + ".operator").flatMap(text -> {
                        Optional<MatchOperator> parsed = MatchOperator.fromWireName(text);
                        if (parsed.isEmpty()) {
                            report(ProblemCode.UNKNOWN_OPERATOR, o, itemPath + ".operator", "unknown operator '" + text
                                    + "'; use one of " + wireNames(MatchOperator.values())
                                    + ClosestName.hint(text, wireNames(MatchOperator.values())));
                        }
                        return parsed;
                    }));
            boolean ignoreCase = optional(keys, "ignoreCase").flatMap(c -> bool(c, itemPath + ".ignoreCase")).orElse(false);
            Optional<YamlNode> valuesNode = required(mapping.get(), keys, itemPath, "values");
            List<String> values = valuesNode.map(v -> textList(v, itemPath + ".values")).orElse(List.of());
            if (valuesNode.isPresent() && field.isPresent() && operator.isPresent()) {
                List<YamlNode> valueNodes = valuesNode.get() instanceof YamlNode.Sequence
                        ? ((YamlNode.Sequence) valuesNode.get()).items() : List.of();
                int errorsBefore = errors;
                for (int v = 0; v < values.size() && v < valueNodes.size(); v++) {
                    checkValue(field.get(), operator.get(), values.get(v), valueNodes.get(v), itemPath + ".values[" + v + "]");
                }
                if (errors == errorsBefore && !values.isEmpty()) {
                    conditions.add(new ResourceCondition(field.get(), operator.get(), values, ignoreCase));
                }
            }
        }
        return conditions;
    }

    private void checkValue(ResourceField field, MatchOperator operator, String value, YamlNode node, String path) {
        String operand = value;
        if (field == ResourceField.POD_LABELS) {
            int equals = value.indexOf('=');
            String key = equals < 0 ? value : value.substring(0, equals);
            if (key.isBlank()) {
                report(ProblemCode.INVALID_LABEL_SELECTOR, node, path,
                        "a podLabels value is 'key=value' or 'key'; '" + value + "' has no key");
                return;
            }
            if (equals < 0) {
                return; // presence only: the operator does not apply
            }
            operand = value.substring(equals + 1);
        }
        if (operator == MatchOperator.GLOB) {
            GlobPattern.problem(operand).ifPresent(why -> report(ProblemCode.INVALID_GLOB, node, path, why));
        } else if (operator == MatchOperator.REGEX) {
            BoundedRegex.problem(operand).ifPresent(why -> report(ProblemCode.INVALID_REGEX, node, path, why));
        }
    }

    private Set<DriftKind> readDriftKinds(YamlNode node, String path) {
        Set<DriftKind> kinds = EnumSet.noneOf(DriftKind.class);
        List<YamlNode> items = nonEmptySequence(node, path).orElse(List.of());
        List<String> driftNames = Arrays.stream(DriftKind.values()).filter(DriftKind::isDrift).map(Enum::name).toList();
        for (int i = 0; i < items.size(); i++) {
            String itemPath = path + "[" + i + "]";
            YamlNode item = items.get(i);
            text(item, itemPath).ifPresent(text -> {
                if (text.equals(DriftKind.IMAGE.name())) {
                    report(ProblemCode.UNKNOWN_DRIFT_KIND, item, itemPath,
                            "IMAGE is not drift and never reaches the policy; use one of " + driftNames);
                } else if (driftNames.contains(text)) {
                    kinds.add(DriftKind.valueOf(text));
                } else {
                    report(ProblemCode.UNKNOWN_DRIFT_KIND, item, itemPath, "unknown drift kind '" + text
                            + "'; use one of " + driftNames + ClosestName.hint(text, driftNames));
                }
            });
        }
        return kinds;
    }

    private Set<Trigger> readTriggers(YamlNode node, String path) {
        Set<Trigger> triggers = EnumSet.noneOf(Trigger.class);
        List<YamlNode> items = nonEmptySequence(node, path).orElse(List.of());
        List<String> names = wireNames(Trigger.values());
        for (int i = 0; i < items.size(); i++) {
            String itemPath = path + "[" + i + "]";
            YamlNode item = items.get(i);
            text(item, itemPath).ifPresent(text -> {
                Optional<Trigger> trigger = Trigger.fromWireName(text);
                if (trigger.isPresent()) {
                    triggers.add(trigger.get());
                } else {
                    report(ProblemCode.UNKNOWN_TRIGGER, item, itemPath, "unknown trigger '" + text + "'; use one of "
                            + names + ClosestName.hint(text, names));
                }
            });
        }
        return triggers;
    }

    private List<AllowListEntry> readAllowList(YamlNode node, String path) {
        List<AllowListEntry> entries = new ArrayList<>();
        List<YamlNode> items = sequence(node, path).orElse(List.of());
        for (int i = 0; i < items.size(); i++) {
            String itemPath = path + "[" + i + "]";
            YamlNode item = items.get(i);
            text(item, itemPath).flatMap(text -> allowListEntry(text, item, itemPath)).ifPresent(entries::add);
        }
        return entries;
    }

    private Optional<AllowListEntry> allowListEntry(String text, YamlNode node, String path) {
        if (text.startsWith(AllowListEntry.Form.GLOB.prefix())) {
            String glob = text.substring(AllowListEntry.Form.GLOB.prefix().length());
            Optional<String> problem = GlobPattern.problem(glob);
            if (problem.isEmpty() && !glob.startsWith("/")) {
                problem = Optional.of("allow-list globs match absolute paths and must start with '/'");
            }
            if (problem.isPresent()) {
                report(ProblemCode.INVALID_GLOB, node, path, problem.get());
                return Optional.empty();
            }
            return Optional.of(new AllowListEntry(AllowListEntry.Form.GLOB, glob));
        }
        if (text.startsWith(AllowListEntry.Form.NAME.prefix())) {
            String name = text.substring(AllowListEntry.Form.NAME.prefix().length());
            if (name.isEmpty() || name.indexOf('/') >= 0) {
                report(ProblemCode.INVALID_ALLOW_ENTRY, node, path,
                        "'name:' takes a file name without '/', e.g. 'name:pip'");
                return Optional.empty();
            }
            return Optional.of(new AllowListEntry(AllowListEntry.Form.NAME, name));
        }
        if (text.startsWith(AllowListEntry.Form.SHA256.prefix())) {
            String digest = text.substring(AllowListEntry.Form.SHA256.prefix().length());
            if (!SHA256.matcher(digest).matches()) {
                report(ProblemCode.INVALID_SHA256, node, path, "'sha256:' takes 64 hexadecimal digits, found "
                        + digest.length() + " characters" + (digest.length() == 64 ? " with a non-hex digit" : ""));
                return Optional.empty();
            }
            return Optional.of(new AllowListEntry(AllowListEntry.Form.SHA256, digest.toLowerCase(Locale.ROOT)));
        }
        if (text.startsWith("/")) {
            return Optional.of(new AllowListEntry(AllowListEntry.Form.PATH, text));
        }
        report(ProblemCode.INVALID_ALLOW_ENTRY, node, path, "'" + text
                + "' is neither an absolute path nor 'glob:', 'name:' or 'sha256:'");
        return Optional.empty();
    }

    /**
     * The {@code onTimeout} of a rule or the default rule: null when not given (the default of its action). Only a
     * block rule has a timeout to answer: on any other it is an error, not silently ignored, since whoever wrote it
     * expected it to do something.
     */
    private OnTimeout onTimeout(Map<String, YamlNode.Entry> keys, Optional<Action> action, String path) {
        Optional<YamlNode> node = optional(keys, "onTimeout");
        if (node.isEmpty()) {
            return null;
        }
        String where = path + ".onTimeout";
        Optional<OnTimeout> value = text(node.get(), where).flatMap(text -> {
            Optional<OnTimeout> parsed = OnTimeout.fromWireName(text);
            if (parsed.isEmpty()) {
                report(ProblemCode.UNKNOWN_ON_TIMEOUT, node.get(), where, "unknown onTimeout '" + text
                        + "'; use deny or allow" + ClosestName.hint(text, List.of("deny", "allow")));
            }
            return parsed;
        });
        if (value.isPresent() && action.isPresent() && action.get() != Action.BLOCK) {
            report(ProblemCode.ON_TIMEOUT_WITHOUT_BLOCK, node.get(), where, "onTimeout applies to action block only;"
                    + " a rule with action " + action.get().wireName() + " never holds an exec: remove onTimeout");
            return null;
        }
        return value.orElse(null);
    }

    private Optional<Action> action(YamlNode node, String path) {
        return text(node, path).flatMap(text -> {
            Optional<Action> action = Action.fromWireName(text);
            if (action.isEmpty()) {
                report(ProblemCode.UNKNOWN_ACTION, node, path, "unknown action '" + text + "'; use alert, block or ignore"
                        + ClosestName.hint(text, wireNames(Action.values())));
            }
            return action;
        });
    }

    private void warnAboutDuplicatePriorities(List<RuleSite> sites) {
        Map<Integer, RuleSite> first = new HashMap<>();
        for (RuleSite site : sites) {
            RuleSite earlier = first.putIfAbsent(site.rule().priority(), site);
            if (earlier != null) {
                report(ProblemCode.DUPLICATE_PRIORITY, site.priorityNode(), "rules[" + site.index() + "].priority",
                        "priority " + site.rule().priority() + " is also used by rule '" + earlier.rule().name()
                                + "' (line " + earlier.node().line() + "); the rule written first is evaluated first");
            }
        }
    }

    private void warnAboutShadowedRules(List<RuleSite> sites, YamlNode.Entry defaultRule) {
        List<RuleSite> ordered = new ArrayList<>(sites);
        ordered.sort(Comparator.comparingInt(s -> s.rule().priority()));
        RuleSite catchAll = null;
        for (RuleSite site : ordered) {
            if (catchAll != null) {
                report(ProblemCode.SHADOWED_RULE, site.node(), "rules[" + site.index() + "]", "rule '"
                        + site.rule().name() + "' can never apply: " + describeCatchAll(catchAll));
            } else if (site.rule().isCatchAll()) {
                catchAll = site;
            }
        }
        if (catchAll != null && defaultRule != null) {
            report(ProblemCode.SHADOWED_RULE, defaultRule.value(), "defaultRule",
                    "the default rule can never apply: " + describeCatchAll(catchAll));
        }
    }

    private static String describeCatchAll(RuleSite site) {
        return "rule '" + site.rule().name() + "' (priority " + site.rule().priority() + ", line " + site.node().line()
                + ") comes first and has no cloudScope, resourceScope or driftKinds, so it decides every drifted exec";
    }

    // ---- generic shape checks -------------------------------------------------------------------------------

    private Map<String, YamlNode.Entry> keys(YamlNode.Mapping mapping, String path, List<String> allowed) {
        Map<String, YamlNode.Entry> keys = new LinkedHashMap<>();
        for (YamlNode.Entry entry : mapping.entries()) {
            YamlNode keyNode = entry.key();
            if (!(keyNode instanceof YamlNode.Scalar) || isNull(keyNode)) {
                wrongType(keyNode, path, "a key name");
                continue;
            }
            String key = ((YamlNode.Scalar) keyNode).value();
            String keyPath = path.isEmpty() ? key : path + "." + key;
            if (!allowed.contains(key)) {
                report(ProblemCode.UNKNOWN_KEY, keyNode, keyPath, "unknown key '" + key + "'; allowed here: " + allowed
                        + ClosestName.hint(key, allowed));
                continue;
            }
            YamlNode.Entry first = keys.putIfAbsent(key, entry);
            if (first != null) {
                report(ProblemCode.DUPLICATE_KEY, keyNode, keyPath,
                        "key '" + key + "' is already given at line " + first.key().line());
            }
        }
        return keys;
    }

    private Optional<YamlNode> required(YamlNode.Mapping mapping, Map<String, YamlNode.Entry> keys, String path, String key) {
        YamlNode.Entry entry = keys.get(key);
        if (entry == null) {
            report(ProblemCode.MISSING_KEY, mapping, path + "." + key, "missing required key '" + key + "'");
            return Optional.empty();
        }
        return Optional.of(entry.value());
    }

    private static Optional<YamlNode> optional(Map<String, YamlNode.Entry> keys, String key) {
        YamlNode.Entry entry = keys.get(key);
        return entry == null ? Optional.empty() : Optional.of(entry.value());
    }

    /**
     * Any non-null scalar, as written: an unquoted {@code 123456789012} AWS account id or {@code 1.10} stays text
     * exactly as typed (no number conversion that would drop leading zeros).
     */
    private Optional<String> text(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar) {
            YamlNode.ScalarType type = ((YamlNode.Scalar) node).type();
            if (type != YamlNode.ScalarType.NULL && type != YamlNode.ScalarType.OTHER) {
                return Optional.of(((YamlNode.Scalar) node).value());
            }
        }
        wrongType(node, path, "a string");
        return Optional.empty();
    }

    private List<String> textList(YamlNode node, String path) {
        List<String> values = new ArrayList<>();
        List<YamlNode> items = nonEmptySequence(node, path).orElse(List.of());
        for (int i = 0; i < items.size(); i++) {
            text(items.get(i), path + "[" + i + "]").ifPresent(values::add);
        }
        return values;
    }

    private Optional<Integer> integer(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar && ((YamlNode.Scalar) node).type() == YamlNode.ScalarType.INTEGER) {
            Optional<BigInteger> value = parseYamlInteger(((YamlNode.Scalar) node).value());
            if (value.isPresent() && value.get().bitLength() < 32) {
                return Optional.of(value.get().intValue());
            }
            report(ProblemCode.WRONG_TYPE, node, path, "expected an integer between " + Integer.MIN_VALUE + " and "
                    + Integer.MAX_VALUE + ", found " + ((YamlNode.Scalar) node).value());
            return Optional.empty();
        }
        wrongType(node, path, "an integer");
        return Optional.empty();
    }

    private static Optional<BigInteger> parseYamlInteger(String text) {
        try {
            String digits = text.startsWith("+") ? text.substring(1) : text;
            if (digits.startsWith("0x")) {
                return Optional.of(new BigInteger(digits.substring(2), 16));
            }
            if (digits.startsWith("0o")) {
                return Optional.of(new BigInteger(digits.substring(2), 8));
            }
            return Optional.of(new BigInteger(digits));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private Optional<Boolean> bool(YamlNode node, String path) {
        if (node instanceof YamlNode.Scalar && ((YamlNode.Scalar) node).type() == YamlNode.ScalarType.BOOLEAN) {
            return Optional.of(((YamlNode.Scalar) node).value().equalsIgnoreCase("true"));
        }
        wrongType(node, path, "true or false");
        return Optional.empty();
    }

    private Optional<List<YamlNode>> sequence(YamlNode node, String path) {
        if (node instanceof YamlNode.Sequence) {
            return Optional.of(((YamlNode.Sequence) node).items());
        }
        wrongType(node, path, "a sequence");
        return Optional.empty();
    }

    private Optional<List<YamlNode>> nonEmptySequence(YamlNode node, String path) {
        Optional<List<YamlNode>> items = sequence(node, path);
        if (items.isPresent() && items.get().isEmpty()) {
            report(ProblemCode.EMPTY_VALUES, node, path, "an empty list matches nothing; remove the key or add values");
            return Optional.empty();
        }
        return items;
    }

    private Optional<YamlNode.Mapping> mapping(YamlNode node, String path) {
        if (node instanceof YamlNode.Mapping) {
            return Optional.of((YamlNode.Mapping) node);
        }
        wrongType(node, path, "a mapping");
        return Optional.empty();
    }

    private static boolean isNull(YamlNode node) {
        return node instanceof YamlNode.Scalar && ((YamlNode.Scalar) node).type() == YamlNode.ScalarType.NULL;
    }

    private void wrongType(YamlNode node, String path, String expected) {
        report(ProblemCode.WRONG_TYPE, node, path, "expected " + expected + ", found " + node.describe());
    }

    private void report(ProblemCode code, YamlNode node, String path, String message) {
        report(code, node.line(), node.column(), path, message);
    }

    private void report(ProblemCode code, int line, int column, String path, String message) {
        problems.add(Problem.of(code, file, line, column, path, message));
        if (code.severity() == Severity.ERROR) {
            errors++;
        }
    }

    private static List<String> wireNames(Action[] values) {
        return Arrays.stream(values).map(Action::wireName).toList();
    }

    private static List<String> wireNames(CloudProvider[] values) {
        return Arrays.stream(values).map(CloudProvider::wireName).toList();
    }

    private static List<String> wireNames(ResourceField[] values) {
        return Arrays.stream(values).map(ResourceField::wireName).toList();
    }

    private static List<String> wireNames(Trigger[] values) {
        return Arrays.stream(values).map(Trigger::wireName).toList();
    }

    private static List<String> wireNames(MatchOperator[] values) {
        return Arrays.stream(values).map(MatchOperator::wireName).toList();
    }
}
