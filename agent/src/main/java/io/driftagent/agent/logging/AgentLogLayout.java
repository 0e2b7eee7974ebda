package io.driftagent.agent.logging;

import ch.qos.logback.classic.pattern.Abbreviator;
import ch.qos.logback.classic.pattern.TargetLengthBasedClassNameAbbreviator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Objects;

/**
 * One log line, laid out in code: {@code 2026-01-02T03:04:05.678Z INFO  [thread] i.d.agent.pkg.Class - message}, then
 * the stack trace of a throwable, if any. The same line as logback's pattern
 * {@code %d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{36} - %msg%n}, without loading logback's pattern
 * parser and its converter registry (about 150 classes and lambdas at every start).
 */
public final class AgentLogLayout extends LayoutBase<ILoggingEvent> {

    /** The longest logger name printed; longer names have their package segments abbreviated, as logback's {36}. */
    public static final int LOGGER_NAME_LENGTH = 36;

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    private static final int LEVEL_WIDTH = 5;

    private final ZoneId zone;
    private final Abbreviator abbreviator = new TargetLengthBasedClassNameAbbreviator(LOGGER_NAME_LENGTH);

    /** @param zone the time zone of the timestamps (logback's pattern uses the JVM's default zone) */
    public AgentLogLayout(ZoneId zone) {
        this.zone = Objects.requireNonNull(zone, "zone");
    }

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(160);
        TIME.formatTo(Instant.ofEpochMilli(event.getTimeStamp()).atZone(zone), line);
        line.append(' ');
        String level = event.getLevel().toString();
        line.append(level);
        for (int i = level.length(); i < LEVEL_WIDTH; i++) {
            line.append(' ');
        }
        line.append(" [").append(event.getThreadName()).append("] ")
                .append(abbreviator.abbreviate(event.getLoggerName()))
                .append(" - ").append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            line.append(ThrowableProxyUtil.asString(thrown));
        }
        return line.toString();
    }
}
