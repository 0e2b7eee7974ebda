package io.driftagent.agent.storm;

import io.driftagent.agent.provenance.WriteOrigins;
import io.driftagent.agent.source.ExecEvent;
import io.driftagent.agent.source.ExecEventSink;
import io.driftagent.agent.source.ImageExecKeeping;
import io.driftagent.agent.source.SourceUnavailableException;
import io.driftagent.agent.source.ebpf.EbpfExecSource;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The observer as the agent runs it by default ({@link ObserverWithLineage}), with the agent's image-exec keeping: the
 * first exec the kernel flags as an image-layer file in a cgroup teaches that cgroup's root overlay, as the pipeline's
 * first IMAGE classification of a container does (pipeline.KnownImageExecs), and from then on the kernel keeps the
 * storm's leaf execs. What reaches the reader is what a pipeline would still be handed.
 */
final class ObserverKeepingImageExecs extends DelegatingSource {
    private final ImageExecKeeping keeping;
    private final Set<Long> taught = ConcurrentHashMap.newKeySet();

    private ObserverKeepingImageExecs(ImageExecKeeping keeping) {
        super(new ObserverWithLineage(new EbpfExecSource(EbpfExecSource.Config.defaults(), WriteOrigins.withDefaults(),
                keeping)));
        this.keeping = keeping;
    }

    static ObserverKeepingImageExecs create() {
        return new ObserverKeepingImageExecs(new ImageExecKeeping());
    }

    @Override
    public void start(ExecEventSink sink) throws SourceUnavailableException {
        keeping.everyExecWantedWhen(() -> false);
        source.start(new ExecEventSink() {
            @Override
            public boolean offer(ExecEvent event) {
                ExecEvent.Flags f = event.flags();
                if (f.overlay() && !f.upperLayer() && !f.memfd() && !f.unlinked() && event.cgroupId() != 0
                        && taught.add(event.cgroupId())) {
                    keeping.rootOverlay(event.cgroupId(), event.file().dev());
                }
                return sink.offer(event);
            }

            @Override
            public void observe(ExecEvent event) {
                sink.observe(event);
            }
        });
    }

    /** Image execs kept in the kernel and never delivered, since start. */
    long kept() {
        return keeping.kept();
    }
}
