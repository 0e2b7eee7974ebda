package io.driftagent.agent.config;

/** What the blocking guard answers when the pipeline cannot decide in time. */
public enum TimeoutAction { ALLOW, DENY }
