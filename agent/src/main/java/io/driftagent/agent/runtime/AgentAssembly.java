package io.driftagent.agent.runtime;

import io.driftagent.agent.classify.DriftClassifier;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.http.AgentHttpServer;
import io.driftagent.agent.http.Readiness;
import io.driftagent.agent.http.ReadinessCheck;
import io.driftagent.agent.k8s.MetadataProvider;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.agent.pipeline.AlertPublisher;
import io.driftagent.agent.pipeline.DeploymentIdentity;
import io.driftagent.agent.pipeline.DriftPipeline;
import io.driftagent.agent.pipeline.MonotonicClock;
import io.driftagent.agent.pipeline.PipelineParts;
import io.driftagent.agent.pipeline.PipelineSettings;
import io.driftagent.agent.pipeline.PolicyEvaluator;
import io.driftagent.agent.pipeline.ProcFsProcessInspector;
import io.driftagent.agent.pipeline.TimeLimitedProcessInspector;
import io.driftagent.agent.pipeline.TimeOrderedIds;
import io.driftagent.agent.policywatch.PolicyFileWatcher;
import io.driftagent.agent.policywatch.PolicyReloader;
import io.driftagent.agent.proc.ContainerAttributor;
import io.driftagent.agent.source.ExecSource;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * THE one place where the real components are built from the configuration. Parts that live in other modules'
 * branches are not wired here yet: each such factory method below records itself as missing, and
 * {@link #assemble} then fails with {@link NotYetWiredException} naming all of them. The integrator replaces the
 * body of each method marked NOT WIRED (and nothing else needs to change).
 */
public final class AgentAssembly {

    private final Clock clock;
    private final List<String> missing = new ArrayList<>();

    public AgentAssembly(Clock clock) {
        this.clock = clock;
    }

    public AgentComponents assemble(AgentConfig config) throws NotYetWiredException {
        missing.clear();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Readiness readiness = new Readiness();
        AgentHttpServer http = new AgentHttpServer(config.http().bind(), config.http().port(), readiness, registry::scrape);

        ExecSource source = execSource(config);
        ContainerAttributor attributor = attributor(config);
        DriftClassifier classifier = classifier(config);
        MetadataProvider metadata = metadataProvider(config, readiness);
        PolicyEvaluator policy = policyEvaluator(config);
        PolicyReloader policyReloader = policyReloader(config);
        AlertPublisher publisher = alertPublisher(config, registry);
        if (!missing.isEmpty()) {
            throw new NotYetWiredException(missing);
        }

        List<ManagedService> services = new ArrayList<>();
        if (config.policyFile() != null) {
            PolicyFileWatcher watcher = PolicyFileWatcher.withDefaults(config.policyFile(), policyReloader, registry);
            services.add(ManagedService.of("policy-watch", () -> {
                watcher.start();
            }, watcher::close));
            readiness.register("policy", () -> watcher.policyLoaded()
                    ? ReadinessCheck.Result.passing()
                    : ReadinessCheck.Result.failing("policy " + config.policyFile() + " not loaded: "
                            + (watcher.lastFailure() == null ? "file absent" : watcher.lastFailure())));
        }
        TimeLimitedProcessInspector processInspector = new TimeLimitedProcessInspector(
                ProcFsProcessInspector.host(), Duration.ofMillis(20), 4, registry);
        services.add(ManagedService.of("proc-readers", () -> { }, processInspector::close));
        DeploymentIdentity identity = new DeploymentIdentity(config.nodeName(), config.clusterName(),
                config.cloudProvider() == null ? null : config.cloudProvider().wireName(), config.cloudAccount());
        DriftPipeline pipeline = new DriftPipeline(
                new PipelineParts(attributor, processInspector, classifier, metadata, policy,
                        new AlertAssembler(identity, clock, new TimeOrderedIds(clock)), publisher),
                new PipelineSettings(config.queues().source(), config.queues().stage(), config.queues().parking(),
                        config.metadataRetries()),
                registry, MonotonicClock.SYSTEM);
        return new AgentComponents(http, readiness, services, pipeline, source);
    }

    // NOT WIRED: eBPF / fanotify ExecSource per config.source() (auto: eBPF, then fanotify); the fanotify
    // permission guard for BLOCK verdicts with config.blocking(). Register its self-test as a readiness check.
    private ExecSource execSource(AgentConfig config) {
        return notWired("exec source (io.driftagent.agent.source.ebpf / .fanotify, source=" + config.source() + ")");
    }

    // NOT WIRED: cgroup -> container attribution (io.driftagent.agent.proc).
    private ContainerAttributor attributor(AgentConfig config) {
        return notWired("container attribution (ContainerAttributor)");
    }

    // NOT WIRED: image index + DriftClassifier (io.driftagent.agent.classify, io.driftagent.agent.image).
    private DriftClassifier classifier(AgentConfig config) {
        return notWired("drift classification (DriftClassifier)");
    }

    // NOT WIRED: pod informer (or, standalone, the runtime's own metadata); register readiness "informer"
    // (synced) when not standalone; as a ManagedService so it starts before the pipeline. The node's providerID
    // should fill DeploymentIdentity's cloud when config.cloudProvider()/cloudAccount() are null.
    private MetadataProvider metadataProvider(AgentConfig config, Readiness readiness) {
        return notWired("workload metadata (MetadataProvider: pod informer"
                + (config.standalone() ? ", standalone runtime metadata)" : ")"));
    }

    // NOT WIRED: facts -> policyHolder.current().evaluate(facts) (io.driftagent.policy).
    private PolicyEvaluator policyEvaluator(AgentConfig config) {
        return notWired("policy evaluation (CompiledPolicy#evaluate)");
    }

    // NOT WIRED: path -> policyHolder.reload(path) succeeded (io.driftagent.policy.reload.PolicyHolder).
    private PolicyReloader policyReloader(AgentConfig config) {
        return notWired("policy reload (PolicyHolder#reload)");
    }

    // NOT WIRED: AlertDispatcher (queue config.queues().alerts()) with the JSON-lines sink on config.alertsTarget(),
    // Kubernetes Events (config.kubernetesEvents()), webhook (config.webhook()), dedup (config.dedupWindow());
    // adapt as alert -> dispatcher.submit(alert); add the dispatcher as a ManagedService.
    private AlertPublisher alertPublisher(AgentConfig config, PrometheusMeterRegistry registry) {
        return notWired("alert reporting (AlertDispatcher#submit and its sinks)");
    }

    private <T> T notWired(String part) {
        missing.add(part);
        return null;
    }
}
