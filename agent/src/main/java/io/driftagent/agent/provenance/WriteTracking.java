package io.driftagent.agent.provenance;

import io.driftagent.agent.source.ExecEvent;
import java.nio.ByteBuffer;

/**
 * What the eBPF source tells write tracking: whether its kernel side runs, the write records it reads from the exec
 * ring, and every exec (a writer that exec'd another program is named by its latest image). The record calls come
 * from the source's one reader thread.
 */
public interface WriteTracking {

    /** Whether the source should load and attach the write programs. */
    boolean wanted();

    /** The write programs are attached: writes are recorded from now on. */
    void started();

    /** The write programs could not be loaded or attached: {@code why} is logged by the source. */
    void unavailable(String why);

    /** One write record ({@link WriteRecordLayout}): {@code length} bytes at {@code offset}, valid during the call. */
    void onWriteRecord(ByteBuffer raw, int offset, int length);

    /** An exec the source read (after its write records, in ring order). */
    void onExec(ExecEvent event);

    /** No write tracking: the source attaches no write program. */
    WriteTracking NONE = new WriteTracking() {
        @Override
        public boolean wanted() {
            return false;
        }

        @Override
        public void started() {
        }

        @Override
        public void unavailable(String why) {
        }

        @Override
        public void onWriteRecord(ByteBuffer raw, int offset, int length) {
        }

        @Override
        public void onExec(ExecEvent event) {
        }
    };
}
