package io.driftagent.agent.source.fanotify;

import io.driftagent.agent.host.DeviceNumber;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/** The filesystem and creation time ({@code statx} {@code stx_btime}) of a layer directory, the last link not followed. */
final class LayerDirBirths implements OverlayLayers.DirBirths {

    private final Native nat;
    private final ByteBuffer statx = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());

    LayerDirBirths(Native nat) {
        this.nat = nat;
    }

    @Override
    public synchronized OverlayLayers.DirBirth of(Path dir) {
        statx.clear();
        if (nat.libc.statx(Native.AT_FDCWD, dir.toString(), Native.AT_SYMLINK_NOFOLLOW,
                Native.STATX_BASIC_STATS | Native.STATX_BTIME, statx) != 0) {
            return null;
        }
        long birth = Native.birthNanos(statx);
        if (birth == ExecutedFile.UNKNOWN) {
            return null;
        }
        long dev = DeviceNumber.makedev(Integer.toUnsignedLong(statx.getInt(136)), Integer.toUnsignedLong(statx.getInt(140)));
        return new OverlayLayers.DirBirth(dev, birth);
    }
}
