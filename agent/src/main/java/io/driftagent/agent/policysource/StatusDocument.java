package io.driftagent.agent.policysource;

import io.driftagent.policy.load.Problem;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds a DriftPolicy's new {@code status} from the one on the server and one agent's report. Pure.
 * <ul>
 * <li>{@code nodes}: this node's entry is replaced (list-map keyed by {@code node}, sorted by node name); beyond
 *     {@link DriftPolicyResources#MAX_STATUS_NODES} entries the least recently updated other nodes' entries go.</li>
 * <li>{@code observedGeneration}, {@code valid}, {@code problems} (at most
 *     {@link DriftPolicyResources#MAX_STATUS_PROBLEMS}), {@code problemCount}: replaced when the report's generation
 *     is not older than the one the status describes (every agent validates alike, so an agent that is behind never
 *     overwrites a newer verdict).</li>
 * </ul>
 */
final class StatusDocument {
    private StatusDocument() {
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> merge(Object currentStatus, StatusReport report) {
        Map<String, Object> current = currentStatus instanceof Map<?, ?> map
                ? new LinkedHashMap<>((Map<String, Object>) map) : new LinkedHashMap<>();
        Map<String, Object> status = new LinkedHashMap<>();

        long described = current.get("observedGeneration") instanceof Number n ? n.longValue() : Long.MIN_VALUE;
        if (report.observedGeneration() >= described) {
            status.put("observedGeneration", report.observedGeneration());
            status.put("valid", report.valid());
            status.put("problemCount", report.problems().size());
            List<Map<String, Object>> problems = new ArrayList<>();
            for (Problem problem : report.problems()) {
                if (problems.size() == DriftPolicyResources.MAX_STATUS_PROBLEMS) {
                    break;
                }
                problems.add(problem(problem));
            }
            status.put("problems", problems);
        } else {
            for (String key : List.of("observedGeneration", "valid", "problemCount", "problems")) {
                if (current.containsKey(key)) {
                    status.put(key, current.get(key));
                }
            }
        }

        List<Map<String, Object>> nodes = new ArrayList<>();
        if (current.get("nodes") instanceof List<?> list) {
            for (Object entry : list) {
                if (entry instanceof Map<?, ?> node && !report.node().equals(node.get("node"))) {
                    nodes.add((Map<String, Object>) node);
                }
            }
        }
        nodes.sort(Comparator.comparing(StatusDocument::updated).reversed()); // newest first
        while (nodes.size() >= DriftPolicyResources.MAX_STATUS_NODES) {
            nodes.remove(nodes.size() - 1);
        }
        Map<String, Object> mine = new LinkedHashMap<>();
        mine.put("node", report.node());
        mine.put("observedGeneration", report.observedGeneration());
        if (report.appliedGeneration() != null) {
            mine.put("appliedGeneration", report.appliedGeneration());
        }
        mine.put("lastUpdateTime", report.time().toString());
        nodes.add(mine);
        nodes.sort(Comparator.comparing(n -> String.valueOf(n.get("node"))));
        status.put("nodes", nodes);
        return status;
    }

    /** Whether {@code candidate} says the same as {@code current} for this report, apart from the update time. */
    @SuppressWarnings("unchecked")
    static boolean sameApartFromTime(Object current, Map<String, Object> candidate, String node) {
        if (!(current instanceof Map<?, ?> map)) {
            return false;
        }
        return normalised((Map<String, Object>) map, node).equals(normalised(candidate, node));
    }

    private static Object normalised(Map<String, Object> status, String node) {
        Map<String, Object> copy = new LinkedHashMap<>(status);
        List<Object> nodes = new ArrayList<>();
        if (copy.get("nodes") instanceof List<?> list) {
            for (Object entry : list) {
                if (entry instanceof Map<?, ?> m) {
                    Map<Object, Object> e = new LinkedHashMap<>(m);
                    if (node.equals(e.get("node"))) {
                        e.remove("lastUpdateTime");
                    }
                    nodes.add(e);
                }
            }
        }
        copy.put("nodes", nodes);
        return canonical(copy);
    }

    /** Key order and number types as the server may return them do not count. */
    private static Object canonical(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> sorted = new java.util.TreeMap<>();
            map.forEach((k, v) -> sorted.put(String.valueOf(k), canonical(v)));
            return sorted;
        }
        if (value instanceof List<?> list) {
            return list.stream().map(StatusDocument::canonical).toList();
        }
        if (value instanceof Number number) {
            return number.toString();
        }
        return value;
    }

    private static java.time.Instant updated(Map<String, Object> node) {
        try {
            return java.time.Instant.parse(String.valueOf(node.get("lastUpdateTime")));
        } catch (java.time.format.DateTimeParseException e) {
            return java.time.Instant.EPOCH;
        }
    }

    private static Map<String, Object> problem(Problem problem) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("severity", problem.severity().name().toLowerCase(Locale.ROOT));
        entry.put("code", problem.code().name());
        entry.put("path", problem.path());
        entry.put("line", problem.line());
        entry.put("column", problem.column());
        entry.put("message", problem.message());
        return entry;
    }
}
