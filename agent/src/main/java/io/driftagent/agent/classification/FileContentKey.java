package io.driftagent.agent.classification;

import io.driftagent.agent.fs.FileFacts;

/** Identifies one version of a file's content: same (dev, ino, mtime, size), same bytes, hashed once. */
record FileContentKey(long dev, long ino, long mtimeNs, long size) {
    static FileContentKey of(FileFacts facts) {
        return new FileContentKey(facts.dev(), facts.ino(), facts.mtimeNs(), facts.size());
    }
}
