package dev.portway.cli;

import java.time.Clock;

/** The CLI driver for tests outside this package. */
public final class CliDriver {

    /** What one command printed and returned. */
    public record Result(int exitCode, String out, String err) {
    }

    private final Cli cli;

    public CliDriver(Clock clock, dev.portway.runtime.LocalCluster cluster) {
        this.cli = new Cli(clock, cluster);
    }

    /** A CLI that reaches its server through {@code kubeconfig}. */
    public CliDriver(Clock clock, java.nio.file.Path kubeconfig) {
        this.cli = new Cli(clock, kubeconfig.toString());
    }

    /** Writes the cluster's kubeconfig as {@code portway up} does and returns where (for the real kubectl). */
    public static java.nio.file.Path kubeconfigOf(dev.portway.runtime.LocalCluster cluster) {
        return java.nio.file.Path.of(Cli.kubeconfigOf(cluster));
    }

    public Result run(String... args) {
        Cli.Result r = cli.run(args);
        return new Result(r.exitCode(), r.out(), r.err());
    }

    public Result runWithInput(String stdin, String... args) {
        Cli.Result r = cli.runWithInput(stdin, args);
        return new Result(r.exitCode(), r.out(), r.err());
    }
}
