package io.driftagent.agent.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DeviceNumberTest {

    @Test
    void smallNumbersEncodeAsTheClassicMajorTimes256PlusMinor() {
        assertThat(DeviceNumber.makedev(0, 39)).isEqualTo(39L);
        assertThat(DeviceNumber.makedev(8, 1)).isEqualTo(0x801L);
        assertThat(DeviceNumber.makedev(254, 0)).isEqualTo(0xfe00L);
    }

    @Test
    void aMinorAbove255MovesItsHighBitsAboveTheMajor() {
        assertThat(DeviceNumber.makedev(0, 300)).isEqualTo((300L & 0xff) | ((300L & ~0xffL) << 12));
        assertThat(DeviceNumber.makedev(259, 300)).isEqualTo((300L & 0xff) | (259L << 8) | ((300L & ~0xffL) << 12));
    }

    @Test
    void aMajorAbove4095KeepsOnlyItsLow12BitsNextToTheMinorAndItsHighBitsAbove32() {
        // given a major number that does not fit in 12 bits (dynamic majors go up to 4095 today, the encoding to 2^32)
        long major = 0x1234;

        // when it is encoded
        long dev = DeviceNumber.makedev(major, 5);

        // then bits 8..19 hold only its low 12 bits (an unmasked major would spill into the minor's high bits)
        assertThat((dev >>> 8) & 0xfff).isEqualTo(0x234L);
        assertThat((dev >>> 20) & 0xfff).as("the minor's high bits are untouched").isZero();
        assertThat(dev).isEqualTo((0x234L << 8) | (0x1000L << 32) | 5);
        assertThat(DeviceNumber.major(dev)).isEqualTo(major);
        assertThat(DeviceNumber.minor(dev)).isEqualTo(5L);
    }

    @Test
    void majorAndMinorUndoMakedevOverTheWholeUnsigned32BitRange() {
        long[] values = {0, 1, 0xff, 0x100, 0xfff, 0x1000, 0xfffff, 0x100000, 0xffffffffL};
        for (long major : values) {
            for (long minor : values) {
                long dev = DeviceNumber.makedev(major, minor);
                assertThat(DeviceNumber.major(dev)).as("major of %x:%x", major, minor).isEqualTo(major);
                assertThat(DeviceNumber.minor(dev)).as("minor of %x:%x", major, minor).isEqualTo(minor);
            }
        }
    }

    @Test
    void theRootMountsMountinfoDeviceEncodesToWhatStatReportsForTheRootDirectory() throws IOException {
        // given this host's mountinfo line for / and stat(2)'s st_dev of /
        String root = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(l -> l.split(" ")[4].equals("/")).reduce((a, b) -> b).orElseThrow();
        String[] majorMinor = root.split(" ")[2].split(":");
        long statDev = ((Number) Files.getAttribute(Path.of("/"), "unix:dev")).longValue();

        // then makedev of the mountinfo numbers is that st_dev
        assertThat(DeviceNumber.makedev(Long.parseLong(majorMinor[0]), Long.parseLong(majorMinor[1]))).isEqualTo(statDev);
        assertThat(DeviceNumber.format(statDev)).isEqualTo(majorMinor[0] + ":" + majorMinor[1]);
    }
}
