package dev.warden.bench;

import java.util.ArrayList;
import java.util.List;

/** Collects markdown: headings, tables and notes. Printed to stdout and written to a file at the end. */
final class Report {
    private final StringBuilder md = new StringBuilder();
    private List<String[]> rows;
    private int columns;

    Report heading(String text) {
        endTable();
        md.append("\n### ").append(text).append("\n\n");
        return this;
    }

    Report line(String text) {
        endTable();
        md.append(text).append('\n');
        return this;
    }

    Report note(String text) {
        endTable();
        md.append("\n- ").append(text).append('\n');
        return this;
    }

    Report table(String... header) {
        endTable();
        if (md.length() > 0 && !md.toString().endsWith("\n\n")) {
            md.append('\n');
        }
        rows = new ArrayList<>();
        columns = header.length;
        rows.add(header);
        return this;
    }

    Report row(String... cells) {
        if (rows == null || cells.length != columns) {
            throw new IllegalStateException("row does not match the table header");
        }
        rows.add(cells);
        return this;
    }

    private void endTable() {
        if (rows == null) {
            return;
        }
        md.append('|');
        for (String h : rows.get(0)) {
            md.append(' ').append(h).append(" |");
        }
        md.append("\n|");
        for (int i = 0; i < columns; i++) {
            md.append(i == 0 || columns == 2 ? "---|" : "--:|");
        }
        md.append('\n');
        for (String[] r : rows.subList(1, rows.size())) {
            md.append('|');
            for (String c : r) {
                md.append(' ').append(c.replace("|", "\\|")).append(" |");
            }
            md.append('\n');
        }
        rows = null;
    }

    String markdown() {
        endTable();
        return md.toString();
    }
}
