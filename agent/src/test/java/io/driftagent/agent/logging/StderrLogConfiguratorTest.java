package io.driftagent.agent.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class StderrLogConfiguratorTest {

    @Test
    void logbackFindsTheConfiguratorAsAService() {
        // when: logback looks for configurators the way it does at start
        var found = ServiceLoader.load(Configurator.class).stream()
                .map(provider -> provider.type().getName()).collect(Collectors.toList());

        // then
        assertThat(found).contains(StderrLogConfigurator.class.getName());
    }

    @Test
    void withoutAConfigurationOfOnesOwnTheRootLoggerWritesInfoToStderrAndLogbackReadsNoXml() {
        // given
        LoggerContext context = new LoggerContext();

        // when
        Configurator.ExecutionStatus status = new StderrLogConfigurator(() -> false).configure(context);

        // then: the chain stops here (Joran, the XML configurator, is never instantiated)
        assertThat(status).isEqualTo(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.INFO);
        Appender<ILoggingEvent> appender = root.getAppender("STDERR");
        assertThat(appender).isInstanceOf(ConsoleAppender.class);
        ConsoleAppender<ILoggingEvent> console = (ConsoleAppender<ILoggingEvent>) appender;
        assertThat(console.getTarget()).isEqualTo("System.err");
        assertThat(console.isStarted()).isTrue();
        assertThat(((LayoutWrappingEncoder<ILoggingEvent>) console.getEncoder()).getLayout())
                .isInstanceOf(AgentLogLayout.class);
    }

    @Test
    void aConfigurationOfOnesOwnIsLeftToLogback() {
        // given: -Dlogback.configurationFile or a logback-test.xml
        LoggerContext context = new LoggerContext();

        // when
        Configurator.ExecutionStatus status = new StderrLogConfigurator(() -> true).configure(context);

        // then
        assertThat(status).isEqualTo(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY);
        assertThat(context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();
    }

    @Test
    void aLineHasTheTimeWithItsOffsetTheLevelTheThreadTheAbbreviatedLoggerAndTheMessage() {
        // given
        LoggerContext context = new LoggerContext();
        AgentLogLayout layout = new AgentLogLayout(ZoneOffset.UTC);
        layout.setContext(context);
        layout.start();
        Logger logger = context.getLogger("io.driftagent.agent.capture.ContainerAppearanceWatcher");
        LoggingEvent event = new LoggingEvent("fqcn", logger, Level.INFO, "capturing {} from {}", null,
                new Object[] {"containers", "/proc/1/mountinfo"});
        event.setTimeStamp(1_767_323_045_678L);
        event.setThreadName("main");

        // when
        String line = layout.doLayout(event);

        // then: as logback's %d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{36} - %msg%n
        assertThat(line).isEqualTo("2026-01-02T03:04:05.678Z INFO  [main] i.d.a.c.ContainerAppearanceWatcher"
                + " - capturing containers from /proc/1/mountinfo" + System.lineSeparator());
    }

    @Test
    void aLineInAnotherZoneCarriesThatOffsetAndAThrowableFollowsWithItsStackTrace() {
        // given
        LoggerContext context = new LoggerContext();
        AgentLogLayout layout = new AgentLogLayout(ZoneId.of("Europe/Berlin"));
        layout.setContext(context);
        layout.start();
        Logger logger = context.getLogger("short.Name");
        LoggingEvent event = new LoggingEvent("fqcn", logger, Level.WARN, "failed", new IllegalStateException(
                "boom", new java.io.IOException("cause")), null);
        event.setTimeStamp(1_767_323_045_678L);
        event.setThreadName("drift-http");

        // when
        String[] lines = layout.doLayout(event).split(System.lineSeparator());

        // then
        assertThat(lines[0]).isEqualTo("2026-01-02T04:04:05.678+01:00 WARN  [drift-http] short.Name - failed");
        assertThat(lines[1]).isEqualTo("java.lang.IllegalStateException: boom");
        assertThat(lines[2]).startsWith("\tat io.driftagent.agent.logging.StderrLogConfiguratorTest.");
        assertThat(String.join("\n", lines)).contains("Caused by: java.io.IOException: cause");
        assertThat(new String(layout.doLayout(event).getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
                .endsWith(System.lineSeparator());
    }
}
