package io.driftagent.agent.metadata.containerd;

import io.driftagent.agent.attribution.ContainerId;
import java.io.IOException;
import java.util.Optional;

/** Reads containerd's record of a container. Slow (a process or RPC per call): never call it on the hot path. */
public interface ContainerdRecords {
    Optional<ContainerdRecord> read(String namespace, ContainerId id) throws IOException, InterruptedException;
}
