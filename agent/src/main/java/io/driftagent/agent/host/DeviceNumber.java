package io.driftagent.agent.host;

/**
 * Device numbers as stat(2), statx's {@code stx_dev_major}/{@code stx_dev_minor} joined, and {@code /proc/<pid>/mountinfo}'s
 * {@code major:minor} field are compared throughout the agent: glibc's {@code makedev} encoding (the kernel's
 * {@code new_encode_dev}), where the low 12 bits of the major sit at bits 8..19 and the rest of it above bit 32.
 */
public final class DeviceNumber {

    private DeviceNumber() {
    }

    /** {@code makedev(major, minor)}; both are unsigned 32-bit values. */
    public static long makedev(long major, long minor) {
        return ((major & 0xfffL) << 8) | ((major & 0xfffff000L) << 32)
                | (minor & 0xffL) | ((minor & 0xffffff00L) << 12);
    }

    /** The major number of a {@link #makedev} encoded device. */
    public static long major(long dev) {
        return ((dev >>> 8) & 0xfffL) | ((dev >>> 32) & 0xfffff000L);
    }

    /** The minor number of a {@link #makedev} encoded device. */
    public static long minor(long dev) {
        return (dev & 0xffL) | ((dev >>> 12) & 0xffffff00L);
    }

    /** {@code major:minor}, as mountinfo and {@code ls -l} show it. */
    public static String format(long dev) {
        return major(dev) + ":" + minor(dev);
    }
}
