package io.driftagent.systest.kubelet;

import java.nio.file.Path;
import java.util.Map;

/** What kubelet does on the node for one volume before the container starts. */
public sealed interface VolumeAction {

    /** A hostPath volume's {@code type} check (and creation for the *OrCreate types). */
    record HostPath(String volume, Path path, String type) implements VolumeAction {
    }

    /** An emptyDir on the node's disk: a fresh directory under the pod's directory. */
    record EmptyDirectory(String volume, Path path) implements VolumeAction {
    }

    /**
     * A ConfigMap, Secret, projected or downwardAPI volume: files written with kubelet's atomic writer (a
     * {@code ..<timestamp>} directory, {@code ..data} pointing at it, one symlink per file through {@code ..data}).
     */
    record AtomicFiles(String volume, Path path, Map<String, byte[]> files, int mode) implements VolumeAction {
        public AtomicFiles {
            files = Map.copyOf(files);
        }
    }

    /** The file kubelet mounts at the container's terminationMessagePath. */
    record TerminationLog(Path path) implements VolumeAction {
    }
}
