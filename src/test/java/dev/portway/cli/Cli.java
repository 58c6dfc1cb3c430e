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
    private final String server;

    Cli(Clock clock, String server) {
        this.clock = clock;
        this.server = server;
    }

    Result run(String... args) {
        return runWithInput("", args);
    }

    Result runWithInput(String stdin, String... args) {
        InputStream in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        CommandLine cl = Main.commandLine(new Main(clock, in));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] full = args;
        if (server != null && args.length > 0 && !args[0].equals("validate")) {
            full = new String[args.length + 2];
            System.arraycopy(args, 0, full, 0, args.length);
            full[args.length] = "--server";
            full[args.length + 1] = server;
        }
        int code = cl.execute(full);
        return new Result(code, out.toString(), err.toString());
    }
}
