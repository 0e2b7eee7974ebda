package io.driftagent.agent.fs;

/**
 * stat(2) facts of one file, read without following a symlink.
 *
 * @param type     file type
 * @param mode     permission bits (07777)
 * @param size     size in bytes
 * @param dev      st_dev (makedev encoding)
 * @param ino      st_ino
 * @param mtimeNs  modification time, ns since the epoch (set freely by its owner: utimensat(2), {@code touch -d})
 * @param ctimeNs  status change time, ns since the epoch: the kernel sets it to the current time on every change of
 *                 the content or the inode, and no system call sets it to a chosen value
 * @param nlink    link count
 */
public record FileFacts(Type type, int mode, long size, long dev, long ino, long mtimeNs, long ctimeNs, long nlink) {
    public enum Type { REGULAR, DIRECTORY, SYMLINK, CHAR_DEVICE, BLOCK_DEVICE, FIFO, SOCKET, UNKNOWN }
}
