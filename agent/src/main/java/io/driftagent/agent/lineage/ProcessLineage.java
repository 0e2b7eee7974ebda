package io.driftagent.agent.lineage;

import io.driftagent.agent.source.ExecEvent.ProcessKey;
import io.driftagent.reporter.alert.Alert;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * Where an exec'd process came from, as far as it is known: what the alert's {@code process.ancestors},
 * {@code session}, {@code cwd}, {@code euid}, {@code loginUid}, {@code auditSessionId} and {@code parent.exe} say.
 * Unknown parts are null (an empty list for the ancestors), never guessed.
 *
 * @param ancestors      nearest first, at most {@link Alert.Process#MAX_ANCESTORS}; an ancestor whose image is unknown
 *                       has a null exe and an empty command line
 * @param leader         the session's leader, null when the process has no session (host pid namespace) or it is
 *                       unknown
 * @param cwd            the working directory in the process's root
 * @param parentExe      the parent's executable, null when unknown
 * @param euid           effective uid
 * @param loginUid       audit login uid, null when unset or unknown
 * @param auditSessionId audit session id, null when unset or unknown
 */
public record ProcessLineage(List<Alert.Ancestor> ancestors, SessionLeader leader, String cwd, String parentExe,
                             Integer euid, Integer loginUid, Long auditSessionId) {

    public static final ProcessLineage UNKNOWN = new ProcessLineage(List.of(), null, null, null, null, null, null);

    public ProcessLineage {
        ancestors = ancestors == null ? List.of() : List.copyOf(ancestors);
        if (ancestors.size() > Alert.Process.MAX_ANCESTORS) {
            ancestors = ancestors.subList(0, Alert.Process.MAX_ANCESTORS);
        }
    }

    /**
     * The topmost process of the exec'd process's chain in its pid namespace: the container's init ({@code init}, pid
     * 1 there) or a process whose parent is outside the container ({@code exec}: runc exec, {@code ctr task exec},
     * {@code kubectl exec}).
     */
    public record SessionLeader(Alert.SessionKind kind, ProcessKey process) {
        public SessionLeader {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(process, "process");
        }
    }

    /**
     * The alert's session: its id is the same for every process under one leader of one container (the leader's
     * tgid and start time name it across pid reuse), and differs between sessions.
     */
    public Alert.Session session(String containerId) {
        if (leader == null) {
            return null;
        }
        return new Alert.Session(leader.kind(), sessionId(containerId, leader.process()));
    }

    /** 16 hex digits of SHA-256 over container id, leader tgid and start time. */
    static String sessionId(String containerId, ProcessKey leader) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] digest = sha.digest((containerId + "/" + leader.tgid() + "/" + leader.startTimeNs())
                    .getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException("SHA-256 is in every JDK", impossible);
        }
    }

    /** A uid as the alert carries it: null when unknown (negative) or beyond an int. */
    static Integer uid(long id) {
        return id < 0 || id > Integer.MAX_VALUE ? null : (int) id;
    }
}
