package io.driftagent.agent.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.reporter.alert.Alert;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BlockEscapeResponderTest {

    private final List<Alert> published = new ArrayList<>();
    private final AtomicInteger forgotten = new AtomicInteger();
    private final BlockEscapeResponder responder = new BlockEscapeResponder(a -> published.add(a),
            forgotten::incrementAndGet);

    private static Alert alert(Alert.AlertType type, String action) {
        return new Alert(Alert.SCHEMA_VERSION, "id-1", java.time.Instant.EPOCH, type, Alert.Severity.medium, action,
                new Alert.Drift("ADDED", "/tmp/x", null, null, null, null), new Alert.Process(7, 1, 0, null, java.util.List.of(), null),
                null, null, "node", null, null, null);
    }

    @Test
    void blockableDriftThatRanMakesTheGuardForgetAndTheAlertGoesOn() {
        Alert ran = alert(Alert.AlertType.BinaryDrift, "block");

        assertThat(responder.publish(ran)).isTrue();

        assertThat(forgotten).hasValue(1);
        assertThat(responder.escapes()).isEqualTo(1);
        assertThat(published).containsExactly(ran);
    }

    @Test
    void deniedDriftAndAlertOnlyDriftChangeNothing() {
        responder.publish(alert(Alert.AlertType.BinaryDriftBlocked, "block"));
        responder.publish(alert(Alert.AlertType.BinaryDrift, "alert"));

        assertThat(forgotten).hasValue(0);
        assertThat(published).hasSize(2);
    }
}
