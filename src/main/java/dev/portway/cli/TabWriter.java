package dev.portway.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Go's {@code text/tabwriter} (left-aligned, padded with spaces, no flags), which kubectl prints
 * every table and every {@code describe} through.
 *
 * <p>Text is cut into cells: a cell ends at a tab ({@code \t} or {@code \v}) or at the end of its
 * line ({@code \n} or {@code \f}). A column block is a run of consecutive lines that all have a
 * tab-terminated cell in that column; a line with fewer cells ends the block, and each block is as
 * wide as its widest cell plus the padding (at least the minimum width). A line's last cell is not
 * part of any column. Within a block the same happens for the next column, so blocks nest. A line
 * that is a single cell (no tab), a {@code \f} and {@link #flush()} end every block: the text so
 * far is formatted and the next lines start afresh, which is how kubectl's describers print a
 * table (the Events) aligned apart from the fields above it.
 */
final class TabWriter {

    private final int minWidth;
    private final int padding;
    private final StringBuilder out = new StringBuilder();
    /** Lines buffered since the last flush, each its cells; the last one is being written. */
    private final List<List<String>> lines = new ArrayList<>();
    private final StringBuilder cell = new StringBuilder();
    private final List<Integer> widths = new ArrayList<>();

    /** kubectl's table writer: {@code tabwriter.NewWriter(out, 6, 4, 3, ' ', 0)}. */
    static TabWriter forTables() {
        return new TabWriter(6, 3);
    }

    /** kubectl describe's writer: {@code out.Init(buf, 0, 8, 2, ' ', 0)}. */
    static TabWriter forDescribe() {
        return new TabWriter(0, 2);
    }

    /**
     * One line of a table, its cells as kubectl prints them (cli-runtime's {@code appendCellValue}):
     * a cell is cut at its first line break ({@code \n}, {@code \r} or {@code \f}), which then
     * shows as {@code ...}, and ESC as {@code ^[}. A cell is text an object holds (an Event's
     * message is an exec probe's output): a container's lines would otherwise forge rows, and its
     * escape sequences would reach the user's terminal.
     */
    static String row(List<String> cells) {
        StringBuilder line = new StringBuilder();
        for (String cell : cells) {
            if (!line.isEmpty()) {
                line.append('\t');
            }
            String text = cell == null ? "" : cell;
            int cut = firstBreak(text);
            line.append(DescribeWriter.escape(cut < 0 ? text : text.substring(0, cut)));
            if (cut >= 0) {
                line.append("...");
            }
        }
        return line.toString();
    }

    private static int firstBreak(String text) {
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (ch == '\n' || ch == '\r' || ch == '\f') {
                return i;
            }
        }
        return -1;
    }

    TabWriter(int minWidth, int padding) {
        this.minWidth = minWidth;
        this.padding = padding;
        lines.add(new ArrayList<>());
    }

    /** Aligns {@code text} on its own, as one write and a flush; a final newline is kept as it was. */
    String format(String text) {
        write(text);
        flush();
        return take();
    }

    /** Buffers {@code text}; complete blocks are formatted as soon as a single-cell line or {@code \f} ends them. */
    void write(String text) {
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            switch (ch) {
                case '\t', '\u000b' -> terminateCell();
                case '\n', '\f' -> {
                    int cells = terminateCell();
                    lines.add(new ArrayList<>());
                    if (ch == '\f' || cells == 1) {
                        // A single-cell line cannot widen any column of the lines after it
                        // (a line's last cell is in no column), so Go formats what it has.
                        flush();
                    }
                }
                default -> cell.append(ch);
            }
        }
    }

    /** Formats and emits everything buffered, a last unterminated line included (without a newline). */
    void flush() {
        if (!cell.isEmpty()) {
            terminateCell();
        }
        formatBlock(0, lines.size());
        lines.clear();
        lines.add(new ArrayList<>());
    }

    /** What was emitted so far (flushed text), and forgets it. */
    String take() {
        String text = out.toString();
        out.setLength(0);
        return text;
    }

    private int terminateCell() {
        List<String> line = lines.getLast();
        line.add(cell.toString());
        cell.setLength(0);
        return line.size();
    }

    /** Go's {@code Writer.format}: lines [line0, line1) with {@link #widths} the widths of the columns to the left. */
    private void formatBlock(int line0, int line1) {
        int column = widths.size();
        for (int current = line0; current < line1; current++) {
            if (column >= lines.get(current).size() - 1) {
                continue;
            }
            // This line has a cell in this column: it starts a block. Print the lines before it.
            writeLines(line0, current);
            line0 = current;
            int width = minWidth;
            for (; current < line1; current++) {
                List<String> line = lines.get(current);
                if (column >= line.size() - 1) {
                    break;
                }
                width = Math.max(width, runes(line.get(column)) + padding);
            }
            // Format the columns to the right of this one within the block, this width known.
            widths.add(width);
            formatBlock(line0, current);
            widths.removeLast();
            line0 = current;
            current--;
        }
        writeLines(line0, line1);
    }

    private void writeLines(int line0, int line1) {
        for (int i = line0; i < line1; i++) {
            List<String> line = lines.get(i);
            for (int j = 0; j < line.size(); j++) {
                String c = line.get(j);
                out.append(c);
                if (j < widths.size()) {
                    out.repeat(' ', widths.get(j) - runes(c));
                }
            }
            if (i + 1 < lines.size()) {
                out.append('\n');
            }
        }
    }

    private static int runes(String s) {
        return s.codePointCount(0, s.length());
    }
}
