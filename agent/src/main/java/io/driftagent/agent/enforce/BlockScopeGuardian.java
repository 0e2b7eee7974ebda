package io.driftagent.agent.enforce;

import io.driftagent.agent.attribution.ContainerId;
import io.driftagent.agent.attribution.LiveContainers;
import io.driftagent.agent.classification.Classification;
import io.driftagent.agent.metadata.MetadataProvider;
import io.driftagent.agent.metadata.WorkloadMetadata;
import io.driftagent.agent.pipeline.AlertAssembler;
import io.driftagent.policy.eval.CompiledPolicy;
import io.driftagent.policy.eval.Verdict;
import io.driftagent.policy.model.DriftKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides which containers are under the exec guard, when a container is seen ({@link #containerSeen}: at its execs,
 * as the pipeline's attribute stage reports them through {@link Enforcer}) and at scans of the running containers
 * ({@link #guardRunning()}): only those whose drift the policy could block,
 * so every other workload execs at full speed and can never be frozen by the agent.
 *
 * <ul>
 *   <li>A container whose workload is known is guarded when some drift kind in it would be blocked.</li>
 *   <li>A container whose workload is not known yet (the pod informer lags a container's start by up to seconds) is
 *       guarded provisionally when the policy blocks anything at all, so that a dropped binary run in the first
 *       seconds is not let through; once its workload is known it is decided for real (and unguarded if it is not
 *       blockable).</li>
 *   <li>When the policy changes (a reload), every container is decided again at its next exec: a new block rule
 *       covers running containers, a removed one releases them.</li>
 *   <li>At start and at each policy change, {@link #guardRunning()} decides every running container at once, without
 *       waiting for an exec: a container started before the agent that only runs short-lived execs is otherwise
 *       decided at an exec whose process is gone by then, again and again.</li>
 * </ul>
 * The guard is attached through {@code /proc/<pid>/root} of the container's longest-lived process (its init, from
 * {@link LiveContainers}), never through the exec being decided, which may have exited already; only when no such
 * process is found (a container the scan cannot see) through the exec's. It is released through the same path; when
 * that process is gone by then, the kernel keeps the mark until the container's filesystem goes (its execs are then
 * still asked about, and allowed by the decider). A container that cannot be guarded is logged (WARN), counted
 * ({@link #attachFailures()}) and tried again at its next exec or scan.
 */
public final class BlockScopeGuardian {

    /** Attaches the exec guard to the filesystem seen at a container's {@code /proc/<pid>/root}, or releases it. */
    public interface RootGuard {
        void guard(Path root) throws IOException;

        void unguard(Path root);

        /** Whether guarding is possible at all (false: no fanotify permission events on this kernel). */
        default boolean available() {
            return true;
        }

        static RootGuard of(FanotifyExecGuard guard) {
            return new RootGuard() {
                @Override
                public void guard(Path root) throws IOException {
                    guard.guard(root);
                }

                @Override
                public void unguard(Path root) {
                    guard.unguard(root);
                }

                @Override
                public boolean available() {
                    return guard.isRunning();
                }
            };
        }
    }

    private enum State { GUARDED, GUARDED_PROVISIONALLY, NOT_BLOCKABLE }

    private record Decision(State state, Path root, CompiledPolicy under) {}

    private static final Logger log = LoggerFactory.getLogger(BlockScopeGuardian.class);
    private static final DriftKind[] DRIFT = {DriftKind.ADDED, DriftKind.MODIFIED, DriftKind.MOUNT, DriftKind.FILELESS};
    private static final int MAX_REMEMBERED = 65_536;

    private final RootGuard guard;
    private final MetadataProvider metadata;
    private final Supplier<CompiledPolicy> policy;
    private final AlertAssembler facts;
    private final Map<ContainerId, Decision> decisions = new ConcurrentHashMap<>();
    private final LiveContainers live;
    private final LongAdder attachFailures = new LongAdder();
    /** When each container's failure to be guarded was last logged at WARN (then once a minute, else DEBUG). */
    private final Map<ContainerId, Long> lastWarned = new ConcurrentHashMap<>();
    private static final long WARN_EVERY_NANOS = 60_000_000_000L;

    /** @param policy the policy in force, read at each decision (a reload replaces it) */
    public BlockScopeGuardian(RootGuard guard, MetadataProvider metadata, Supplier<CompiledPolicy> policy,
                              AlertAssembler facts, LiveContainers live) {
        this.guard = guard;
        this.metadata = metadata;
        this.policy = policy;
        this.facts = facts;
        this.live = live;
    }

    /**
     * A container was seen at an exec of process {@code pid}: decides it unless it is decided under the policy in
     * force already (the common case: one map lookup, no lock).
     *
     * @return false when the container should be guarded and could not be (tried again at its next exec or scan)
     */
    public boolean containerSeen(ContainerId id, int pid) {
        return decide(id, pid);
    }

    /**
     * Decides every running container now (at start and after a policy change), attaching the guard through each
     * one's longest-lived process.
     *
     * @return the containers that should be guarded but could not be (tried again at the next call or exec)
     */
    public int guardRunning() {
        if (!guard.available() || !policy.get().mayBlock()) {
            // nothing can be guarded, or nothing needs it (releases after a reload happen at the next exec)
            return 0;
        }
        int failed = 0;
        for (LiveContainers.LiveContainer c : live.scan()) {
            if (!decide(c.id(), c.anchorPid())) {
                failed++;
            }
        }
        return failed;
    }

    /** The policy in force may block some exec: every exec must then pass {@link #containerSeen}. */
    public boolean policyMayBlock() {
        return policy.get().mayBlock();
    }

    /** Containers that should have been guarded and could not be, since start (each try counts). */
    public long attachFailures() {
        return attachFailures.sum();
    }

    /** @return false when the container should be guarded and could not be */
    private boolean decide(ContainerId id, int pid) {
        CompiledPolicy current = policy.get();
        Decision before = decisions.get(id);
        if (before != null && before.under() == current && before.state() != State.GUARDED_PROVISIONALLY) {
            return true; // decided under this policy: the common case, without the lock
        }
        if (!current.mayBlock() && (before == null || before.state() == State.NOT_BLOCKABLE)) {
            return true; // nothing to guard, no metadata to look up
        }
        synchronized (this) {
            return decideLocked(id, pid, current);
        }
    }

    private boolean decideLocked(ContainerId id, int tgid, CompiledPolicy current) {
        Decision before = decisions.get(id);
        if (!current.mayBlock()) {
            // the common case: nothing to guard, no metadata to look up (only releases after a reload)
            if (before != null && before.state() != State.NOT_BLOCKABLE) {
                release(id, before, current);
            }
            return true;
        }
        if (before != null && before.under() == current && before.state() != State.GUARDED_PROVISIONALLY) {
            return true;
        }
        Optional<WorkloadMetadata> workload = metadata.lookup(id);
        if (workload.isEmpty()) {
            if (before == null) {
                return attach(id, tgid, State.GUARDED_PROVISIONALLY, current);
            }
            return true; // decided for real once its workload is known, at a later exec
        }
        boolean blockable = blockable(current, workload.get());
        if (blockable && (before == null || before.state() == State.NOT_BLOCKABLE)) {
            return attach(id, tgid, State.GUARDED, current);
        } else if (blockable) {
            decisions.put(id, new Decision(State.GUARDED, before.root(), current));
        } else if (before != null && before.state() != State.NOT_BLOCKABLE) {
            release(id, before, current);
        } else {
            remember(id, new Decision(State.NOT_BLOCKABLE, null, current));
        }
        return true;
    }

    /**
     * Attaches through the container's longest-lived process, else through {@code pid} (the exec's, or the scan's
     * anchor).
     */
    private boolean attach(ContainerId id, int pid, State state, CompiledPolicy under) {
        Set<Integer> through = new LinkedHashSet<>();
        live.anchorOf(id).ifPresent(through::add);
        through.add(pid);
        String lastFailure = "no live process";
        for (int candidate : through) {
            Path root = Path.of("/proc", Integer.toString(candidate), "root");
            try {
                guard.guard(root);
                remember(id, new Decision(state, root, under));
                log.info("container {} is {}: its execs are now guarded (through pid {})", id,
                        state == State.GUARDED ? "under a block rule" : "not known yet and the policy blocks", candidate);
                return true;
            } catch (IOException | RuntimeException e) {
                lastFailure = "pid " + candidate + ": " + e.getMessage();
            }
        }
        attachFailures.increment();
        long now = System.nanoTime();
        Long warned = lastWarned.get(id);
        if (warned == null || now - warned >= WARN_EVERY_NANOS) {
            if (lastWarned.size() >= MAX_REMEMBERED) {
                lastWarned.clear();
            }
            lastWarned.put(id, now);
            log.warn("cannot guard container {} ({}): its execs are not blocked until a later try succeeds", id,
                    lastFailure);
        } else {
            log.debug("cannot guard container {} ({})", id, lastFailure);
        }
        return false;
    }

    private void release(ContainerId id, Decision guarded, CompiledPolicy under) {
        guard.unguard(guarded.root());
        remember(id, new Decision(State.NOT_BLOCKABLE, null, under));
        log.info("container {} is not under a block rule: its execs are no longer guarded", id);
    }

    private void remember(ContainerId id, Decision decision) {
        if (decisions.size() >= MAX_REMEMBERED && !decisions.containsKey(id)) {
            // forget the containers found not blockable (they are decided again at their next exec) and the guarded
            // ones whose process root is gone (stopped containers: the kernel dropped their marks with their
            // filesystems); keep the others, whose roots are needed to release them
            decisions.values().removeIf(d -> d.state() == State.NOT_BLOCKABLE);
            decisions.values().removeIf(d -> {
                if (Files.exists(d.root(), LinkOption.NOFOLLOW_LINKS)) {
                    return false;
                }
                guard.unguard(d.root());
                return true;
            });
        }
        decisions.put(id, decision);
    }

    /** Whether the policy blocks some drift kind in this workload (wherever the file is). */
    private boolean blockable(CompiledPolicy current, WorkloadMetadata workload) {
        for (DriftKind kind : DRIFT) {
            Classification probe = new Classification(kind, "/", null, null, null, null);
            if (current.evaluate(facts.facts(workload, probe)).decision() == Verdict.Decision.BLOCK) {
                return true;
            }
        }
        return false;
    }
}
