package dev.stockade.cli;

import java.util.List;
import java.util.Map;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Ansi.Text;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.Column.Overflow;
import picocli.CommandLine.Help.ColorScheme;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.IHelpFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * picocli's usage help with its lines broken at spaces only. picocli breaks where
 * {@link java.text.BreakIterator} allows, which is also after '.', '/' and ':' inside a word:
 * "e.g." became "e." and "g." on two lines, "~/.sdkman/..." and "[:port]" were cut. Here a
 * line ends at a space; only a word longer than its whole column is still cut (picocli's own
 * fallback), and none of the CLI's is.
 */
final class WordWrappedHelp implements IHelpFactory {

    @Override
    public Help create(CommandSpec spec, ColorScheme colorScheme) {
        return new Help(spec, colorScheme) {
            /** picocli's layout (TextTable.forDefaultColumns) with the table below. */
            @Override
            public Layout createDefaultLayout(List<OptionSpec> options,
                    List<PositionalParamSpec> positionals, ColorScheme scheme) {
                int longOptions = calcLongOptionColumnWidth(options, positionals, scheme);
                TextTable table = new SpaceWrappingTable(scheme,
                        new Column(2, 0, Overflow.TRUNCATE),
                        new Column(2, 0, Overflow.SPAN),
                        new Column(1, 0, Overflow.TRUNCATE),
                        new Column(longOptions, 1, Overflow.SPAN),
                        new Column(width() - 5 - longOptions, 1, Overflow.WRAP));
                return new Layout(scheme, table, createDefaultOptionRenderer(),
                        createDefaultParameterRenderer());
            }

            @Override
            public String description(Object... params) {
                return paragraph(spec.usageMessage().description(), params);
            }

            @Override
            public String customSynopsis(Object... params) {
                return paragraph(spec.usageMessage().customSynopsis(), params);
            }

            @Override
            public String header(Object... params) {
                return paragraph(spec.usageMessage().header(), params);
            }

            @Override
            public String footer(Object... params) {
                return paragraph(spec.usageMessage().footer(), params);
            }

            /** picocli's table for the exit codes (createTextTable), with the table below. */
            @Override
            public TextTable createTextTable(Map<?, ?> map) {
                if (map == null || map.isEmpty()) {
                    return super.createTextTable(map);
                }
                int spacing = 3;
                int keyLength = 0;
                for (Object key : map.keySet()) {
                    keyLength = Math.max(keyLength, String.valueOf(key).length());
                }
                keyLength = Math.min(width() - spacing - 1, keyLength);
                TextTable table = new SpaceWrappingTable(colorScheme(),
                        new Column(keyLength + spacing, 2, Overflow.SPAN),
                        new Column(width() - (keyLength + spacing), 2, Overflow.WRAP));
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    table.addRowValues(format(entry.getKey()), format(entry.getValue()));
                }
                return table;
            }

            /** Lines of text across the whole width (picocli's join), wrapped without indent. */
            private String paragraph(String[] lines, Object... params) {
                if (lines == null || lines.length == 0) {
                    return "";
                }
                TextTable table = new SpaceWrappingTable(colorScheme(),
                        new Column(width(), 0, Overflow.WRAP));
                table.indentWrappedLines = 0;
                for (String line : lines) {
                    table.addRowValues(String.format(line, params));
                }
                return table.toString();
            }

            private String format(Object value) {
                return String.format(String.valueOf(value));
            }

            private int width() {
                return spec.usageMessage().width();
            }
        };
    }

    /** A {@link TextTable} whose wrapping columns break lines at spaces only. */
    static final class SpaceWrappingTable extends TextTable {

        SpaceWrappingTable(ColorScheme colorScheme, Column... columns) {
            super(colorScheme, columns);
        }

        /**
         * Writes each line of {@code value} that fits the column through picocli, which then
         * has nothing to break; picocli writes the continuation lines indented by
         * {@link #indentWrappedLines} more than the first, and so does this.
         */
        @Override
        public Cell putValue(int row, int col, Text value) {
            Column column = columns()[col];
            if (column.overflow != Overflow.WRAP || value == null
                    || value.plainString().isEmpty()) {
                return super.putValue(row, col, value);
            }
            int firstIndent = column.indent;
            String plain = value.plainString();
            Cell last = null;
            int start = 0;
            try {
                while (start < plain.length()) {
                    if (last != null) {
                        addEmptyRow();
                        row = last.row + 1;
                    }
                    int newline = plain.indexOf('\n', start);
                    int lineEnd = newline < 0 ? plain.length() : newline;
                    int end = lineEnd(plain, start, lineEnd, column.width - column.indent);
                    // A word wider than the column is the only thing super still wraps.
                    last = super.putValue(row, col, value.substring(start, end));
                    start = end;
                    while (start < lineEnd && plain.charAt(start) == ' ') {
                        start++;
                    }
                    if (start == lineEnd && newline >= 0) {
                        start = newline + 1;
                        column.indent = firstIndent;
                    } else {
                        column.indent = firstIndent + indentWrappedLines;
                    }
                }
            } finally {
                column.indent = firstIndent;
            }
            return last == null ? super.putValue(row, col, value) : last;
        }

        /**
         * Where the line that starts at {@code start} ends: at the last space that leaves it
         * at most {@code room} long, or after its first word when even that is longer.
         */
        private static int lineEnd(String text, int start, int end, int room) {
            if (end - start <= room) {
                return end;
            }
            int space = text.lastIndexOf(' ', start + room);
            if (space > start) {
                return space;
            }
            space = text.indexOf(' ', start);
            return space < 0 || space > end ? end : space;
        }
    }
}
