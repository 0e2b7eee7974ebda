package io.driftagent.agent.fs;

/**
 * stat(2) facts of one file, read without following a symlink.
 *
 * @param type     file type
 * @param mode     permission bits (07777)
 * @param size     size in bytes
 * @param dev      st_dev (makedev encoding)
 * @param ino      st_ino
 * @param mtimeNs  modification time, ns since the epoch
 * @param nlink    link count
 */
public record FileFacts(Type type, int mode, long size, long dev, long ino, long mtimeNs, long nlink) {
    public enum Type { REGULAR, DIRECTORY, SYMLINK, CHAR_DEVICE, BLOCK_DEVICE, FIFO, SOCKET, UNKNOWN }
}
