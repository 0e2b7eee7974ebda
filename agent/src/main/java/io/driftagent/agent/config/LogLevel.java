package io.driftagent.agent.config;

/** The application log's threshold (alerts never go through the application log). */
public enum LogLevel { TRACE, DEBUG, INFO, WARN, ERROR }
