package io.driftagent.agent.lineage;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.Lineage;
import io.driftagent.agent.source.ExecEvent.ProcessKey;
import io.driftagent.reporter.alert.Alert;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Tells an exec'd process's {@link ProcessLineage}.
 *
 * <ul>
 *   <li>With the kernel's lineage facts (the eBPF source): the ancestors and the session leader are the kernel's, taken
 *       at exec time; each ancestor is named by the {@link ProcessTree} (the image it had at that exec, even when it
 *       exited or exec'd something else since), else,
 *       for one the tree never saw (started before the agent, or forked without exec'ing), by {@code /proc} while
 *       it lives and is the same process (its start time), else with its pid only. The parent's exe the same way.</li>
 *   <li>Without them (the fanotify source): best effort from {@code /proc} while the process lives, walking
 *       {@code PPid} in {@code /proc/<pid>/status} up while the parent is in the process's pid namespace (the
 *       {@code ns/pid} link); a process that is gone (or whose pid was reused) gives {@link ProcessLineage#UNKNOWN}.</li>
 * </ul>
 * Reads {@code /proc}: call it where such reads are bounded in time (the pipeline's time-limited inspector).
 */
public final class LineageReader {

    /** How far the /proc walk goes up looking for the namespace's boundary (the kernel's walk: 64). */
    static final int MAX_WALK = 64;

    private final ProcessTree tree;
    private final ProcProcesses proc;

    LineageReader(ProcessTree tree, ProcProcesses proc) {
        this.tree = Objects.requireNonNull(tree, "tree");
        this.proc = Objects.requireNonNull(proc, "proc");
    }

    /** Reads {@code procRoot}, command lines up to 4 KiB and 64 arguments, as the process snapshot does. */
    public LineageReader(ProcessTree tree, Path procRoot) {
        this(tree, new ProcProcesses(procRoot, 4096, 64));
    }

    /** Every exec passes here, in the source's order: the tree learns its image. */
    public void observe(ExecEvent event) {
        tree.record(event);
    }

    public ProcessLineage read(ExecEvent event) {
        Lineage kernel = event.kernel().lineage();
        return kernel.known() ? fromKernel(event, kernel) : fromProc(event);
    }

    private ProcessLineage fromKernel(ExecEvent event, Lineage kernel) {
        ExecEvent.KernelFacts facts = event.kernel();
        String parentExe = null;
        if (event.ppid() > 0) {
            ProcessTree.Image parent = tree.imageAt(new ProcessKey(event.ppid(), kernel.parentStartTimeNs()),
                    event.timestampNs());
            parentExe = parent != null ? parent.exe() : null;
        }
        if (kernel.hostPidNamespace()) {
            // the program does not walk the host's pid namespace (no session there): a hostPID container's
            // ancestors and cwd are /proc's, while the process lives
            ProcessLineage live = fromProc(event);
            return new ProcessLineage(live.ancestors(), null, live.cwd(),
                    parentExe != null ? parentExe : live.parentExe(), ProcessLineage.uid(facts.euid()),
                    ProcessLineage.uid(facts.loginUid()), facts.sessionId() < 0 ? null : facts.sessionId());
        }
        List<Alert.Ancestor> ancestors = new ArrayList<>(kernel.ancestors().size());
        for (ProcessKey key : kernel.ancestors()) {
            ancestors.add(ancestor(key, event.timestampNs()));
        }
        ProcessLineage.SessionLeader leader = kernel.leader() == null ? null : new ProcessLineage.SessionLeader(
                kernel.leaderNsPid() == 1 ? Alert.SessionKind.init : Alert.SessionKind.exec, kernel.leader());
        return new ProcessLineage(ancestors, leader, kernel.cwdTruncated() ? null : kernel.cwd(), parentExe,
                ProcessLineage.uid(facts.euid()), ProcessLineage.uid(facts.loginUid()),
                facts.sessionId() < 0 ? null : facts.sessionId());
    }

    /** As it was when the exec at {@code execTimeNs} happened. */
    private Alert.Ancestor ancestor(ProcessKey key, long execTimeNs) {
        ProcessTree.Image image = tree.imageAt(key, execTimeNs);
        if (image != null) {
            return new Alert.Ancestor(key.tgid(), image.exe(), image.argv());
        }
        if (proc.isSameProcess(key.tgid(), key.startTimeNs())) {
            return new Alert.Ancestor(key.tgid(), proc.exe(key.tgid()), proc.cmdline(key.tgid()));
        }
        return new Alert.Ancestor(key.tgid(), null, List.of());
    }

    private ProcessLineage fromProc(ExecEvent event) {
        int pid = event.tgid();
        ProcProcesses.Status self = proc.status(pid);
        if (self == null || event.startTimeNs() > 0 && !proc.isSameProcess(pid, event.startTimeNs())) {
            return ProcessLineage.UNKNOWN;
        }
        String namespace = proc.pidNamespace(pid);
        boolean host = self.level() == 0;
        List<Alert.Ancestor> ancestors = new ArrayList<>();
        int current = pid;
        ProcProcesses.Status currentStatus = self;
        boolean boundary = false;
        for (int i = 0; i < MAX_WALK; i++) {
            int parent = currentStatus.ppid();
            if (parent <= 0) {
                boundary = true;
                break;
            }
            ProcProcesses.Status parentStatus = proc.status(parent);
            if (parentStatus == null) {
                break; // exited during the walk: where the chain ends is unknown
            }
            if (!host && (namespace == null || !namespace.equals(proc.pidNamespace(parent)))) {
                boundary = true;
                break;
            }
            if (ancestors.size() < Alert.Process.MAX_ANCESTORS) {
                ancestors.add(new Alert.Ancestor(parent, proc.exe(parent), proc.cmdline(parent)));
            } else if (host) {
                break;
            }
            current = parent;
            currentStatus = parentStatus;
        }
        ProcessLineage.SessionLeader leader = null;
        long leaderStart = boundary && !host ? proc.startTimeNs(current) : -1;
        if (leaderStart >= 0) {
            leader = new ProcessLineage.SessionLeader(currentStatus.innermostPid() == 1
                    ? Alert.SessionKind.init : Alert.SessionKind.exec, new ProcessKey(current, leaderStart));
        }
        String parentExe = self.ppid() > 0 ? proc.exe(self.ppid()) : null;
        return new ProcessLineage(ancestors, leader, proc.cwd(pid), parentExe, ProcessLineage.uid(self.euid()),
                ProcessLineage.uid(proc.auditId(pid, "loginuid")), nonNegative(proc.auditId(pid, "sessionid")));
    }

    private static Long nonNegative(long id) {
        return id < 0 ? null : id;
    }
}
