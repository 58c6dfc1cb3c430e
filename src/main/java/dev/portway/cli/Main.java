package dev.portway.cli;

import dev.portway.Version;
import dev.portway.api.ApiException;
import java.io.InputStream;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code portway}: a local Kubernetes-style cluster whose NodePort and LoadBalancer Services
 * carry real traffic, and the kubectl-like commands that drive it.
 *
 * <p>Exit codes: 0 success, 1 the operation failed, 2 usage error.
 */
@Command(name = "portway",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        // subcommands inherit the version provider (picocli's inherited command attributes): every -V prints it
        scope = CommandLine.ScopeType.INHERIT,
        description = "NodePort and LoadBalancer Services that carry real traffic, on one machine or many.")
public final class Main implements Callable<Integer> {

    /**
     * The subcommands, in the order the help lists them. Not in the annotation: picocli builds the
     * model of every subcommand it is given (their options, annotations and help texts), about a
     * third of a CLI command's 0.4 s and 0.17 s of a start's CPU; a command line names one.
     */
    private static final List<Class<?>> SUBCOMMANDS = List.of(
            UpCommand.class,
            ApplyCommand.class,
            GetCommand.class,
            DescribeCommand.class,
            DeleteCommand.class,
            LogsCommand.class,
            ScaleCommand.class,
            NodeCommand.class,
            ValidateCommand.class,
            ControllerCommand.class,
            UiCommand.class,
            CommandLine.HelpCommand.class);

    final Clock clock;
    final InputStream stdin;

    @Spec
    CommandSpec spec;

    public Main() {
        this(Clock.systemUTC(), System.in);
    }

    public Main(Clock clock, InputStream stdin) {
        this.clock = clock;
        this.stdin = stdin;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** A command line with Portway's error handling: one {@code error: ...} line, exit code 1. */
    public static CommandLine commandLine(Main main) {
        return commandLine(main, SUBCOMMANDS);
    }

    /**
     * The command line for {@code args}: with only the subcommand they name, when their first word
     * names one (not {@code help}, which describes the others); with all of them otherwise, for the
     * help, the usage error and its suggestions.
     */
    static CommandLine commandLine(Main main, String[] args) {
        if (args.length > 0 && !args[0].equals("help")) {
            for (Class<?> c : SUBCOMMANDS) {
                if (c.getAnnotation(Command.class).name().equals(args[0])) {
                    return commandLine(main, List.of(c));
                }
            }
        }
        return commandLine(main, SUBCOMMANDS);
    }

    private static CommandLine commandLine(Main main, List<Class<?>> subcommands) {
        CommandLine cl = new CommandLine(main);
        subcommands.forEach(cl::addSubcommand);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            String message = switch (e) {
                case AdminClient.UnreachableException u -> "error: " + u.getMessage();
                case ApiException api -> api.kubectlMessage();
                case CliException c -> "error: " + c.getMessage();
                default -> "error: " + e;
            };
            commandLine.getErr().println(message);
            if (!(e instanceof AdminClient.UnreachableException) && !(e instanceof ApiException) && !(e instanceof CliException)) {
                e.printStackTrace(commandLine.getErr());
            }
            return 1;
        });
        return cl;
    }

    public static void main(String[] args) {
        int code = commandLine(new Main(), args).execute(args);
        System.exit(code);
    }

    /** The version from the jar manifest. */
    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"portway " + Version.VERSION};
        }
    }

    /** A failure with a message for the user (printed as {@code error: ...}, exit 1). */
    static final class CliException extends RuntimeException {
        CliException(String message) {
            super(message);
        }
    }
}
