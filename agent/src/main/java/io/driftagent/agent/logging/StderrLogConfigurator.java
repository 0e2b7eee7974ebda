package io.driftagent.agent.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.time.ZoneId;
import java.util.function.BooleanSupplier;

/**
 * The agent's logging set-up, made in code: the application log on stderr (stdout carries alert JSON lines when the
 * alert target is "-"), INFO and above, one line per event. logback finds it through {@code META-INF/services} before
 * its XML configurators, so a start does not load logback's XML configuration machinery and the JDK's SAX parser
 * (about 500 classes and 140 lambdas: memory of every start, docs/benchmarks.md "Footprint"); the line is laid out
 * by {@link AgentLogLayout}.
 *
 * <p>A configuration of one's own still wins: with {@code -Dlogback.configurationFile=...}, or a
 * {@code logback-test.xml} on the class path (the tests), this configurator steps aside and logback reads that file.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class StderrLogConfigurator extends ContextAwareBase implements Configurator {

    static final String CONFIGURATION_FILE_PROPERTY = "logback.configurationFile";
    static final String TEST_CONFIGURATION = "logback-test.xml";

    private final BooleanSupplier ownConfigurationGiven;

    /** The configurator logback instantiates (through {@code META-INF/services}). */
    public StderrLogConfigurator() {
        this(() -> System.getProperty(CONFIGURATION_FILE_PROPERTY) != null
                || StderrLogConfigurator.class.getClassLoader().getResource(TEST_CONFIGURATION) != null);
    }

    StderrLogConfigurator(BooleanSupplier ownConfigurationGiven) {
        this.ownConfigurationGiven = ownConfigurationGiven;
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (ownConfigurationGiven.getAsBoolean()) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        AgentLogLayout layout = new AgentLogLayout(ZoneId.systemDefault());
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();

        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();

        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(stderr);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
