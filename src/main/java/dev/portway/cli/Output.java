package dev.portway.cli;

import dev.portway.api.decode.DecodeProblem;
import dev.portway.api.decode.ObjectDecoder;
import java.io.PrintWriter;
import java.util.List;

/** Printing shared by the commands. */
final class Output {

    private Output() {
    }

    /** kubectl prints API warnings as {@code Warning: ...}. */
    static void warnings(PrintWriter err, List<ObjectDecoder.Decoded> objects) {
        for (ObjectDecoder.Decoded d : objects) {
            for (String w : d.warnings()) {
                err.println("Warning: " + d.kind().objectRef(d.object().getMetadata() == null ? "" : d.object().getMetadata().getName())
                        + ": " + w);
            }
        }
    }

    static void problems(PrintWriter err, List<DecodeProblem> problems) {
        for (DecodeProblem p : problems) {
            err.println("error: " + p);
        }
    }

    static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }
}
