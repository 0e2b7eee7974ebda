package io.driftagent.reporter.alert;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MitreAttackTest {

    private static List<String> ids(String kind, String path) {
        return MitreAttack.techniquesFor(SampleAlerts.of("c1", path, kind)).stream().map(MitreTechnique::id).toList();
    }

    @Test
    void eachDriftKindMapsToTheTechniquesItIsEvidenceOf() {
        assertThat(ids("ADDED", "/tmp/miner")).containsExactly("T1105");
        assertThat(ids("MODIFIED", "/usr/bin/curl")).containsExactly("T1105", "T1036.005");
        assertThat(ids("MOUNT", "/data/tool")).containsExactly("T1105", "T1080");
        assertThat(ids("FILELESS", "memfd:payload")).containsExactly("T1620");
        assertThat(ids("FILELESS", "/memfd:payload (deleted)")).containsExactly("T1620");
        assertThat(ids("FILELESS", "/tmp/dropper (deleted)")).containsExactly("T1620", "T1070.004");
    }

    @Test
    void aLibraryDriftAddsDynamicLinkerHijackingLastToWhatItsKindShows() {
        List<String> added = MitreAttack.techniquesFor(SampleAlerts.library("/tmp/evil.so", "ADDED")).stream()
                .map(MitreTechnique::id).toList();
        List<String> memfd = MitreAttack.techniquesFor(SampleAlerts.library("memfd:lib", "FILELESS")).stream()
                .map(MitreTechnique::id).toList();
        List<String> unresolved = MitreAttack.techniquesFor(SampleAlerts.library("/tmp/x.so", "UNRESOLVED")).stream()
                .map(MitreTechnique::id).toList();
        assertThat(added).containsExactly("T1105", "T1574.006");
        assertThat(memfd).containsExactly("T1620", "T1574.006");
        assertThat(unresolved).containsExactly("T1574.006");
        assertThat(MitreAttack.DYNAMIC_LINKER_HIJACKING.name()).isEqualTo("Hijack Execution Flow: Dynamic Linker Hijacking");
    }

    @Test
    void unresolvedOrUnknownKindsClaimNoTechnique() {
        assertThat(ids("UNRESOLVED", "/tmp/x")).isEmpty();
        assertThat(ids("SOMETHING_NEW", "/tmp/x")).isEmpty();
    }

    @Test
    void techniquesCarryTheirTacticAndFalcosTacticTag() {
        assertThat(MitreAttack.INGRESS_TOOL_TRANSFER.tactic()).isEqualTo("command-and-control");
        assertThat(MitreAttack.INGRESS_TOOL_TRANSFER.falcoTacticTag()).isEqualTo("mitre_command_and_control");
        assertThat(MitreAttack.REFLECTIVE_CODE_LOADING.falcoTacticTag()).isEqualTo("mitre_defense_evasion");
    }
}
