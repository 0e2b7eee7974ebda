package io.driftagent.agent.provenance;

import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEvent.FileId;

/** Who wrote a drifted file: asked when its alert is assembled. */
@FunctionalInterface
public interface OriginLookup {

    /**
     * @param event the exec that ran the file
     * @param file  the drifted file (the exec'd file, or the script of an interpreted exec)
     */
    WriteOrigin originOf(ExecEvent event, FileId file);

    /** No write tracking: the fanotify source's reason for its events, "unavailable" for the others. */
    OriginLookup NONE = (event, file) -> WriteOrigin.unknown(event.source() == ExecEvent.SourceKind.FANOTIFY
            ? OriginUnknown.FANOTIFY : OriginUnknown.UNAVAILABLE);
}
