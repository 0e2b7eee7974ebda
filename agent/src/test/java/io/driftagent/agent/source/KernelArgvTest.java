package io.driftagent.agent.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KernelArgvTest {

    @Test
    void argumentsAreSplitOnNulAndBytesAfterTheLastNulAreACutLastArgument() {
        // given two complete arguments and one the kernel's bound cut
        KernelArgv argv = argv("sh\0-c\0echo aa", 64);

        // then
        assertThat(argv).containsExactly("sh", "-c", "echo aa");
        assertThat(argv.total()).isEqualTo(3);
        assertThat(argv.byteLength()).isEqualTo(13);
    }

    @Test
    void theBoundKeepsTheFirstArgumentsAndTheTotalTellsThatSomeWereLeftOut() {
        KernelArgv argv = argv("a\0b\0c\0", 2);

        assertThat(argv).containsExactly("a", "b");
        assertThat(argv.total()).isEqualTo(3);
        assertThat(argv(String.join("\0", "a", "b") + "\0", 2).total()).as("exactly the bound").isEqualTo(2);
    }

    @Test
    void emptyBytesAreNoArgumentsAndALoneNulIsOneEmptyArgument() {
        assertThat(argv("", 64)).isEmpty();
        assertThat(argv("", 64).total()).isZero();
        assertThat(argv("\0", 64)).containsExactly("");
    }

    @Test
    void bytesThatAreNotUtf8AreShownAsTheReplacementCharacter() {
        // given 0xE9 (Latin-1 é), an overlong NUL encoding (0xC0 0x80) and a UTF-8 "é" cut after its first byte
        byte[] bytes = {'l', (byte) 0xE9, 0, (byte) 0xC0, (byte) 0x80, 0, 'c', 'a', 'f', (byte) 0xC3};

        KernelArgv argv = KernelArgv.of(ByteBuffer.wrap(bytes), 0, bytes.length, 64);

        assertThat(argv).containsExactly("l\uFFFD", "\uFFFD\uFFFD", "caf\uFFFD");
        assertThat(String.join("", argv)).as("no lone surrogate reaches a sink").doesNotContain("\uDCE9", "\uDCC3");
    }

    @Test
    void onlyTheGivenRangeOfTheRecordIsRead() {
        byte[] record = "XXa\0b\0YY".getBytes(StandardCharsets.UTF_8);

        assertThat(KernelArgv.of(ByteBuffer.wrap(record), 2, 4, 64)).containsExactly("a", "b");
    }

    @Test
    void aProcCmdlineReadIsSplitAsARecordsArgvFromItsOwnCopyOfTheBytesRead() {
        // given a read of /proc/<pid>/cmdline into a larger buffer: an empty argument, the last one cut by the bound
        byte[] buffer = new byte[64];
        java.util.Arrays.fill(buffer, (byte) 'X');
        byte[] read = "curl\0-o\0\0/tmp/x\0--ur".getBytes(StandardCharsets.UTF_8);
        System.arraycopy(read, 0, buffer, 0, read.length);

        // when
        KernelArgv argv = KernelArgv.of(buffer, read.length, 64);
        buffer[0] = 'C';

        // then only the bytes read count, and the buffer may be reused
        assertThat(argv).containsExactly("curl", "-o", "", "/tmp/x", "--ur");
        assertThat(KernelArgv.of(buffer, 0, 64)).isEmpty();
        assertThat(KernelArgv.of(read, read.length, 2)).containsExactly("curl", "-o");
    }

    private static KernelArgv argv(String nulSeparated, int maxArgs) {
        byte[] bytes = nulSeparated.getBytes(StandardCharsets.UTF_8);
        return KernelArgv.of(ByteBuffer.wrap(bytes), 0, bytes.length, maxArgs);
    }
}
