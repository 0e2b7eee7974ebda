package io.driftagent.agent.e2e;

import io.driftagent.agent.fixture.tier.TestTiers;
import org.junit.jupiter.api.Tag;

/** The same drops under the fanotify source, which sees no writes: every alert's origin carries its documented reason. */
@Tag(TestTiers.E2E)
class FanotifyWriteOriginEndToEndTest extends WriteOriginEndToEndTest {

    @Override
    String source() {
        return "fanotify";
    }

    @Override
    boolean tracksWrites() {
        return false;
    }
}
