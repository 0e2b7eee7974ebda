package io.driftagent.agent.cli;

import java.io.PrintStream;
import java.util.Arrays;

/** Entry point of {@code drift-agent.jar}: dispatches to the sub-commands. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command; returns the process exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("help")) {
            usage(out);
            return args.length == 0 ? 2 : 0;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0]) {
            case "run":
                return RunCommand.forThisProcess().run(rest, out, err);
            case "demo":
                return DemoCommand.run(rest, out, err);
            case "policy":
                return new PolicyCommand().run(rest, out, err);
            default:
                err.println("drift-agent: unknown command '" + args[0] + "'");
                usage(err);
                return 2;
        }
    }

    private static void usage(PrintStream out) {
        out.println("usage: java -jar drift-agent.jar <command> [options]");
        out.println("commands:");
        out.println("  run [--standalone] [--policy FILE] [--alerts -|FILE] [--source auto|ebpf|fanotify]");
        out.println("      [--http-port N] [--config FILE]           run the agent (see run --help)");
        out.println("  demo [--source auto|ebpf|fanotify]         the agent on a sandbox container: an image exec, a dropped binary");
        out.println("  policy validate FILE...                    check drift-policy files");
        out.println("  policy explain --policy FILE --event FILE  explain the verdict for one event");
        out.println("  policy suggest --alerts FILE [--policy FILE] suggest a narrow policy from an alert log");
        out.println("  policy replay --policy FILE --alerts FILE  what-if: a policy's verdicts on an alert log");
    }
}
