package io.driftagent.agent.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ImageExecKeepingTest {

    /** A program that records what it is told, and can refuse the keep switch. */
    private static final class FakeKernel implements ImageExecKeeping.Kernel {
        final List<String> told = new ArrayList<>();
        boolean refuse;
        long kept;

        @Override
        public boolean rootOverlay(long cgroupId, long device) {
            told.add("root " + cgroupId + "=" + device);
            return true;
        }

        @Override
        public boolean keep(boolean on) {
            told.add("keep " + on + (refuse ? " refused" : ""));
            return !refuse;
        }

        @Override
        public long kept() {
            return kept;
        }
    }

    @Test
    void nothingIsKeptUntilThePipelineSaysItNeedNotSeeEveryExec() {
        ImageExecKeeping keeping = new ImageExecKeeping();
        FakeKernel kernel = new FakeKernel();
        keeping.attach(kernel);
        assertThat(keeping.keeping()).isFalse();
        assertThat(kernel.told).isEmpty();

        AtomicBoolean everyExec = new AtomicBoolean(false);
        keeping.everyExecWantedWhen(everyExec::get);
        assertThat(keeping.keeping()).isTrue();

        everyExec.set(true);
        keeping.refresh();
        keeping.refresh();
        assertThat(keeping.keeping()).isFalse();
        assertThat(kernel.told).containsExactly("keep true", "keep false");
    }

    @Test
    void aRefusedSwitchIsTriedAgainAtTheNextRefresh() {
        ImageExecKeeping keeping = new ImageExecKeeping();
        FakeKernel kernel = new FakeKernel();
        kernel.refuse = true;
        keeping.attach(kernel);
        keeping.everyExecWantedWhen(() -> false);
        assertThat(keeping.keeping()).isFalse();

        kernel.refuse = false;
        keeping.refresh();
        assertThat(keeping.keeping()).isTrue();
        assertThat(kernel.told).containsExactly("keep true refused", "keep true");
    }

    @Test
    void withoutAKernelRootsAreDroppedAndNothingIsKept() {
        ImageExecKeeping keeping = new ImageExecKeeping();
        keeping.everyExecWantedWhen(() -> false);
        keeping.rootOverlay(1, 64);
        assertThat(keeping.keeping()).isFalse();
        assertThat(keeping.kept()).isZero();
    }

    @Test
    void rootsGoToTheKernelAndTheCountSurvivesTheSourcesStop() {
        ImageExecKeeping keeping = new ImageExecKeeping();
        FakeKernel kernel = new FakeKernel();
        keeping.attach(kernel);
        keeping.rootOverlay(4242, 64);
        kernel.kept = 7;
        assertThat(keeping.kept()).isEqualTo(7);

        keeping.detach();
        assertThat(keeping.kept()).isEqualTo(7);
        keeping.rootOverlay(4243, 65);
        assertThat(kernel.told).containsExactly("root 4242=64");
    }
}
