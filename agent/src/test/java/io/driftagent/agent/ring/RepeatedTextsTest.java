package io.driftagent.agent.ring;

import static org.assertj.core.api.Assertions.assertThat;

import io.driftagent.agent.fs.PathBytes;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RepeatedTextsTest {
    private final AtomicInteger decoded = new AtomicInteger();
    private final RepeatedTexts texts = new RepeatedTexts((b, at, len) -> {
        decoded.incrementAndGet();
        return PathBytes.decode(b, at, len);
    });

    @Test
    void theSameBytesAnywhereInARecordGiveTheStringDecodedTheFirstTime() {
        // given a name decoded once
        byte[] record = "xx/bin/sh\0yyy/bin/sh".getBytes(StandardCharsets.ISO_8859_1);
        String first = texts.text(record, 2, 7);

        // when the same bytes come again, elsewhere in a record
        String again = texts.text(record, 13, 7);

        // then it is the same string, decoded once
        assertThat(first).isEqualTo("/bin/sh");
        assertThat(again).isSameAs(first);
        assertThat(decoded).hasValue(1);
    }

    @Test
    void twoTextsOfOneSlotEachGiveTheirOwnString() {
        // given two names that fall in the same slot
        String a = "/usr/bin/a0";
        String b = null;
        for (int i = 1; b == null; i++) {
            String candidate = "/usr/bin/a" + i;
            if (slotOf(candidate) == slotOf(a)) {
                b = candidate;
            }
        }

        // when they alternate
        // then each is its own text every time
        for (int round = 0; round < 3; round++) {
            assertThat(texts.text(bytes(a), 0, a.length())).isEqualTo(a);
            assertThat(texts.text(bytes(b), 0, b.length())).isEqualTo(b);
        }
    }

    @Test
    void aTextLongerThanTheBoundIsDecodedEveryTimeAndANameThatIsNotUtf8KeepsItsBytes() {
        String longName = "/" + "d".repeat(RepeatedTexts.MAX_LENGTH);
        texts.text(bytes(longName), 0, longName.length());
        texts.text(bytes(longName), 0, longName.length());
        assertThat(decoded).hasValue(2);

        byte[] notUtf8 = {'/', 't', 'm', 'p', '/', (byte) 0xff, 'x'};
        String name = texts.text(notUtf8, 0, notUtf8.length);
        assertThat(texts.text(notUtf8, 0, notUtf8.length)).isSameAs(name);
        assertThat(PathBytes.encode(name)).containsExactly(notUtf8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static int slotOf(String s) {
        return RepeatedTexts.slot(bytes(s), 0, s.length());
    }
}
