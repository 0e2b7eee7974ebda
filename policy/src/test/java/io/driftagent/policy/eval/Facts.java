package io.driftagent.policy.eval;

import io.driftagent.policy.model.DriftKind;
import java.util.HashMap;
import java.util.Map;

/** A test builder for {@link DriftFacts}: a fully known exec in azure, overridable field by field. */
public final class Facts {
    private String provider = "azure";
    private String account = "sub-1";
    private String cluster = "prod-cluster";
    private String namespace = "shop";
    private String pod = "web-7d9f";
    private Map<String, String> labels = new HashMap<>(Map.of("app", "web", "tier", "frontend"));
    private String container = "nginx";
    private String image = "registry.example.com/team/nginx:1.25";
    private DriftKind kind = DriftKind.ADDED;
    private String path = "/tmp/evil";
    private String sha256 = "a".repeat(64);
    private io.driftagent.policy.model.Trigger trigger = io.driftagent.policy.model.Trigger.EXEC;

    public static Facts exec() {
        return new Facts();
    }

    public Facts cloud(String provider, String account) {
        this.provider = provider;
        this.account = account;
        return this;
    }

    public Facts cluster(String cluster) {
        this.cluster = cluster;
        return this;
    }

    public Facts namespace(String namespace) {
        this.namespace = namespace;
        return this;
    }

    public Facts pod(String pod) {
        this.pod = pod;
        return this;
    }

    public Facts labels(Map<String, String> labels) {
        this.labels = labels == null ? null : new HashMap<>(labels);
        return this;
    }

    public Facts container(String container) {
        this.container = container;
        return this;
    }

    public Facts image(String image) {
        this.image = image;
        return this;
    }

    public Facts kind(DriftKind kind) {
        this.kind = kind;
        return this;
    }

    public Facts path(String path) {
        this.path = path;
        return this;
    }

    public Facts sha256(String sha256) {
        this.sha256 = sha256;
        return this;
    }

    public Facts trigger(io.driftagent.policy.model.Trigger trigger) {
        this.trigger = trigger;
        return this;
    }

    public DriftFacts build() {
        return new DriftFacts(provider, account, cluster, namespace, pod, labels, container, image, kind, path, sha256,
                trigger);
    }
}
