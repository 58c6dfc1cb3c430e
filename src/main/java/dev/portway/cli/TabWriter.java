package dev.portway.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Go's {@code text/tabwriter} column algorithm (left-aligned, space padding), which kubectl
 * prints every table and every {@code describe} through: tab-terminated cells in consecutive
 * lines form a column as wide as its widest cell plus padding; a line's last cell is not part of
 * any column.
 */
final class TabWriter {

    private final int minWidth;
    private final int padding;

    /** kubectl's table writer: {@code tabwriter.NewWriter(out, 6, 4, 3, ' ', 0)}. */
    static TabWriter forTables() {
        return new TabWriter(6, 3);
    }

    /** kubectl describe's writer: {@code out.Init(buf, 0, 8, 2, ' ', 0)}. */
    static TabWriter forDescribe() {
        return new TabWriter(0, 2);
    }

    TabWriter(int minWidth, int padding) {
        this.minWidth = minWidth;
        this.padding = padding;
    }

    /** Aligns {@code text}; a final newline is kept as it was. */
    String format(String text) {
        List<List<String>> lines = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            lines.add(List.of(line.split("\t", -1)));
        }
        // A trailing newline leaves one empty last "line" with a single empty cell.
        StringBuilder out = new StringBuilder();
        format(out, lines, new ArrayList<>(), 0, lines.size());
        return out.toString();
    }

    private void format(StringBuilder out, List<List<String>> lines, List<Integer> widths, int line0, int line1) {
        int column = widths.size();
        for (int current = line0; current < line1; current++) {
            List<String> line = lines.get(current);
            if (column >= line.size() - 1) {
                continue;
            }
            writeLines(out, lines, widths, line0, current);
            line0 = current;
            int width = minWidth;
            for (; current < line1; current++) {
                line = lines.get(current);
                if (column >= line.size() - 1) {
                    break;
                }
                width = Math.max(width, line.get(column).codePointCount(0, line.get(column).length()) + padding);
            }
            widths.add(width);
            format(out, lines, widths, line0, current);
            widths.removeLast();
            line0 = current;
            current--;
        }
        writeLines(out, lines, widths, line0, line1);
    }

    private static void writeLines(StringBuilder out, List<List<String>> lines, List<Integer> widths, int line0, int line1) {
        for (int i = line0; i < line1; i++) {
            List<String> line = lines.get(i);
            for (int j = 0; j < line.size(); j++) {
                String cell = line.get(j);
                out.append(cell);
                if (j < widths.size()) {
                    int pad = widths.get(j) - cell.codePointCount(0, cell.length());
                    out.append(" ".repeat(Math.max(0, pad)));
                }
            }
            if (i + 1 < lines.size()) {
                out.append('\n');
            }
        }
    }
}
