package io.driftagent.reporter.alert;

import java.util.List;

/**
 * Which MITRE ATT&CK techniques a drift alert is evidence of, from its drift kind (the table in docs/alerts.md,
 * "MITRE ATT&CK"). The mapping names what the observed fact shows, not what an attacker may do next:
 * <ul>
 *   <li>ADDED: a binary that came into the container after it started: Ingress Tool Transfer (T1105).</li>
 *   <li>MODIFIED: the same, and it replaced an image binary at the image's own path: Masquerading: Match Legitimate
 *       Name or Location (T1036.005).</li>
 *   <li>MOUNT: a binary executed from a volume (emptyDir, hostPath, PVC): brought in from outside the image
 *       (T1105), and through storage other workloads or the host share: Taint Shared Content (T1080).</li>
 *   <li>FILELESS: code run from memory (memfd) or from a deleted file: Reflective Code Loading (T1620); a deleted
 *       file, not a memfd, also removed its own trace: Indicator Removal: File Deletion (T1070.004).</li>
 *   <li>UNRESOLVED and any other kind: none (nothing was established).</li>
 * </ul>
 * A {@code LibraryDrift} alert (a drifted file loaded as a shared library: LD_PRELOAD, dlopen) adds Hijack Execution
 * Flow: Dynamic Linker Hijacking (T1574.006) last, also when its kind establishes nothing else.
 * A blocked exec is tagged like the one it stopped: the tags describe the attempt. Stateless.
 */
public final class MitreAttack {

    public static final MitreTechnique INGRESS_TOOL_TRANSFER =
            new MitreTechnique("T1105", "Ingress Tool Transfer", "command-and-control");
    public static final MitreTechnique MASQUERADING_LEGITIMATE_LOCATION =
            new MitreTechnique("T1036.005", "Masquerading: Match Legitimate Name or Location", "defense-evasion");
    public static final MitreTechnique TAINT_SHARED_CONTENT =
            new MitreTechnique("T1080", "Taint Shared Content", "lateral-movement");
    public static final MitreTechnique REFLECTIVE_CODE_LOADING =
            new MitreTechnique("T1620", "Reflective Code Loading", "defense-evasion");
    public static final MitreTechnique FILE_DELETION =
            new MitreTechnique("T1070.004", "Indicator Removal: File Deletion", "defense-evasion");

    public static final MitreTechnique DYNAMIC_LINKER_HIJACKING =
            new MitreTechnique("T1574.006", "Hijack Execution Flow: Dynamic Linker Hijacking", "defense-evasion");

    private static final List<MitreTechnique> ADDED = List.of(INGRESS_TOOL_TRANSFER);
    private static final List<MitreTechnique> MODIFIED = List.of(INGRESS_TOOL_TRANSFER, MASQUERADING_LEGITIMATE_LOCATION);
    private static final List<MitreTechnique> MOUNT = List.of(INGRESS_TOOL_TRANSFER, TAINT_SHARED_CONTENT);
    private static final List<MitreTechnique> MEMFD = List.of(REFLECTIVE_CODE_LOADING);
    private static final List<MitreTechnique> DELETED = List.of(REFLECTIVE_CODE_LOADING, FILE_DELETION);

    private MitreAttack() {
    }

    /** The techniques of {@code alert}, most specific last; empty when the drift establishes none. */
    public static List<MitreTechnique> techniquesFor(Alert alert) {
        List<MitreTechnique> byKind = byKind(alert.drift());
        if (alert.alertType() != Alert.AlertType.LibraryDrift) {
            return byKind;
        }
        List<MitreTechnique> all = new java.util.ArrayList<>(byKind.size() + 1);
        all.addAll(byKind);
        all.add(DYNAMIC_LINKER_HIJACKING);
        return List.copyOf(all);
    }

    private static List<MitreTechnique> byKind(Alert.Drift drift) {
        switch (drift.kind()) {
            case "ADDED":
                return ADDED;
            case "MODIFIED":
                return MODIFIED;
            case "MOUNT":
                return MOUNT;
            case "FILELESS":
                return isMemfd(drift.path()) ? MEMFD : DELETED;
            default:
                return List.of();
        }
    }

    /** The kernel names a memfd's file {@code memfd:<name>} (shown as {@code /memfd:<name>} through /proc). */
    private static boolean isMemfd(String path) {
        return path.startsWith("memfd:") || path.startsWith("/memfd:");
    }
}
