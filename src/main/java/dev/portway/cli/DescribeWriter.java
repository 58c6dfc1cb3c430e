package dev.portway.cli;

/**
 * kubectl describe's {@code PrefixWriter} over its tab writer ({@code tabbedString}): each write
 * is indented two spaces a level and escaped for the terminal, all of it goes through one Go
 * tab writer ({@code tabwriter.Writer.Init(buf, 0, 8, 2, ' ', 0)}), and {@link #flush()} ends the
 * column blocks where kubectl's describers flush (before the Events table).
 */
final class DescribeWriter {

    static final int LEVEL_0 = 0;
    static final int LEVEL_1 = 1;
    static final int LEVEL_2 = 2;
    static final int LEVEL_3 = 3;

    private final TabWriter tabs = TabWriter.forDescribe();

    /** {@code PrefixWriter.Write}: {@code text} after {@code level} indents of two spaces. */
    void write(int level, String text) {
        tabs.write(escape("  ".repeat(level) + text));
    }

    /** {@code PrefixWriter.WriteLine}: {@code text} and a newline, not indented. */
    void writeLine(String text) {
        tabs.write(escape(text + "\n"));
    }

    /** {@code PrefixWriter.Flush}: formats what was written so far, ending every column block. */
    void flush() {
        tabs.flush();
    }

    /** The whole text, flushed (what {@code tabbedString} returns). */
    String finish() {
        tabs.flush();
        return tabs.take();
    }

    /**
     * {@code printers.WriteEscaped}: ESC becomes {@code ^[} and CR {@code \r}, so that an object's
     * fields cannot drive the terminal.
     */
    static String escape(String s) {
        if (s.indexOf('\u001b') < 0 && s.indexOf('\r') < 0) {
            return s;
        }
        return s.replace("\u001b", "^[").replace("\r", "\\r");
    }
}
