package io.driftagent.agent.classification;

import io.driftagent.agent.fs.FileFacts;

/**
 * Identifies one version of a file's content: same (dev, ino, size, mtime, ctime), same bytes, hashed once. The
 * mtime alone would not do: a file's owner sets it at will ({@code touch -d}), so a rewrite of the same size with the
 * old mtime restored would keep the digest of the bytes before (a copy-up hashed as the image's file, then rewritten,
 * would stay IMAGE). The ctime changes with every write and every change of the inode, the restoring of the mtime
 * included, and cannot be set back.
 */
record FileContentKey(long dev, long ino, long size, long mtimeNs, long ctimeNs) {
    static FileContentKey of(FileFacts facts) {
        return new FileContentKey(facts.dev(), facts.ino(), facts.size(), facts.mtimeNs(), facts.ctimeNs());
    }
}
