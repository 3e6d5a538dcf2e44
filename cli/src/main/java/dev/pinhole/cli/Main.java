package dev.pinhole.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** Entry point of the {@code pinhole} command. */
@Command(name = "pinhole", mixinStandardHelpOptions = true, version = "pinhole 0.1.0-SNAPSHOT",
        description = "A direct, reliable byte stream between two programs behind NATs, over UDP.",
        subcommands = {DemoCommand.class, RendezvousCommand.class, NatTypeCommand.class, SendCommand.class,
            ReceiveCommand.class, ChatCommand.class, IdCommand.class})
public final class Main implements Callable<Integer> {
    private static volatile boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command line and returns its exit code; never throws. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        configureLogging(args);
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        for (CommandLine sub : cl.getSubcommands().values()) {
            sub.getCommandSpec().usageMessage().footer(ExitCodes.FOOTER);
        }
        cl.getCommandSpec().usageMessage().footer(ExitCodes.FOOTER);
        cl.setParameterExceptionHandler((ex, a) -> {
            String command = ex.getCommandLine().getCommandName();
            String message = Failures.oneLine(String.valueOf(ex.getMessage()));
            // --json promises JSON on stdout for every outcome, a command line it could not parse included.
            if (ex.getCommandLine().getCommand() instanceof JsonOutput && java.util.Arrays.asList(a).contains("--json")) {
                out.println(Json.object().put("ok", false).put("exit_code", ExitCodes.USAGE).put("error", message));
                out.flush();
            }
            err.println("pinhole: " + message + " (see: pinhole "
                    + ("pinhole".equals(command) ? "" : command + " ") + "--help)");
            return ExitCodes.USAGE;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Object command = cmd.getCommand();
            if (command instanceof JsonOutput j && j.json()) {
                CliException failure = Failures.toCli("running " + cmd.getCommandName(), ex);
                out.println(Json.object().put("ok", false).put("exit_code", failure.exitCode())
                        .put("error", Failures.oneLine(failure.getMessage())));
                out.flush();
            }
            if (ex instanceof CliException cli) {
                err.println("pinhole: " + Failures.oneLine(cli.getMessage()));
                if (verbose && cli.getCause() != null) {
                    cli.getCause().printStackTrace(err);
                }
                return cli.exitCode();
            }
            err.println("pinhole: internal error: " + Failures.oneLine(String.valueOf(ex)) + (verbose ? "" : " (run with -v for details)"));
            if (verbose) {
                ex.printStackTrace(err);
            }
            return ExitCodes.INTERNAL;
        });
        return cl.execute(args);
    }

    static boolean verbose() {
        return verbose;
    }

    /** slf4j-simple reads its settings once, before the first logger: so they are set from argv first. */
    private static void configureLogging(String[] args) {
        for (String a : args) {
            if (a.equals("-v") || a.equals("--verbose")) {
                verbose = true;
            }
        }
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        // Netty's own start-up details are noise even in -v; its warnings still show.
        System.setProperty("org.slf4j.simpleLogger.log.io.netty", "warn");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** A command with a --json flag: its failures are also printed as {@code {"ok":false,...}} on stdout. */
    interface JsonOutput {
        boolean json();
    }

    /** {@code -v}: debug logging; read from the raw arguments before parsing (see configureLogging). */
    static final class Verbosity {
        @CommandLine.Option(names = {"-v", "--verbose"}, description = "Log debug details to stderr.")
        boolean verbose;
    }
}
