package dev.stockade.codegen;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the names and comments of {@code native/include/stockade.h} (never its values: those
 * come from the C compiler, {@link CompilerValues}). The header is written in a disciplined
 * subset of C, and anything outside it fails with the file and line:
 *
 * <ul>
 *   <li>comments ({@code /* ... *}{@code /}); a comment directly above a definition, or after
 *       it on its line, documents it; one followed by a blank line heads a section;
 *   <li>the include guard and {@code #include} lines;
 *   <li>{@code #define STK_NAME expression} (object-like, continued with backslashes);
 *   <li>{@code enum stk_name {}, one {@code STK_NAME = expression,} a line, {@code };}.
 * </ul>
 *
 * {@code enum stk_step} is the list of set-up steps; every other name is a constant.
 */
final class HeaderParser {
    /** A comment that documents no single definition: the file's or a section's. */
    record Section(String text) implements Item {}

    /**
     * A macro or enum member: its C name, its documentation (may be empty), its C definition
     * (for the Javadoc), the enum it belongs to (null for a macro) and its line.
     */
    record Constant(String cName, String doc, String definition, String group, int line)
            implements Item {}

    sealed interface Item permits Section, Constant {}

    /**
     * The header: constants and sections in order, and the members of enum stk_step with the
     * comment above the enum.
     */
    record Header(String fileComment, List<Item> items, String stepsDoc, List<Constant> steps) {}

    static final String STEP_ENUM = "stk_step";

    private static final Pattern DEFINE =
            Pattern.compile("#define\\s+(STK_[A-Z0-9_]+)(\\(?)\\s*(.*)");
    private static final Pattern ENUM_START = Pattern.compile("enum\\s+(stk_[a-z0-9_]+)\\s*\\{");
    private static final Pattern MEMBER =
            Pattern.compile("(STK_[A-Z0-9_]+)\\s*=\\s*([^,/]+?)\\s*,\\s*(/\\*.*\\*/)?");
    private static final Pattern TRAILING_COMMENT = Pattern.compile("(.*?)\\s*/\\*(.*)\\*/\\s*");
    private static final Pattern INCLUDE = Pattern.compile("#include\\s+<[a-z0-9_/.]+>");

    private final String file;
    private final List<String> lines;
    private int index;

    private final List<Item> items = new ArrayList<>();
    private final List<Constant> steps = new ArrayList<>();
    private String fileComment;
    private String stepsDoc = "";
    /** Comment text waiting for the definition below it; null when there is none. */
    private String pending;
    private int pendingLine;

    private HeaderParser(String file, List<String> lines) {
        this.file = file;
        this.lines = lines;
    }

    /** Parses {@code lines}; {@code file} names the header in error messages. */
    static Header parse(String file, List<String> lines) {
        HeaderParser p = new HeaderParser(file, lines);
        p.run();
        return new Header(p.fileComment == null ? "" : p.fileComment, List.copyOf(p.items),
                p.stepsDoc, List.copyOf(p.steps));
    }

    private void run() {
        String group = null;
        while (index < lines.size()) {
            int lineNo = index + 1;
            String line = lines.get(index).strip();
            if (line.startsWith("/*")) {
                addComment(readComment(), lineNo);
                continue;
            }
            index++;
            if (line.isEmpty()) {
                if (group != null && pending != null) {
                    throw error(pendingLine, "a comment in an enum must be followed by its member");
                }
                flushSection();
                continue;
            }
            if (group != null) {
                if (line.equals("};")) {
                    group = null;
                    flushSection();
                } else {
                    member(line, lineNo, group);
                }
                continue;
            }
            Matcher m;
            if (line.equals("#ifndef STOCKADE_H") || line.equals("#define STOCKADE_H")
                    || line.equals("#endif") || INCLUDE.matcher(line).matches()) {
                flushSection();
            } else if ((m = DEFINE.matcher(line)).matches()) {
                define(m, lineNo);
            } else if ((m = ENUM_START.matcher(line)).matches()) {
                group = m.group(1);
                if (group.equals(STEP_ENUM)) {
                    stepsDoc = takePending();
                } else if (pending != null) {
                    items.add(new Section(pending));
                    pending = null;
                }
            } else {
                throw error(lineNo, "not understood (expected a comment, #include, "
                        + "#define STK_..., or enum stk_... {): " + line);
            }
        }
        if (group != null) {
            throw error(lines.size(), "enum " + group + " is not closed");
        }
        flushSection();
    }

    /** Reads a comment starting on the current line; returns its text without markers. */
    private String readComment() {
        int start = index;
        StringBuilder text = new StringBuilder();
        boolean paragraphEnds = false;
        while (true) {
            if (index >= lines.size()) {
                throw error(start + 1, "comment not closed");
            }
            String raw = lines.get(index++).strip();
            boolean first = index - 1 == start;
            boolean last = raw.endsWith("*/");
            if (!last && raw.contains("*/")) {
                throw error(index, "text after the end of a comment");
            }
            String t = raw;
            if (first) {
                t = t.substring(2);
            }
            if (last) {
                t = t.substring(0, t.length() - 2);
            }
            t = t.strip();
            if (!first && t.startsWith("*")) {
                t = t.substring(1).strip();
            }
            if (t.isEmpty()) {
                paragraphEnds = text.length() > 0;
            } else {
                text.append(text.length() == 0 ? "" : paragraphEnds ? "\n\n" : "\n").append(t);
                paragraphEnds = false;
            }
            if (last) {
                return text.toString();
            }
        }
    }

    private void addComment(String text, int lineNo) {
        if (pending == null) {
            pending = text;
            pendingLine = lineNo;
        } else {
            pending = pending + "\n\n" + text;
        }
    }

    /** A comment followed by a blank line heads a section (the first one is the file's). */
    private void flushSection() {
        if (pending == null) {
            return;
        }
        if (fileComment == null && items.isEmpty()) {
            fileComment = pending;
        } else {
            items.add(new Section(pending));
        }
        pending = null;
    }

    private void define(Matcher m, int lineNo) {
        String name = m.group(1);
        if (!m.group(2).isEmpty()) {
            throw error(lineNo, name + ": function-like macros are not part of the protocol");
        }
        StringBuilder body = new StringBuilder(m.group(3));
        while (body.toString().endsWith("\\")) {
            body.setLength(body.length() - 1);
            if (index >= lines.size()) {
                throw error(lineNo, name + ": continuation past the end of the file");
            }
            body.append(' ').append(lines.get(index++).strip());
        }
        String expression = body.toString().strip().replaceAll("\\s+", " ");
        String doc = takePending();
        Matcher c = TRAILING_COMMENT.matcher(expression);
        if (c.matches()) {
            expression = c.group(1).strip();
            doc = join(doc, c.group(2).strip());
        }
        if (expression.isEmpty() || expression.contains("/*") || expression.contains("//")) {
            throw error(lineNo, name + ": expected one expression and at most one comment");
        }
        items.add(new Constant(name, doc, "#define " + name + " " + expression, null, lineNo));
    }

    private void member(String line, int lineNo, String group) {
        Matcher m = MEMBER.matcher(line);
        if (!m.matches()) {
            throw error(lineNo, "not understood in enum " + group
                    + " (expected one STK_NAME = value, a line, with at most a one-line comment): "
                    + line);
        }
        String doc = takePending();
        if (m.group(3) != null) {
            String c = m.group(3);
            doc = join(doc, c.substring(2, c.length() - 2).strip());
        }
        Constant constant = new Constant(m.group(1), doc, m.group(1) + " = " + m.group(2),
                group, lineNo);
        if (group.equals(STEP_ENUM)) {
            steps.add(constant);
        } else {
            items.add(constant);
        }
    }

    private String takePending() {
        String doc = pending == null ? "" : pending;
        pending = null;
        return doc;
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : b.isEmpty() ? a : a + "\n\n" + b;
    }

    private GenerationException error(int lineNo, String message) {
        return new GenerationException(file + ":" + lineNo + ": " + message);
    }
}
