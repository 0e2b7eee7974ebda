package io.driftagent.agent.config;

/** Which exec source to use: {@code auto} tries eBPF, then fanotify. */
public enum SourceChoice { AUTO, EBPF, FANOTIFY }
