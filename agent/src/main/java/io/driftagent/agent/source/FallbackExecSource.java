package io.driftagent.agent.source;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Source selection {@code auto}: starts the first candidate that attaches (eBPF, then fanotify), logging why each
 * earlier one could not; fails with every reason when none attaches.
 */
public final class FallbackExecSource implements ExecSource {

    private static final Logger log = LoggerFactory.getLogger(FallbackExecSource.class);

    /** A source to try, by name. */
    public record Candidate(String name, Supplier<ExecSource> factory) {
        public Candidate {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(factory, "factory");
        }
    }

    private final List<Candidate> candidates;
    private final ExecEvent.SourceKind preferredKind;
    private final Consumer<ExecSource> onAttached;
    private volatile ExecSource active;

    public FallbackExecSource(List<Candidate> candidates, ExecEvent.SourceKind preferredKind) {
        this(candidates, preferredKind, attached -> { });
    }

    /** @param onAttached told the candidate that attached, once, right after it did (e.g. to register its meters) */
    public FallbackExecSource(List<Candidate> candidates, ExecEvent.SourceKind preferredKind,
                              Consumer<ExecSource> onAttached) {
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("no source candidates");
        }
        this.candidates = List.copyOf(candidates);
        this.preferredKind = Objects.requireNonNull(preferredKind, "preferredKind");
        this.onAttached = Objects.requireNonNull(onAttached, "onAttached");
    }

    @Override
    public void start(ExecEventSink sink) throws SourceUnavailableException {
        List<String> reasons = new ArrayList<>();
        for (Candidate candidate : candidates) {
            ExecSource source = candidate.factory().get();
            try {
                source.start(sink);
                active = source;
                if (!reasons.isEmpty()) {
                    log.warn("exec source {} attached after: {}", candidate.name(), String.join("; ", reasons));
                } else {
                    log.info("exec source {} attached", candidate.name());
                }
                onAttached.accept(source);
                return;
            } catch (SourceUnavailableException e) {
                reasons.add(candidate.name() + " unavailable: " + e.getMessage());
                source.close();
            }
        }
        throw new SourceUnavailableException("no exec source could attach: " + String.join("; ", reasons));
    }

    /** The source that attached, or null before a successful start. */
    public ExecSource active() {
        return active;
    }

    @Override
    public SourceStats stats() {
        ExecSource source = active;
        return source == null ? new SourceStats(0, Map.of()) : source.stats();
    }

    @Override
    public ExecEvent.SourceKind kind() {
        ExecSource source = active;
        return source == null ? preferredKind : source.kind();
    }

    @Override
    public void close() {
        ExecSource source = active;
        if (source != null) {
            source.close();
        }
    }
}
