package dev.stockade.codegen;

/** Java source text from C facts: comments as Javadoc, values as literals. */
final class JavaText {
    private JavaText() {}

    /**
     * {@code text} (paragraphs separated by blank lines) as the lines of a comment indented by
     * {@code indent}, without its opening and closing lines. HTML and Javadoc characters are
     * escaped, and so is the backslash (javac reads {@code \}{@code u} even in comments).
     */
    static String commentBody(String text, String indent) {
        StringBuilder out = new StringBuilder();
        String[] paragraphs = text.split("\n\n");
        for (int i = 0; i < paragraphs.length; i++) {
            if (i > 0) {
                out.append(indent).append(" *\n").append(indent).append(" * <p>");
            } else {
                out.append(indent).append(" * ");
            }
            out.append(escape(paragraphs[i]).replace("\n", "\n" + indent + " * ")).append('\n');
        }
        return out.toString();
    }

    /** A C definition as {@code {@code ...}} text. */
    static String code(String definition) {
        if (definition.contains("*/") || definition.contains("}") || definition.contains("\\")) {
            throw new GenerationException("cannot quote in Javadoc: " + definition);
        }
        return "{@code " + definition + "}";
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("@", "&#64;").replace("\\", "&#92;").replace("*/", "*&#47;");
    }

    /** A Java string literal. */
    static String stringLiteral(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    /** The Java type of a C integer: int for 4 bytes, long for 8. */
    static String integerType(CompilerValues.IntValue v, String name) {
        return switch (v.size()) {
            case 4 -> "int";
            case 8 -> "long";
            default -> throw new GenerationException(name + ": a " + v.size()
                    + "-byte integer has no Java counterpart");
        };
    }

    /**
     * The literal of a C integer in its Java type, bit for bit: hexadecimal when the header
     * writes it so ({@code hex}) or when it is an unsigned value above the signed range, else
     * decimal.
     */
    static String integerLiteral(CompilerValues.IntValue v, String name, boolean hex) {
        String suffix = integerType(v, name).equals("long") ? "L" : "";
        if (v.size() == 4) {
            long max = v.signed() ? Integer.MAX_VALUE : 0xffffffffL;
            long min = v.signed() ? Integer.MIN_VALUE : 0;
            if (v.bits() > max || v.bits() < min) {
                throw new GenerationException(name + ": " + v.bits() + " does not fit 4 bytes");
            }
            return (hex && v.bits() >= 0) || v.bits() > Integer.MAX_VALUE
                    ? "0x" + Long.toHexString(v.bits()) : Long.toString(v.bits());
        }
        if ((hex && v.bits() >= 0) || (!v.signed() && v.bits() < 0)) {
            return "0x" + Long.toHexString(v.bits()) + suffix;
        }
        return v.bits() + suffix;
    }
}
