package io.driftagent.agent.pipeline;

import io.driftagent.agent.attribution.ContainerContext;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.fs.PathBytes;
import io.driftagent.agent.lineage.ProcessLineage;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.provenance.OriginLookup;
import io.driftagent.agent.provenance.WriteOrigin;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import io.driftagent.reporter.alert.Alert;
import java.time.Clock;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Builds the policy's {@link DriftFacts} and the {@link Alert} of one drifted exec from what the pipeline learned.
 * Nothing is invented: what is unknown stays null.
 *
 * <p>Severity by kind: FILELESS and MODIFIED are high (code with no file, or an image binary replaced: the
 * classic implant shapes); ADDED and MOUNT are medium (new code, often tooling); UNRESOLVED is low (we could not
 * tell). The verdict does not change severity; a denied exec says so in {@code alertType}.
 */
public final class AlertAssembler {

    private final DeploymentIdentity identity;
    private final ExecWallClock execTimes;
    private final Supplier<String> ids;
    private final OriginLookup origins; // null: drift.origin omitted

    /** Alert times from the exec's CLOCK_MONOTONIC timestamp ({@link System#nanoTime()}'s clock) and {@code clock}. */
    public AlertAssembler(DeploymentIdentity identity, Clock clock, Supplier<String> ids) {
        this(identity, clock, MonotonicClock.SYSTEM, ids);
    }

    /**
     * @param clock     the wall clock
     * @param monotonic the clock of {@code ExecEvent.timestampNs}
     */
    public AlertAssembler(DeploymentIdentity identity, Clock clock, MonotonicClock monotonic, Supplier<String> ids) {
        this(identity, clock, monotonic, ids, null);
    }

    /** With the writers of drifted files ({@code drift.origin}) from {@code origins}. */
    public AlertAssembler(DeploymentIdentity identity, Clock clock, Supplier<String> ids, OriginLookup origins) {
        this(identity, clock, MonotonicClock.SYSTEM, ids, origins);
    }

    /** @param origins the writers of drifted files; null: no {@code drift.origin} (an assembler without write tracking) */
    public AlertAssembler(DeploymentIdentity identity, Clock clock, MonotonicClock monotonic, Supplier<String> ids,
                          OriginLookup origins) {
        this.identity = Objects.requireNonNull(identity, "identity");
        this.execTimes = new ExecWallClock(clock, monotonic);
        this.ids = Objects.requireNonNull(ids, "ids");
        this.origins = origins;
    }

    /** The policy's trigger of an event: a library load, else an exec. */
    public static io.driftagent.policy.model.Trigger triggerOf(ExecEvent event) {
        return event.isLibraryLoad() ? io.driftagent.policy.model.Trigger.LIBRARY : io.driftagent.policy.model.Trigger.EXEC;
    }

    public static Alert.Severity severityOf(DriftKind kind) {
        switch (kind) {
            case FILELESS:
            case MODIFIED:
                return Alert.Severity.high;
            case ADDED:
            case MOUNT:
                return Alert.Severity.medium;
            case UNRESOLVED:
            case IMAGE:
            default:
                return Alert.Severity.low;
        }
    }

    /** The facts the policy sees: cloud and cluster from this deployment, workload from metadata, file from classification. */
    public DriftFacts facts(WorkloadMetadata metadata, Classification classification) {
        return facts(metadata, classification, io.driftagent.policy.model.Trigger.EXEC);
    }

    /** The facts of a drifted exec or library load ({@code trigger}). */
    public DriftFacts facts(WorkloadMetadata metadata, Classification classification,
                            io.driftagent.policy.model.Trigger trigger) {
        return new DriftFacts(
                identity.cloudProvider(),
                identity.cloudAccount(),
                identity.clusterName(),
                metadata.namespace(),
                metadata.podName(),
                metadata.podLabels(),
                metadata.containerName(),
                metadata.image(),
                classification.kind(),
                classification.path(),
                classification.sha256(),
                trigger);
    }

    /**
     * The alert for a drifted exec.
     *
     * @param denied whether the blocking guard denied the exec: {@code alertType} says what happened
     *               ({@code BinaryDriftBlocked} only for a denied exec), {@code action} what the policy decided
     *               ({@code block} for every denied exec)
     */
    public Alert alert(ExecEvent event, ProcessSnapshot process, ContainerContext container, WorkloadMetadata metadata,
                       Classification classification, Verdict verdict, boolean denied) {
        return new Alert(
                Alert.SCHEMA_VERSION,
                ids.get(),
                execTimes.toWallClock(event.timestampNs()), // when the exec happened, not when it was reported
                alertType(event, denied),
                severityOf(classification.kind()),
                action(event, verdict, denied),
                new Alert.Drift(classification.kind().name(), classification.path(), classification.sha256(),
                        classification.imagePath(), classification.layer(), classification.reason(),
                        PathBytes.base64IfNotUtf8(classification.path()), origin(event, classification.kind())),
                process(event, process, container),
                new Alert.Container(container.id().value(), metadata.containerName(), container.runtime().label(),
                        metadata.image(), metadata.imageDigest()),
                pod(container, metadata),
                identity.nodeName(),
                identity.clusterName(),
                identity.cloudProvider() == null && identity.cloudAccount() == null
                        ? null : new Alert.Cloud(identity.cloudProvider(), identity.cloudAccount()),
                new Alert.Rule(verdict.ruleName(), verdict.rulePriority()));
    }

    /** {@code LibraryDrift} for a library load, else {@code BinaryDriftBlocked} for a denied exec, else {@code BinaryDrift}. */
    static Alert.AlertType alertType(ExecEvent event, boolean denied) {
        if (event.isLibraryLoad()) {
            return Alert.AlertType.LibraryDrift;
        }
        return denied ? Alert.AlertType.BinaryDriftBlocked : Alert.AlertType.BinaryDrift;
    }

    /**
     * What was done: a denied exec was blocked; a library load is never blocked (fanotify's exec permission does not
     * see mmap), so a block rule's library drift is reported as {@code alert}; else the policy's decision.
     */
    static String action(ExecEvent event, Verdict verdict, boolean denied) {
        if (denied) {
            return Verdict.Decision.BLOCK.wireName();
        }
        if (event.isLibraryLoad() && verdict.decision() == Verdict.Decision.BLOCK) {
            return Verdict.Decision.ALERT.wireName();
        }
        return verdict.decision().wireName();
    }

    /** Who wrote the drifted file, for the kinds that have a written file (ADDED, MODIFIED, MOUNT); else none. */
    private Alert.Origin origin(ExecEvent event, DriftKind kind) {
        if (origins == null || kind != DriftKind.ADDED && kind != DriftKind.MODIFIED && kind != DriftKind.MOUNT) {
            return null;
        }
        WriteOrigin origin = origins.originOf(event, event.file());
        if (!origin.known()) {
            return Alert.Origin.unknown(origin.unknown().reason());
        }
        return new Alert.Origin(origin.pid(), origin.exe(), origin.cmdline(), execTimes.toWallClock(origin.timestampNs()),
                origin.remote(), null);
    }

    /** The process, its parent and its lineage (ancestors, session, cwd, ids: see {@code lineage.LineageReader}). */
    static Alert.Process process(ExecEvent event, ProcessSnapshot process, ContainerContext container) {
        ProcessLineage lineage = process.lineage();
        return new Alert.Process(event.tgid(), event.ppid(), event.uid(), exe(event, process), cmdline(event, process),
                event.ppid() > 0 ? new Alert.Parent(event.ppid(), process.parentExe()) : null,
                lineage.euid(), lineage.loginUid(), lineage.auditSessionId(), lineage.cwd(), lineage.ancestors(),
                lineage.session(container.id().value()));
    }

    /**
     * The executable: the kernel's path of the executed file at exec time (relative to the process's root), which
     * /proc may no longer have (a process that exited) or may have changed (a process that exec'd again). For a
     * {@code #!} script the kernel's path is the script's, while exe is the interpreter: /proc's then.
     */
    static String exe(ExecEvent event, ProcessSnapshot process) {
        if (event.isLibraryLoad()) {
            // the mapped file is the library; the process's executable is the kernel's exe_file at the mapping
            return event.processExe() != null ? event.processExe() : process.exe();
        }
        ExecEvent.KernelFacts kernel = event.kernel();
        if (kernel.path() != null && !kernel.pathTruncated() && !event.interpreter().isKnown()) {
            return kernel.path();
        }
        return process.exe() != null ? process.exe() : kernel.path();
    }

    /** The command line as exec'd: the kernel's argv at exec time, else what /proc still had. */
    static java.util.List<String> cmdline(ExecEvent event, ProcessSnapshot process) {
        return event.kernel().argvKnown() ? event.kernel().argv() : process.cmdline();
    }

    /**
     * The pod, or outside Kubernetes the container's own labels (Docker, containerd) in {@code pod.labels}: they are
     * what the policy's {@code podLabels} matched, so the alert shows them.
     */
    private static Alert.Pod pod(ContainerContext container, WorkloadMetadata metadata) {
        String uid = metadata.podUid() != null ? metadata.podUid() : container.podUid();
        if (metadata.podName() == null && metadata.namespace() == null && uid == null && metadata.podLabels().isEmpty()) {
            return null;
        }
        return new Alert.Pod(metadata.podName(), metadata.namespace(), uid, metadata.podLabels());
    }
}
