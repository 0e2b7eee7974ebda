package io.driftagent.agent.lineage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.driftagent.agent.source.ExecEvent.ProcessKey;
import org.junit.jupiter.api.Test;

class RecentExecsTest {

    @Test
    void keysWhoseTgidsShareASlotAreEachFoundUntilRemoved() {
        // given three processes whose tgids fall in one slot (4096 apart), one of them a reused pid
        RecentExecs<String> recent = new RecentExecs<>(8);
        recent.putNew(new ProcessKey(5, 1L), "a");
        recent.putNew(new ProcessKey(4101, 2L), "b");
        recent.putNew(new ProcessKey(5, 3L), "c");

        // when one is removed
        assertThat(recent.remove(new ProcessKey(4101, 2L))).isEqualTo("b");

        // then the others are still found, the removed one and a never-put one are not
        assertThat(recent.get(new ProcessKey(5, 1L))).isEqualTo("a");
        assertThat(recent.get(new ProcessKey(5, 3L))).isEqualTo("c");
        assertThat(recent.get(new ProcessKey(4101, 2L))).isNull();
        assertThat(recent.remove(new ProcessKey(4101, 2L))).isNull();
        assertThat(recent.get(new ProcessKey(5, 2L))).isNull();
        assertThat(recent.size()).isEqualTo(2);
    }

    @Test
    void theExecPutLongestAgoGoesFirstAndIsThenNotFound() {
        // given a bound of 2
        RecentExecs<String> recent = new RecentExecs<>(2);
        recent.putNew(new ProcessKey(7, 1L), "oldest");
        recent.putNew(new ProcessKey(4103, 1L), "middle");

        // when a third comes (same slot as the oldest)
        recent.putNew(new ProcessKey(8199, 1L), "newest");

        // then the oldest is gone and its slot still finds the other two
        assertThat(recent.size()).isEqualTo(2);
        assertThat(recent.get(new ProcessKey(7, 1L))).isNull();
        assertThat(recent.remove(new ProcessKey(4103, 1L))).isEqualTo("middle");
        assertThat(recent.remove(new ProcessKey(8199, 1L))).isEqualTo("newest");
        assertThat(recent.isEmpty()).isTrue();
        // and a slot emptied by removals answers "not here" without the map: put again, found again
        recent.putNew(new ProcessKey(7, 1L), "again");
        assertThat(recent.get(new ProcessKey(7, 1L))).isEqualTo("again");
    }

    @Test
    void aKeyPutTwiceIsRefusedAndABoundBelowOneIsRefused() {
        RecentExecs<String> recent = new RecentExecs<>(4);
        recent.putNew(new ProcessKey(1, 1L), "x");
        assertThatThrownBy(() -> recent.putNew(new ProcessKey(1, 1L), "y")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new RecentExecs<String>(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
