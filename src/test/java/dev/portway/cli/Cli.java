package dev.portway.cli;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import picocli.CommandLine;

/** Runs the portway CLI in-process, as a user would from a shell, capturing what it prints. */
final class Cli {

    /** What one command printed and returned. */
    record Result(int exitCode, String out, String err) {
    }

    private final Clock clock;
    private final String kubeconfig;

    /** A CLI whose commands use {@code kubeconfig} (null: none, for offline commands). */
    Cli(Clock clock, String kubeconfig) {
        this.clock = clock;
        this.kubeconfig = kubeconfig;
    }

    /** A CLI of a running local cluster, through a kubeconfig written as {@code portway up} writes it. */
    Cli(Clock clock, dev.portway.runtime.LocalCluster cluster) {
        this(clock, kubeconfigOf(cluster));
    }

    /** Writes the cluster's kubeconfig into its state directory (as {@code portway up} does) and returns its path. */
    static String kubeconfigOf(dev.portway.runtime.LocalCluster cluster) {
        java.nio.file.Path file = cluster.stateDir().resolve("kubeconfig");
        try {
            Kubeconfig.write(file, cluster.adminUrl(), cluster.credentials(), true);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return file.toString();
    }

    Result run(String... args) {
        return runWithInput("", args);
    }

    Result runWithInput(String stdin, String... args) {
        InputStream in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        String[] full = args;
        if (kubeconfig != null && args.length > 0 && !args[0].equals("validate")) {
            full = new String[args.length + 2];
            System.arraycopy(args, 0, full, 0, args.length);
            full[args.length] = "--kubeconfig";
            full[args.length + 1] = kubeconfig;
        }
        // as main() builds it: with the one subcommand the arguments name
        CommandLine cl = Main.commandLine(new Main(clock, in), full);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(full);
        return new Result(code, out.toString(), err.toString());
    }
}
