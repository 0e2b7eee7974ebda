package io.driftagent.agent.cli;

import io.driftagent.agent.assembly.AgentAssembly;
import io.driftagent.agent.assembly.AgentComponents;
import io.driftagent.agent.assembly.AgentRuntime;
import io.driftagent.agent.assembly.AssemblyException;
import io.driftagent.agent.config.AgentConfig;
import io.driftagent.agent.config.ConfigException;
import io.driftagent.agent.config.ConfigLoader;
import io.driftagent.agent.config.LogLevel;
import io.driftagent.agent.config.Setting;
import java.io.PrintStream;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.LoggerFactory;

/**
 * {@code run [--standalone] [--policy FILE] [--alerts -|FILE] [--source auto|ebpf|fanotify] [--http-bind ADDRESS]
 * [--http-port N] [--config FILE]}: loads the configuration, assembles the components and runs them until the process is told to
 * stop (SIGTERM/SIGINT run the shutdown hook, which drains and stops everything). Exit codes: 0 after a clean stop,
 * 1 when the agent cannot start, 2 for a usage or configuration error.
 */
public final class RunCommand {

    /** Builds the components from the configuration: {@link AgentAssembly#assemble} in production. */
    @FunctionalInterface
    interface Assembler {
        AgentComponents assemble(AgentConfig config) throws Exception;
    }

    private static final Map<String, Setting> VALUE_FLAGS = Map.of(
            "--policy", Setting.POLICY_FILE,
            "--alerts", Setting.ALERTS_TARGET,
            "--source", Setting.SOURCE,
            "--http-bind", Setting.HTTP_BIND,
            "--http-port", Setting.HTTP_PORT);

    private final Map<String, String> env;
    private final ConfigLoader loader;
    private final Assembler assembler;
    private final Consumer<Thread> shutdownHooks;

    RunCommand(Map<String, String> env, ConfigLoader loader, Assembler assembler, Consumer<Thread> shutdownHooks) {
        this.env = Map.copyOf(env);
        this.loader = loader;
        this.assembler = assembler;
        this.shutdownHooks = shutdownHooks;
    }

    /** The command as the real process runs it: its environment, the real assembly, JVM shutdown hooks. */
    public static RunCommand forThisProcess() {
        AgentAssembly assembly = new AgentAssembly(Clock.systemUTC());
        return new RunCommand(System.getenv(), new ConfigLoader(HostName::read), assembly::assemble,
                Runtime.getRuntime()::addShutdownHook);
    }

    public int run(String[] args, PrintStream out, PrintStream err) {
        Arguments arguments;
        try {
            arguments = Arguments.parse(args);
        } catch (UsageException e) {
            err.println("drift-agent run: " + e.getMessage());
            usage(err);
            return 2;
        }
        if (arguments.help) {
            usage(out);
            return 0;
        }
        AgentConfig config;
        try {
            Optional<Path> configFile = arguments.configFile != null ? Optional.of(arguments.configFile)
                    : Optional.ofNullable(env.get(Setting.CONFIG_FILE_ENV)).filter(s -> !s.isBlank()).map(Path::of);
            config = loader.load(configFile, env, arguments.flags);
        } catch (ConfigException | InvalidPathException e) {
            err.println("drift-agent run: " + e.getMessage());
            return 2;
        }
        applyLogLevel(config.logLevel());
        AgentRuntime runtime;
        try {
            runtime = new AgentRuntime(assembler.assemble(config), config.shutdownTimeout());
        } catch (AssemblyException e) {
            err.println("drift-agent run: cannot start: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println("drift-agent run: cannot start: " + e);
            return 1;
        }
        shutdownHooks.accept(new Thread(runtime::stop, "drift-shutdown"));
        try {
            runtime.start();
        } catch (Exception e) {
            err.println("drift-agent run: cannot start: " + e.getMessage());
            return 1;
        }
        try {
            runtime.awaitStop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            runtime.stop();
        }
        return 0;
    }

    static void usage(PrintStream out) {
        out.println("usage: java -jar drift-agent.jar run [--standalone] [--policy FILE] [--alerts -|FILE]");
        out.println("                                     [--source auto|ebpf|fanotify] [--http-bind ADDRESS] [--http-port N]");
        out.println("                                     [--config FILE]");
        out.println("  --standalone    no Kubernetes: workload metadata from containerd / Docker");
        out.println("  --policy FILE   drift policy (hot-reloaded)");
        out.println("  --alerts -|FILE where alert JSON lines go (- = stdout)");
        out.println("  --source S      exec source (default auto: eBPF, else fanotify)");
        out.println("  --http-bind A   IP address /healthz, /readyz, /metrics listen on (default 0.0.0.0)");
        out.println("  --http-port N   port of /healthz, /readyz, /metrics (0 = any free port)");
        out.println("  --config FILE   YAML configuration (also DRIFT_CONFIG); see docs/configuration.md");
    }

    private static void applyLogLevel(LogLevel level) {
        org.slf4j.Logger root = LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (root instanceof ch.qos.logback.classic.Logger) {
            ((ch.qos.logback.classic.Logger) root).setLevel(ch.qos.logback.classic.Level.toLevel(level.name()));
        }
    }

    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** The parsed command line: flags as setting text (validated by the configuration loader), the config file. */
    static final class Arguments {
        final Map<Setting, String> flags = new EnumMap<>(Setting.class);
        Path configFile;
        boolean help;

        static Arguments parse(String[] args) throws UsageException {
            Arguments parsed = new Arguments();
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                String name = arg;
                String value = null;
                int equals = arg.indexOf('=');
                if (arg.startsWith("--") && equals > 0) {
                    name = arg.substring(0, equals);
                    value = arg.substring(equals + 1);
                }
                if (name.equals("--help") || name.equals("-h")) {
                    parsed.help = true;
                } else if (name.equals("--standalone")) {
                    if (value != null) {
                        throw new UsageException("--standalone takes no value");
                    }
                    parsed.put(Setting.STANDALONE, "true", name);
                } else if (name.equals("--config") || VALUE_FLAGS.containsKey(name)) {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new UsageException(name + " needs a value");
                        }
                        value = args[++i];
                    }
                    if (name.equals("--config")) {
                        if (parsed.configFile != null) {
                            throw new UsageException("--config given twice");
                        }
                        try {
                            parsed.configFile = Path.of(value);
                        } catch (InvalidPathException e) {
                            throw new UsageException("--config: not a valid path: " + value);
                        }
                    } else {
                        parsed.put(VALUE_FLAGS.get(name), value, name);
                    }
                } else if (arg.startsWith("-")) {
                    throw new UsageException("unknown option " + name);
                } else {
                    throw new UsageException("unexpected argument '" + arg + "'");
                }
            }
            return parsed;
        }

        private void put(Setting setting, String value, String flag) throws UsageException {
            if (flags.putIfAbsent(setting, value) != null) {
                throw new UsageException(flag + " given twice");
            }
        }
    }
}
