package io.driftagent.agent.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The standalone scenarios again with the fanotify exec source (what {@code auto} falls back to where eBPF cannot be
 * loaded): containers that were running when the agent started are classified and alerted as with eBPF.
 */
class StandaloneFanotifyEndToEndTest extends StandaloneModeEndToEndTest {

    @Override
    String source() {
        return "fanotify";
    }

    @Test
    void theSelfTestPassesAndTheAgentBecomesReady() throws Exception {
        RunningAgent.Response ready = agent().awaitReady(Duration.ofSeconds(30));

        assertThat(ready.status()).as(ready.body()).isEqualTo(200);
    }
}
