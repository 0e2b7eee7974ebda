package io.driftagent.agent.source.fanotify;

/** How a watched path was marked: its whole filesystem (superblock), or only the mount it is on. */
public enum MarkKind { FILESYSTEM, MOUNT }
