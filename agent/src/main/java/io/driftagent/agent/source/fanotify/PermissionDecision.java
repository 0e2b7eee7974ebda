package io.driftagent.agent.source.fanotify;

/** The answer to one FAN_OPEN_EXEC_PERM event. */
public enum PermissionDecision { ALLOW, DENY }
