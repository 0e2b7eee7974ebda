package io.driftagent.agent.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** The named readiness checks; ready when every one passes (and there is at least one). Thread-safe. */
public final class Readiness {

    private final ConcurrentMap<String, ReadinessCheck> checks = new ConcurrentHashMap<>();

    public void register(String name, ReadinessCheck check) {
        Objects.requireNonNull(check, "check");
        if (checks.putIfAbsent(Objects.requireNonNull(name, "name"), check) != null) {
            throw new IllegalArgumentException("readiness check already registered: " + name);
        }
    }

    /** Every check's outcome, sorted by name; a check that throws fails with the exception as its reason. */
    public List<Outcome> evaluate() {
        List<Outcome> outcomes = new ArrayList<>();
        checks.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(entry -> {
            ReadinessCheck.Result result;
            try {
                result = entry.getValue().check();
            } catch (RuntimeException e) {
                result = ReadinessCheck.Result.failing("check failed: " + e);
            }
            outcomes.add(new Outcome(entry.getKey(), result));
        });
        return outcomes;
    }

    public boolean isReady(List<Outcome> outcomes) {
        return !outcomes.isEmpty() && outcomes.stream().allMatch(o -> o.result().ready());
    }

    public record Outcome(String name, ReadinessCheck.Result result) {
    }
}
