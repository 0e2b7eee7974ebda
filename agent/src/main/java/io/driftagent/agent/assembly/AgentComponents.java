package io.driftagent.agent.assembly;

import io.driftagent.agent.http.AgentHttpServer;
import io.driftagent.agent.http.Readiness;
import io.driftagent.agent.pipeline.DriftPipeline;
import io.driftagent.agent.source.ExecSource;
import java.util.List;
import java.util.Objects;

/**
 * Everything the runtime starts, already built.
 *
 * @param http      the endpoints (started first, so liveness answers during start-up)
 * @param readiness where the runtime registers its "source" check; the assembly registers the others
 * @param services  started in this order after HTTP, stopped in reverse after the pipeline drained
 * @param pipeline  started after the services
 * @param source    started last, into the pipeline's sink; stopped first
 */
public record AgentComponents(AgentHttpServer http, Readiness readiness, List<ManagedService> services,
                              DriftPipeline pipeline, ExecSource source) {
    public AgentComponents {
        Objects.requireNonNull(http, "http");
        Objects.requireNonNull(readiness, "readiness");
        services = List.copyOf(services);
        Objects.requireNonNull(pipeline, "pipeline");
        Objects.requireNonNull(source, "source");
    }
}
