package io.driftagent.agent.policysource;

import static io.driftagent.agent.policysource.Policies.inNamespace;
import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fixture.MutableClock;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftPolicy;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's DriftPolicy watch against fabric8's mock API server in CRUD mode, with the chart's CRD installed in it
 * (which gives the resources their cluster scope and status subresource): resources change the policy in force, a
 * bad one never does, and every agent reports its node's generations in the resource's status.
 */
class DriftPolicyWatcherTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** The file: shop is ignored at priority 0, everything else alerted. */
    private static final DriftPolicy FILE = Policies.file("""
            rules:
              - {name: file-shop, priority: 10, action: ignore,
                 resourceScope: [{field: namespace, operator: equals, values: [shop]}]}
            defaultRule: {action: alert}
            """);

    private PolicyApiServer api;
    private KubernetesClient client;
    private final MutableClock clock = new MutableClock(Instant.parse("2025-01-01T00:00:00Z"));
    private final List<DriftPolicyWatcher> watchers = new ArrayList<>();

    @BeforeEach
    void startServerWithTheChartsCrd() throws Exception {
        api = PolicyApiServer.started();
        client = api.server().createClient();
        CustomResourceDefinition crd = new KubernetesSerialization().unmarshal(
                Files.readString(DriftPolicyCrdTest.SHIPPED, StandardCharsets.UTF_8), CustomResourceDefinition.class);
        try {
            client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            if (e.getCode() != 409) { // a create the client retried after a slow first answer: it is there
                throw e;
            }
        }
    }

    @AfterEach
    void stopAll() {
        watchers.forEach(DriftPolicyWatcher::close);
        client.close();
        try {
            api.server().destroy();
        } catch (IllegalStateException slowClose) {
            System.err.println("mock API server close: " + slowClose.getMessage());
        }
    }

    private record Agent(EffectivePolicy policy, DriftPolicyWatcher watcher, SimpleMeterRegistry registry) {
    }

    private Agent startedAgent(String node) throws InterruptedException {
        EffectivePolicy policy = new EffectivePolicy(Optional.of(FILE));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DriftPolicyWatcher watcher = new DriftPolicyWatcher(client, node, policy, clock, registry, 20,
                Duration.ofMillis(5));
        watchers.add(watcher);
        watcher.start();
        assertThat(watcher.awaitSynced(WAIT)).as("first list").isTrue();
        return new Agent(policy, watcher, registry);
    }

    /** Creates the resource or replaces its spec (as kubectl does: redone when an agent's status write came between). */
    private GenericKubernetesResource apply(String name, String spec) {
        GenericKubernetesResource wanted = Policies.resource(name, spec);
        var resources = client.genericKubernetesResources(DriftPolicyResources.CONTEXT);
        for (int attempt = 1; ; attempt++) {
            GenericKubernetesResource live = resources.withName(name).get();
            if (live == null) {
                return resources.resource(wanted).create();
            }
            live.getAdditionalProperties().put("spec", wanted.getAdditionalProperties().get("spec"));
            try {
                return resources.resource(live).update();
            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                if (e.getCode() != 409 || attempt == 20) {
                    throw e;
                }
            }
        }
    }

    private GenericKubernetesResource live(String name) {
        return client.genericKubernetesResources(DriftPolicyResources.CONTEXT).withName(name).get();
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> status(String name) {
        GenericKubernetesResource resource = live(name);
        Object status = resource == null ? null : resource.getAdditionalProperties().get("status");
        return status instanceof Map ? (Map<String, Object>) status : Map.of();
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> nodeEntry(String name, String node) {
        Object nodes = status(name).get("nodes");
        if (nodes instanceof List<?> list) {
            for (Object entry : list) {
                if (entry instanceof Map<?, ?> map && node.equals(map.get("node"))) {
                    return (Map<String, Object>) map;
                }
            }
        }
        return Map.of();
    }

    private static Verdict.Decision decision(EffectivePolicy policy, String namespace) {
        return policy.current().evaluate(inNamespace(namespace)).decision();
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT + ": " + what);
            }
            Thread.sleep(20);
        }
    }

    private static double count(SimpleMeterRegistry registry, String name, String tag, String value) {
        var counter = registry.find(name).tag(tag, value).counter();
        return counter == null ? 0 : counter.count();
    }

    private static String alertShopAt(int priority, String action) {
        return "priority: " + priority + "\nrules:\n  - {name: shop, priority: 1, action: " + action
                + ", resourceScope: [{field: namespace, operator: equals, values: [shop]}]}\n";
    }

    @Test
    void creatingUpdatingAndDeletingAResourceChangesThePolicyInForce() throws Exception {
        // given an agent whose file ignores namespace shop
        Agent agent = startedAgent("node-a");
        assertThat(decision(agent.policy(), "shop")).isEqualTo(Verdict.Decision.IGNORE);

        // when a resource placed before the file alerts on shop, then is changed to block, then deleted
        apply("team-shop", alertShopAt(-10, "alert"));
        eventually("created resource in force", () -> decision(agent.policy(), "shop") == Verdict.Decision.ALERT);
        assertThat(agent.policy().current().evaluate(inNamespace("shop")).ruleName()).isEqualTo("team-shop/shop");

        apply("team-shop", alertShopAt(-10, "block"));
        eventually("updated resource in force", () -> decision(agent.policy(), "shop") == Verdict.Decision.BLOCK);

        client.genericKubernetesResources(DriftPolicyResources.CONTEXT).withName("team-shop").delete();

        // then the file alone decides again
        eventually("deleted resource gone", () -> decision(agent.policy(), "shop") == Verdict.Decision.IGNORE);
        assertThat(agent.policy().resourceCount()).isZero();
        assertThat(count(agent.registry(), DriftPolicyWatcher.LOADS, "result", "applied")).isEqualTo(2);
    }

    @Test
    void resourcesMergeBySpecPriorityAroundTheFile() throws Exception {
        // given an agent, and a resource after the file (priority 5) blocking shop: the file's ignore comes first
        Agent agent = startedAgent("node-a");
        apply("late", alertShopAt(5, "block"));
        eventually("late resource known", () -> agent.policy().resourceCount() == 1);
        assertThat(decision(agent.policy(), "shop")).isEqualTo(Verdict.Decision.IGNORE);

        // when two resources before the file disagree at the same priority
        apply("b-second", alertShopAt(-1, "block"));
        apply("a-first", alertShopAt(-1, "alert"));
        eventually("three resources", () -> agent.policy().resourceCount() == 3);

        // then the tie goes by name, and the order of the whole policy is by spec.priority
        assertThat(decision(agent.policy(), "shop")).isEqualTo(Verdict.Decision.ALERT);
        assertThat(agent.policy().current().rules()).extracting(r -> r.name())
                .containsExactly("a-first/shop", "b-second/shop", "file-shop", "late/shop");
    }

    @Test
    void aBadGenerationKeepsTheLastGoodOneAndItsProblemsAreInTheStatusWithCodesAndPaths() throws Exception {
        // given a valid resource in force on node-a
        Agent agent = startedAgent("node-a");
        apply("team-shop", alertShopAt(-10, "alert"));
        eventually("generation 1 applied", () -> Long.valueOf(1).equals(number(nodeEntry("team-shop", "node-a")
                .get("appliedGeneration"))));

        // when it is changed into something the loader rejects
        apply("team-shop", "priority: -10\nrules:\n  - {name: shop, priority: 1, action: alarm,"
                + " resourceScope: [{field: namespace, operator: like, values: [shop]}]}\n");
        eventually("generation 2 observed", () -> Long.valueOf(2).equals(number(nodeEntry("team-shop", "node-a")
                .get("observedGeneration"))));

        // then generation 1 stays in force
        assertThat(decision(agent.policy(), "shop")).isEqualTo(Verdict.Decision.ALERT);
        assertThat(nodeEntry("team-shop", "node-a")).containsEntry("node", "node-a");
        assertThat(number(nodeEntry("team-shop", "node-a").get("appliedGeneration"))).isEqualTo(1L);
        // and the status says why, with the loader's codes, paths and positions
        Map<String, Object> status = status("team-shop");
        assertThat(status).containsEntry("valid", false);
        assertThat(number(status.get("observedGeneration"))).isEqualTo(2L);
        assertThat(problems(status)).extracting(p -> p.get("code") + " " + p.get("path") + " " + p.get("severity"))
                .containsExactly("UNKNOWN_ACTION spec.rules[0].action error",
                        "UNKNOWN_OPERATOR spec.rules[0].resourceScope[0].operator error");
        assertThat(problems(status).get(0)).containsKeys("line", "column", "message");
        assertThat(count(agent.registry(), DriftPolicyWatcher.LOADS, "result", "rejected")).isEqualTo(1);

        // and a fixed generation 3 replaces generation 1 and clears the problems
        apply("team-shop", alertShopAt(-10, "block"));
        eventually("generation 3 applied", () -> decision(agent.policy(), "shop") == Verdict.Decision.BLOCK);
        eventually("status of generation 3", () -> Boolean.TRUE.equals(status("team-shop").get("valid")));
        assertThat(problems(status("team-shop"))).isEmpty();
        assertThat(number(nodeEntry("team-shop", "node-a").get("appliedGeneration"))).isEqualTo(3L);
    }

    @Test
    void aResourceThatWasNeverValidTakesNoPartAndItsNodeEntryHasNoAppliedGeneration() throws Exception {
        Agent agent = startedAgent("node-a");

        apply("broken", "rules: []\n"); // no priority

        eventually("status written", () -> !nodeEntry("broken", "node-a").isEmpty());
        assertThat(nodeEntry("broken", "node-a")).doesNotContainKey("appliedGeneration");
        assertThat(problems(status("broken"))).extracting(p -> p.get("code") + " " + p.get("path"))
                .containsExactly("MISSING_KEY spec.priority");
        assertThat(agent.policy().resourceCount()).isZero();
        assertThat(decision(agent.policy(), "shop")).isEqualTo(Verdict.Decision.IGNORE);
    }

    @Test
    void everyAgentsNodeEntrySurvivesConcurrentStatusWrites() throws Exception {
        // given five agents (five nodes) watching the same server
        List<Agent> agents = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            agents.add(startedAgent("node-" + i));
        }

        // when a resource is created and updated, each agent writing its status at about the same time
        apply("shared", alertShopAt(1, "alert"));
        apply("shared", alertShopAt(1, "block"));

        // then every node's entry is there with the newest generation applied: no write lost another's
        eventually("five nodes on generation 2", () -> {
            for (int i = 0; i < 5; i++) {
                if (!Long.valueOf(2).equals(number(nodeEntry("shared", "node-" + i).get("appliedGeneration")))) {
                    return false;
                }
            }
            return true;
        });
        double conflicts = agents.stream().mapToDouble(a -> count(a.registry(), StatusWriter.WRITES, "result",
                "conflict")).sum();
        double failures = agents.stream().mapToDouble(a -> count(a.registry(), StatusWriter.WRITES, "result",
                "failed")).sum();
        System.out.println("status write conflicts redone: " + conflicts + " (server refused " + api.conflicts()
                + "), failed: " + failures);
        assertThat(failures).isZero();
        assertThat(conflicts).as("every refused write was counted and redone").isEqualTo(api.conflicts());
    }

    @Test
    void theStatusTheAgentWritesFitsTheCrdsStatusSchema() throws Exception {
        startedAgent("node-a");
        apply("bad", "priority: 1\nrules:\n  - {name: x, priority: 1, action: alarm}\n");
        eventually("status written", () -> !nodeEntry("bad", "node-a").isEmpty());

        // nothing the agent writes would be pruned by an API server enforcing the CRD's schema
        @SuppressWarnings("unchecked")
        Map<String, Object> schema = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>)
                ((Map<String, Object>) ((List<Map<String, Object>>) ((Map<String, Object>) DriftPolicyCrd.definition()
                        .get("spec")).get("versions")).get(0).get("schema")).get("openAPIV3Schema"))
                .get("properties")).get("status");
        assertFits(status("bad"), schema, "status");
    }

    @Test
    void withoutTheCrdTheFilePolicyAppliesTheCauseIsLoggedOnceAndCountedAndResourcesApplyOnceItIsInstalled()
            throws Exception {
        // given an API server without the CRD, and an agent (retrying every 100 ms) logging to a list
        api.uninstallCrd();
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(DriftPolicyWatcher.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        logger.addAppender(log);
        try (KubernetesClient fastRetrying = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(
                new io.fabric8.kubernetes.client.ConfigBuilder(client.getConfiguration())
                        .withWatchReconnectInterval(100).withRequestRetryBackoffLimit(0).build()).build()) {
            EffectivePolicy policy = new EffectivePolicy(Optional.of(FILE));
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            DriftPolicyWatcher watcher = new DriftPolicyWatcher(fastRetrying, "node-a", policy, clock, registry);
            watchers.add(watcher);

            // when it starts
            watcher.start();

            // then the watch is degraded and counted, the file alone decides, and the cause is logged once
            eventually("degraded twice", () -> count(registry, DriftPolicyWatcher.DEGRADED, "reason", "crd_missing") >= 2);
            assertThat(watcher.state()).isEqualTo(DriftPolicyWatcher.State.DEGRADED);
            assertThat(decision(policy, "shop")).isEqualTo(Verdict.Decision.IGNORE);
            assertThat(log.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                    .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage))
                    .singleElement().asString()
                    .contains("driftpolicies.drift-agent.io is not installed").contains("policy file");

            // and once the CRD is there, the agent catches up by itself
            api.installCrd();
            apply("team-shop", alertShopAt(-10, "alert"));
            eventually("resource applied after the CRD came", () -> decision(policy, "shop") == Verdict.Decision.ALERT);
            eventually("watching", () -> watcher.state() == DriftPolicyWatcher.State.SYNCED);
            // the recovery is logged by whichever thread's state() saw it first (the start-up wait may still be
            // polling), possibly a moment after this thread saw SYNCED
            eventually("the recovery logged", () -> List.copyOf(log.list).stream()
                    .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                    .anyMatch(m -> m.startsWith("DriftPolicy resources watched again (was crd_missing)")));
        } finally {
            logger.detachAppender(log);
        }
    }

    @Test
    void withTheApiServerUnreachableTheFilePolicyAppliesAndTheDegradationIsCounted() throws Exception {
        // given an agent whose API server does not answer (nothing listens on the port)
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        try (KubernetesClient unreachable = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(
                new io.fabric8.kubernetes.client.ConfigBuilder().withMasterUrl("https://127.0.0.1:" + port)
                        .withTrustCerts(true).withRequestRetryBackoffLimit(0).withWatchReconnectInterval(100)
                        .build()).build()) {
            EffectivePolicy policy = new EffectivePolicy(Optional.of(FILE));
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            DriftPolicyWatcher watcher = new DriftPolicyWatcher(unreachable, "node-a", policy, clock, registry);
            watchers.add(watcher);

            // when it starts
            watcher.start();

            // then the failure is counted as the API server's, the watch is degraded, the file policy applies
            eventually("degraded", () -> count(registry, DriftPolicyWatcher.DEGRADED, "reason", "api_unavailable") >= 1);
            assertThat(watcher.state()).isEqualTo(DriftPolicyWatcher.State.DEGRADED);
            assertThat(watcher.lastFailure()).isPresent();
            assertThat(decision(policy, "shop")).isEqualTo(Verdict.Decision.IGNORE);
            assertThat(decision(policy, "other")).isEqualTo(Verdict.Decision.ALERT);
            assertThat(registry.find("drift.policy.resources.watching").gauge().value()).isZero();
        }
    }

    @SuppressWarnings("unchecked")
    private static void assertFits(Object value, Map<String, Object> schema, String where) {
        String type = (String) schema.get("type");
        if (value instanceof Map<?, ?> map) {
            assertThat(type).as(where).isEqualTo("object");
            Map<String, Map<String, Object>> properties = (Map<String, Map<String, Object>>) schema.get("properties");
            map.forEach((key, child) -> {
                assertThat(properties).as(where + " has " + key).containsKey((String) key);
                assertFits(child, properties.get(key), where + "." + key);
            });
        } else if (value instanceof List<?> list) {
            assertThat(type).as(where).isEqualTo("array");
            list.forEach(item -> assertFits(item, (Map<String, Object>) schema.get("items"), where + "[]"));
        } else if (value instanceof Number) {
            assertThat(type).as(where).isEqualTo("integer");
        } else if (value instanceof Boolean) {
            assertThat(type).as(where).isEqualTo("boolean");
        } else {
            assertThat(type).as(where).isEqualTo("string");
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> problems(Map<String, Object> status) {
        Object problems = status.get("problems");
        return problems instanceof List ? (List<Map<String, Object>>) problems : List.of();
    }

    private static Long number(Object value) {
        return value instanceof Number n ? n.longValue() : null;
    }
}
