package io.driftagent.reporter.alert;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One MITRE ATT&CK (Enterprise) technique an alert is evidence of.
 *
 * @param id     technique or sub-technique id, e.g. {@code T1105}, {@code T1036.005}
 * @param name   the technique's ATT&CK name
 * @param tactic the ATT&CK short name of the tactic it serves, e.g. {@code command-and-control}
 */
public record MitreTechnique(String id, String name, String tactic) {

    private static final Pattern ID = Pattern.compile("T\\d{4}(\\.\\d{3})?");
    private static final Pattern TACTIC = Pattern.compile("[a-z]+(-[a-z]+)*");

    public MitreTechnique {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(tactic, "tactic");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("not an ATT&CK technique id: " + id);
        }
        if (!TACTIC.matcher(tactic).matches()) {
            throw new IllegalArgumentException("not an ATT&CK tactic short name: " + tactic);
        }
    }

    /** The tactic as Falco's rules tag it: {@code mitre_command_and_control}. */
    public String falcoTacticTag() {
        return "mitre_" + tactic.replace('-', '_');
    }
}
