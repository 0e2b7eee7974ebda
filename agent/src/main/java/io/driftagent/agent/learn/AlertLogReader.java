package io.driftagent.agent.learn;

import io.driftagent.policy.eval.DriftFacts;
import io.driftagent.policy.learn.RecordedAlert;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads an alert log: JSON lines as the agent writes them (docs/alerts.md). Each line is read on its own; a line that
 * is not an alert (not JSON, a fragment left by a full disk, a wrong type, no {@code drift.kind}/{@code drift.path}/
 * {@code action}, longer than {@link #MAX_LINE_BYTES}) is skipped and reported with its line number, never fatal.
 * Fields the reader does not use are ignored, so additive fields of the alert schema do not break it.
 */
public final class AlertLogReader {
    /** Longer lines are skipped: an alert line is bounded well below this (docs/alerts.md, "Hostile strings"). */
    public static final int MAX_LINE_BYTES = 4 * 1024 * 1024;

    private final JsonMapper mapper = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    public AlertLog read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in);
        }
    }

    public AlertLog read(InputStream input) throws IOException {
        List<RecordedAlert> alerts = new ArrayList<>();
        List<AlertLog.Malformed> malformed = new ArrayList<>();
        InputStream in = new BufferedInputStream(input, 64 * 1024);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        long number = 0;
        boolean tooLong = false;
        boolean more = true;
        while (more) {
            int b = in.read();
            if (b == -1) {
                more = false;
                if (line.size() == 0 && !tooLong) {
                    break;
                }
            } else if (b != '\n') {
                if (line.size() < MAX_LINE_BYTES) {
                    line.write(b);
                } else {
                    tooLong = true;
                }
                continue;
            }
            number++;
            if (tooLong) {
                malformed.add(new AlertLog.Malformed(number, "longer than " + MAX_LINE_BYTES + " bytes"));
            } else {
                byte[] bytes = line.toByteArray();
                if (!isBlank(bytes)) {
                    try {
                        alerts.add(parse(number, bytes));
                    } catch (NotAnAlert e) {
                        malformed.add(new AlertLog.Malformed(number, e.getMessage()));
                    }
                }
            }
            line.reset();
            tooLong = false;
        }
        return new AlertLog(alerts, malformed);
    }

    private static boolean isBlank(byte[] bytes) {
        for (byte b : bytes) {
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    RecordedAlert parse(long number, byte[] json) throws NotAnAlert {
        JsonNode root;
        try {
            root = mapper.readTree(json);
        } catch (JacksonException e) {
            throw new NotAnAlert("not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new NotAnAlert("not a JSON object");
        }
        try {
            DriftFacts facts = AlertFacts.read(root);
            String action = AlertFacts.required(root, "action");
            if (!action.equals("alert") && !action.equals("block")) {
                throw new NotAnAlert("action '" + action + "' is neither alert nor block");
            }
            JsonNode rule = AlertFacts.object(root, "rule");
            return new RecordedAlert(number, AlertFacts.string(root, "id"), time(root), action,
                    "BinaryDriftBlocked".equals(AlertFacts.string(root, "alertType")),
                    AlertFacts.string(rule, "rule.name"), count(root), facts);
        } catch (AlertFacts.BadField e) {
            throw new NotAnAlert(e.getMessage());
        }
    }

    private static Instant time(JsonNode root) throws NotAnAlert, AlertFacts.BadField {
        String text = AlertFacts.string(root, "time");
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new NotAnAlert("time '" + text + "' is not an RFC 3339 UTC time");
        }
    }

    private static int count(JsonNode root) throws NotAnAlert {
        JsonNode count = root.get("count");
        if (count == null || count.isNull()) {
            return 1;
        }
        if (!count.isIntegralNumber() || !count.canConvertToInt() || count.intValue() < 1) {
            throw new NotAnAlert("count must be a positive integer");
        }
        return count.intValue();
    }

    /** A line that is not an alert; the message says why. */
    static final class NotAnAlert extends Exception {
        NotAnAlert(String message) {
            super(message, null, false, false);
        }
    }
}
