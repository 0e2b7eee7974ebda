package io.driftagent.agent.assembly;

import io.driftagent.agent.attribution.ContainerAttributor;
import io.driftagent.agent.attribution.LiveContainers;
import io.driftagent.agent.attribution.ProcContainerAttributor;
import io.driftagent.agent.attribution.ProcLiveContainers;
import io.driftagent.agent.capture.CapturedMetadataProvider;
import io.driftagent.agent.capture.ContainerAppearanceWatcher;
import io.driftagent.agent.capture.ContainerCaptureRegistry;
import io.driftagent.agent.classification.DriftClassifier;
import io.driftagent.agent.classification.OverlayDriftClassifier;
import io.driftagent.agent.cloud.CloudIdentity;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.enforce.BlockScopeGuardian;
import io.driftagent.agent.enforce.BlockingDecider;
import io.driftagent.agent.enforce.Enforcer;
import io.driftagent.agent.enforce.FanotifyExecGuard;
import io.driftagent.agent.enforce.RunningContainerGuarding;
import io.driftagent.agent.fs.NoFollowRootedFiles;
import io.driftagent.agent.host.HostMountTable;
import io.driftagent.agent.http.AgentHttpServer;
import io.driftagent.agent.http.HttpSettings;
import io.driftagent.agent.http.Readiness;
import io.driftagent.agent.http.ReadinessCheck;
import io.driftagent.agent.image.SharedImageIndexProvider;
import io.driftagent.agent.learn.LearnSession;
import io.driftagent.agent.lineage.LineageReader;
import io.driftagent.agent.lineage.ProcessTree;
import io.driftagent.agent.metadata.MetadataProvider;
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
import io.driftagent.agent.policysource.DriftPolicyWatcher;
import io.driftagent.agent.policysource.EffectivePolicy;
import io.driftagent.agent.policywatch.PolicyFileWatcher;
import io.driftagent.agent.provenance.WriteOrigins;
import io.driftagent.agent.sandbox.OverlaySandbox;
import io.driftagent.agent.sandbox.SandboxContainers;
import io.driftagent.agent.selftest.SelfTest;
import io.driftagent.agent.selftest.SelfTestService;
import io.driftagent.agent.source.ExecSource;
import io.driftagent.agent.source.ImageExecKeeping;
import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.model.Action;
import io.driftagent.policy.reload.PolicyHolder;
import io.driftagent.reporter.dispatch.AlertDispatcher;
import io.driftagent.reporter.metrics.DriftMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * THE one place where the real components are built from the configuration: exec source, attribution, image
 * index, classification, workload metadata, policy, reporter sinks, HTTP endpoints and the self-test.
 */
public final class AgentAssembly {

    private static final Path PROC = Path.of("/proc");
    private static final Path HOST_ROOT = Path.of("/");

    private static final Duration SELF_TEST_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration SELF_TEST_PERIOD = Duration.ofMinutes(10);

    private final Clock clock;
    private final SandboxContainers sandboxes;
    private final Function<AgentConfig, KubernetesClient> kubernetesClients;

    public AgentAssembly(Clock clock) {
        this(clock, new SandboxContainers());
    }

    /** With the registry of the agent's own sandbox containers, shared with the demo. */
    public AgentAssembly(Clock clock, SandboxContainers sandboxes) {
        this(clock, sandboxes, config -> new KubernetesClientBuilder().build());
    }

    /**
     * With the Kubernetes client to use when not standalone (the default reads kubeconfig / the in-cluster service
     * account); the agent closes that client when it stops.
     */
    public AgentAssembly(Clock clock, SandboxContainers sandboxes,
                         Function<AgentConfig, KubernetesClient> kubernetesClients) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sandboxes = Objects.requireNonNull(sandboxes, "sandboxes");
        this.kubernetesClients = Objects.requireNonNull(kubernetesClients, "kubernetesClients");
    }

    public AgentComponents assemble(AgentConfig config) throws AssemblyException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        DriftMetrics metrics = new DriftMetrics(registry);
        Readiness readiness = new Readiness();
        AgentHttpServer http = new AgentHttpServer(HttpSettings.of(config.http().bind(), config.http().port()), readiness,
                metrics::scrape);
        http.registerMetrics(registry);
        List<ManagedService> services = new ArrayList<>();

        KubernetesClient client = config.standalone() ? null : kubernetesClients.apply(config);
        try {
            return assemble(config, registry, metrics, readiness, http, services, client);
        } catch (AssemblyException | RuntimeException e) {
            services.forEach(ManagedService::close);
            if (client != null) {
                client.close();
            }
            throw e;
        }
    }

    private AgentComponents assemble(AgentConfig config, PrometheusMeterRegistry registry, DriftMetrics metrics,
                                     Readiness readiness, AgentHttpServer http, List<ManagedService> services,
                                     KubernetesClient client) throws AssemblyException {
        AlertDispatcher dispatcher = ReportingAssembly.dispatcher(config, metrics, client, clock);
        services.add(ManagedService.of("alert-dispatcher", () -> { }, dispatcher::close));
        if (client != null) {
            // first in, last out: the informer and the Events sink stop before their client closes
            services.add(ManagedService.of("kubernetes-client", () -> { }, client::close));
        }
        // one watcher of the host's mount table: container capture and the fanotify source listen to it
        HostMountTable hostMounts = HostMountTable.onThisHost(PROC);
        services.add(ManagedService.of("host-mount-table", hostMounts::start, hostMounts::close));
        ContainerCaptureRegistry captures = ContainerCaptureRegistry.withDefaults();
        WriteOrigins origins = ProvenanceAssembly.origins(captures, registry, config.kernelHooks().writeTracking());
        ContainerAppearanceWatcher appearances;
        try {
            appearances = ContainerAppearanceWatcher.onThisHost(captures, PROC, HOST_ROOT, hostMounts);
        } catch (IOException e) {
            throw new AssemblyException("cannot read this host's cgroup mounts: " + e.getMessage(), e);
        }
        services.add(ManagedService.of("container-capture", appearances::start, appearances::close));
        registerCaptureMetrics(captures, appearances, registry);
        MetadataAssembly.Metadata metadata = MetadataAssembly.build(config, client, readiness, registry, clock,
                new CapturedMetadataProvider(captures));
        services.add(metadata.service());

        SharedImageIndexProvider images = SharedImageIndexProvider.fromLayerDirectories();
        metrics.registerImageIndex(images::imageCount, images::totalBytes);
        OverlayDriftClassifier classifier = new OverlayDriftClassifier(NoFollowRootedFiles.create(), images, PROC);
        ProcContainerAttributor procAttributor;
        try {
            procAttributor = ProcContainerAttributor.onThisHost(PROC, HOST_ROOT, clock, classifier::containerGone,
                    captures);
        } catch (IOException e) {
            throw new AssemblyException("cannot read this host's cgroup mounts: " + e.getMessage(), e);
        }
        for (String by : List.of("cgroup_id", "proc", "mount_ns", "dev", "host", "host_mount_ns", "unattributed",
                "capture")) {
            FunctionCounter.builder("drift.attribution.execs", procAttributor, a -> a.stats().getOrDefault(by, 0L))
                    .description("execs by how attribution placed them: in a container (by cgroup id, /proc, mount"
                            + " namespace, device), on the host (host_mount_ns: a container-looking cgroup in the host's"
                            + " mount namespace, also counted in host), or nowhere")
                    .tag("by", by).register(registry);
        }
        FunctionCounter.builder("drift.pipeline.stopped_early", procAttributor,
                        ProcContainerAttributor::unattributedMayBeDrift).tag("reason", "unattributed")
                .description("Execs that left the pipeline early: not in a container, or the image's own file")
                .register(registry);

        // the policy in force: the file's last good version merged with the DriftPolicy resources' (Kubernetes mode)
        PolicyHolder filePolicy = new PolicyHolder(CompiledPolicy.defaultOnly(Action.IGNORE), clock);
        EffectivePolicy policy = new EffectivePolicy(config.policyFile() == null
                ? Optional.empty() : Optional.of(filePolicy.current().source()));
        if (client != null) {
            DriftPolicyWatcher resources = new DriftPolicyWatcher(client, config.nodeName(), policy, clock, registry);
            services.add(ManagedService.of("driftpolicy-watch", resources::start, resources::close));
        }
        if (config.policyFile() != null) {
            HolderReloader fileReloader = new HolderReloader(filePolicy);
            PolicyFileWatcher watcher = PolicyFileWatcher.withDefaults(config.policyFile(), (file, content) -> {
                boolean applied = fileReloader.reload(file, content);
                policy.fileChanged(filePolicy.current().source());
                return applied;
            }, registry);
            services.add(ManagedService.of("policy-watch", watcher::start, watcher::close));
            readiness.register("policy", () -> watcher.policyLoaded()
                    ? ReadinessCheck.Result.passing()
                    : ReadinessCheck.Result.failing("policy " + config.policyFile() + " not loaded: "
                            + (watcher.lastFailure() == null ? "file absent" : watcher.lastFailure())));
        }

        // image execs the pipeline knows (its container's root overlay) stay in the kernel until their process forks
        ImageExecKeeping keeping = new ImageExecKeeping();
        ExecSource source = SourceAssembly.source(config, clock, registry, hostMounts, origins, keeping);
        ProvenanceAssembly.registerKernelCounters(source, origins, registry);

        CloudIdentity cloud = MetadataAssembly.cloud(config, client);
        DeploymentIdentity identity = new DeploymentIdentity(config.nodeName(), config.clusterName(),
                cloud.providerLabel(), cloud.account());
        AlertAssembler assembler = new AlertAssembler(identity, clock, new TimeOrderedIds(clock), origins);
        PolicyEvaluator evaluator = facts -> policy.current().evaluate(facts);
        MetadataProvider workloads = sandboxes.metadataOver(metadata.provider());
        MetadataProvider workloadsNow = sandboxes.metadataOver(metadata.earlyProvider());
        DriftClassifier classification = sandboxes.classifierOver(classifier);
        ContainerAttributor observed = new FanotifyRootWatcher(sandboxes.attributorOver(procAttributor), source);

        // blocking: the guard (no marks until a container under a block rule is seen), the scope that puts
        // containers under it, and the enforcer the pipeline's attribute and act stages report to
        FanotifyExecGuard guard = BlockingAssembly.guard(config, clock);
        BlockScopeGuardian scope = new BlockScopeGuardian(
                BlockingAssembly.meteredOnFirstUse(guard, config.blocking().onTimeout(), registry),
                workloadsNow, policy::current, assembler, liveContainers());
        BlockingAssembly.registerMetrics(scope, registry);
        Enforcer enforcer = new Enforcer(scope, guard::forgetRememberedAllowances);
        BlockingAssembly.registerMetrics(enforcer, registry);

        // a container can hold its mmap lock and stall /proc/<pid>/cmdline: such reads give up after 20 ms
        TimeLimitedProcessInspector processInspector = new TimeLimitedProcessInspector(
                ProcFsProcessInspector.host(new LineageReader(new ProcessTree(ProcessTree.DEFAULT_MAX_ENTRIES,
                        ProcessTree.DEFAULT_MAX_BYTES, registry), Path.of("/proc"))),
                Duration.ofMillis(20), 4, registry);
        AlertPublisher emitted = dispatcher::submit;
        if (config.learn().enabled()) {
            LearnSession learning = new LearnSession(config.learn(), () -> policy.current().source(), clock, registry);
            services.add(ManagedService.of("learn-mode", learning::start, learning::close));
            emitted = learning.publisherOver(emitted);
        }
        DriftPipeline pipeline = new DriftPipeline(
                new PipelineParts(observed, processInspector, classification, workloads, evaluator,
                        assembler, sandboxes.publisherOver(emitted), enforcer),
                new PipelineSettings(config.queues().source(), config.queues().stage(), config.queues().parking(),
                        config.metadataRetries(), config.stageHistograms()),
                registry, MonotonicClock.SYSTEM, sandboxes::isWatchedCanary);
        pipeline.keepImageExecsIn(keeping);
        sandboxes.onCanaryWatchesChanged(keeping::refresh);

        // the guard decides synchronously and reports what it denied to the pipeline, classified
        services.add(BlockingAssembly.service(guard, new BlockingDecider(observed, classification, workloadsNow,
                policy::current, assembler, pipeline::offerDenied)));
        RunningContainerGuarding running = new RunningContainerGuarding(scope, policy::current,
                Duration.ofSeconds(1));
        services.add(ManagedService.of("running-container-guard", running::start, running::close));
        services.add(ManagedService.of("proc-readers", () -> { }, processInspector::close));

        SelfTest selfTest = new SelfTest(clock, sandboxes, OverlaySandbox.DEFAULT_BUSYBOX, SELF_TEST_TIMEOUT,
                Path.of(System.getProperty("java.io.tmpdir")), registry, dir -> FanotifyRootWatcher.watchDirectory(source, dir));
        SelfTestService selfTestService = new SelfTestService(selfTest, () -> sourceAttached(readiness),
                SELF_TEST_PERIOD);
        services.add(ManagedService.of(selfTestService.name(), selfTestService::start, selfTestService::close));
        readiness.register("self-test", selfTest::readiness);
        return new AgentComponents(http, readiness, services, pipeline, source);
    }

    /** drift.capture.containers{event}: what capture at container start did. */
    private static void registerCaptureMetrics(ContainerCaptureRegistry captures, ContainerAppearanceWatcher watcher,
                                               PrometheusMeterRegistry registry) {
        // three series of the node's budget (docs/benchmarks.md): the rest is in the capture thread's DEBUG log
        for (String event : List.of("appeared", "evicted")) {
            FunctionCounter.builder("drift.capture.containers", captures, c -> c.stats().getOrDefault(event, 0L))
                    .description("Containers captured at their start (rootfs mounted), by event: evicted = forgotten"
                            + " early, the registry being full; missed = its init exited before its cgroup, namespace"
                            + " and mounts could be read")
                    .tag("event", event).register(registry);
        }
        FunctionCounter.builder("drift.capture.containers", watcher, w -> (double) w.missed())
                .description("Containers captured at their start (rootfs mounted), by event: evicted = forgotten"
                        + " early, the registry being full; missed = its init exited before its cgroup, namespace"
                        + " and mounts could be read")
                .tag("event", "missed").register(registry);
    }

    /** The containers running now, found from /proc; none when this host's /proc cannot tell (logged). */
    private static LiveContainers liveContainers() {
        try {
            return ProcLiveContainers.onThisHost(PROC);
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(AgentAssembly.class)
                    .warn("cannot read this host's cgroup mounts: running containers are guarded at their execs only: {}",
                            e.getMessage());
            return LiveContainers.NONE;
        }
    }

    private static boolean sourceAttached(Readiness readiness) {
        return readiness.evaluate().stream()
                .anyMatch(o -> o.name().equals(AgentRuntime.SOURCE_CHECK) && o.result().ready());
    }
}
