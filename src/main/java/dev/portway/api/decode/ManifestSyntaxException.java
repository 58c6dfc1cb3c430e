package dev.portway.api.decode;

/**
 * A manifest that is not well-formed YAML or JSON: where, and what the parser expected.
 */
public final class ManifestSyntaxException extends Exception {

    private final String source;
    private final int line;
    private final int column;
    private final String problem;

    public ManifestSyntaxException(String source, int line, int column, String problem) {
        super("error parsing " + source + ": line " + line + ", column " + column + ": " + problem);
        this.source = source;
        this.line = line;
        this.column = column;
        this.problem = problem;
    }

    public String source() {
        return source;
    }

    public int line() {
        return line;
    }

    public int column() {
        return column;
    }

    public String problem() {
        return problem;
    }
}
