package dev.stockade.internal.policy;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits one line of a profile into tokens. Columns are 1-based and count UTF-16 code units
 * (a tab is one column), which is what editors show for the ASCII a profile is written in.
 * A {@code #} outside a string starts the comment, which is kept: on a rule's line it is the
 * rule's reason.
 */
final class PolicyLexer {
    private PolicyLexer() {}

    enum Kind {
        /** A name: syscall, constant, keyword, {@code argN}. */
        WORD,
        /** Starts with a digit, or a minus sign and a digit; checked by {@link #number}. */
        NUMBER,
        /** A double-quoted path; the text is the content without quotes. */
        STRING,
        ARROW, AND_AND, AMPERSAND, PIPE, OPERATOR, LEFT_PAREN, RIGHT_PAREN, AT,
        /** The end of the line (after the comment, if any). */
        END
    }

    record Token(Kind kind, String text, int column) {
        /** How the token looks in an error message. */
        String shown() {
            return switch (kind) {
                case END -> "the end of the line";
                case STRING -> "\"" + text + "\"";
                default -> "'" + text + "'";
            };
        }
    }

    /** The tokens of a line, always ending with END, and its comment (null when none). */
    record Line(List<Token> tokens, String comment, int commentColumn) {}

    /** A character no token starts with, or an unterminated string. */
    static final class LexException extends Exception {
        private static final long serialVersionUID = 1L;
        final int column;

        LexException(int column, String message) {
            super(message, null, false, false);
            this.column = column;
        }
    }

    static Line lex(String line) throws LexException {
        List<Token> tokens = new ArrayList<>();
        String comment = null;
        int commentColumn = 0;
        int i = 0;
        int n = line.length();
        while (i < n) {
            char c = line.charAt(i);
            int col = i + 1;
            if (c == ' ' || c == '\t') {
                i++;
            } else if (c == '#') {
                comment = line.substring(i + 1).strip();
                commentColumn = col;
                break;
            } else if (isWordStart(c)) {
                int start = i;
                while (i < n && isWordPart(line.charAt(i))) {
                    i++;
                }
                tokens.add(new Token(Kind.WORD, line.substring(start, i), col));
            } else if (isDigit(c) || c == '-' && i + 1 < n && isDigit(line.charAt(i + 1))) {
                int start = i;
                i++;
                while (i < n && (isWordPart(line.charAt(i)))) {
                    i++;
                }
                tokens.add(new Token(Kind.NUMBER, line.substring(start, i), col));
            } else if (c == '"') {
                int end = line.indexOf('"', i + 1);
                if (end < 0) {
                    throw new LexException(col, "unterminated string: a closing '\"' is"
                            + " missing");
                }
                tokens.add(new Token(Kind.STRING, line.substring(i + 1, end), col));
                i = end + 1;
            } else if (line.startsWith("->", i)) {
                tokens.add(new Token(Kind.ARROW, "->", col));
                i += 2;
            } else if (line.startsWith("&&", i)) {
                tokens.add(new Token(Kind.AND_AND, "&&", col));
                i += 2;
            } else if (line.startsWith("==", i) || line.startsWith("!=", i)
                    || line.startsWith("<=", i) || line.startsWith(">=", i)) {
                tokens.add(new Token(Kind.OPERATOR, line.substring(i, i + 2), col));
                i += 2;
            } else if (c == '<' || c == '>') {
                tokens.add(new Token(Kind.OPERATOR, String.valueOf(c), col));
                i++;
            } else if (c == '&' || c == '|' || c == '(' || c == ')' || c == '@') {
                Kind kind = switch (c) {
                    case '&' -> Kind.AMPERSAND;
                    case '|' -> Kind.PIPE;
                    case '(' -> Kind.LEFT_PAREN;
                    case ')' -> Kind.RIGHT_PAREN;
                    default -> Kind.AT;
                };
                tokens.add(new Token(kind, String.valueOf(c), col));
                i++;
            } else {
                throw new LexException(col, "unexpected character " + describe(c));
            }
        }
        tokens.add(new Token(Kind.END, "", comment != null ? commentColumn : n + 1));
        return new Line(tokens, comment == null || comment.isEmpty() ? null : comment,
                commentColumn);
    }

    /**
     * The value of a NUMBER token: decimal ({@code 42}, {@code -1} as 64-bit two's complement),
     * hexadecimal ({@code 0x2a}), octal ({@code 0o52}) or binary ({@code 0b101010}), with
     * optional {@code _} between digits; at most 64 bits. A leading zero before more digits is
     * refused rather than guessed (C reads {@code 0755} as octal, most people as decimal).
     *
     * @throws IllegalArgumentException with the reason, for the caller to attach a position
     */
    static long number(String text) {
        boolean negative = text.startsWith("-");
        String body = negative ? text.substring(1) : text;
        int radix = 10;
        String digits = body;
        if (body.length() > 1 && body.charAt(0) == '0' && !negative) {
            char p = Character.toLowerCase(body.charAt(1));
            if (p == 'x' || p == 'o' || p == 'b') {
                radix = p == 'x' ? 16 : p == 'o' ? 8 : 2;
                digits = body.substring(2);
            } else if (isDigit(p) || p == '_') {
                throw new IllegalArgumentException("number '" + text + "' has a leading zero:"
                        + " write octal as 0o" + body.substring(1).replace("_", "")
                        + ", or decimal without the 0");
            }
        }
        if (digits.isEmpty() || digits.startsWith("_") || digits.endsWith("_")) {
            throw new IllegalArgumentException("malformed number '" + text + "'");
        }
        String plain = digits.replace("_", "");
        for (int k = 0; k < plain.length(); k++) {
            if (Character.digit(plain.charAt(k), radix) < 0) {
                throw new IllegalArgumentException("malformed number '" + text + "': '"
                        + plain.charAt(k) + "' is not a " + radixName(radix) + " digit");
            }
        }
        long value;
        try {
            value = Long.parseUnsignedLong(plain, radix);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("number '" + text + "' does not fit in 64 bits");
        }
        if (negative) {
            if (Long.compareUnsigned(value, Long.MIN_VALUE) > 0) {
                throw new IllegalArgumentException("number '" + text
                        + "' does not fit in 64 bits");
            }
            return -value;
        }
        return value;
    }

    private static String radixName(int radix) {
        return switch (radix) {
            case 16 -> "hexadecimal";
            case 8 -> "octal";
            case 2 -> "binary";
            default -> "decimal";
        };
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isWordStart(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_';
    }

    private static boolean isWordPart(char c) {
        return isWordStart(c) || isDigit(c);
    }

    private static String describe(char c) {
        if (c < 0x20 || c == 0x7f) {
            return String.format("U+%04X (a control character)", (int) c);
        }
        if (Character.isSurrogate(c) || c > 0x7e) {
            return "'" + c + "' (" + String.format("U+%04X", (int) c) + ": profiles are ASCII)";
        }
        return "'" + c + "'";
    }
}
