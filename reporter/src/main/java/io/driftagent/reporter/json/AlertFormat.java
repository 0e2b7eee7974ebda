package io.driftagent.reporter.json;

import java.util.Locale;

/** The JSON shape an alert is written in, on stdout / the alerts file and on the webhook (docs/alerts.md). */
public enum AlertFormat {
    /** drift-agent's own alert object (the public contract, {@code schemaVersion} 1). */
    DRIFT,
    /** Falco's JSON output (rule, priority, output, output_fields, time, source, tags, hostname): falcosidekick's input. */
    FALCO;

    public AlertEncoder newEncoder() {
        return this == FALCO ? new FalcoJson() : new AlertJson();
    }

    /** The name used in configuration: {@code drift}, {@code falco}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
