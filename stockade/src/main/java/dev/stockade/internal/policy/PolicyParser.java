package dev.stockade.internal.policy;

import dev.stockade.PolicySyntaxException.Entry;
import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompRule;
import dev.stockade.internal.EditDistance;
import dev.stockade.internal.Errno;
import dev.stockade.internal.SyscallNames;
import dev.stockade.internal.policy.PolicyLexer.Kind;
import dev.stockade.internal.policy.PolicyLexer.Token;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Parses the text of one profile file into its lines' meaning — rules, the default action,
 * includes — without following includes (that is {@link PolicyLoader}'s job). Every problem is
 * collected with its line and column; a syntax error ends that line, other lines are still read,
 * so one run reports everything.
 *
 * <pre>
 * line      := rule | "default" action | "@include" (NAME | "path") | (empty)   [# comment]
 * rule      := SYSCALL [condition ("&amp;&amp;" condition)*] "->" action
 * condition := argN OP value | argN "&amp;" value "==" value        (N 0..5)
 * OP        := "==" | "!=" | "&lt;" | "&lt;=" | "&gt;" | "&gt;="
 * value     := term ("|" term)*          term := NUMBER | CONSTANT
 * action    := "allow" | "kill" | "kill_thread" | "log" | "trap" | "errno" "(" ERRNO ")"
 *            | "report" ["(" (ERRNO | "allow") ")"]
 * ERRNO     := errno name (EPERM) | 1..4094
 * </pre>
 */
final class PolicyParser {

    /** What one line said. */
    sealed interface Item {
        int line();

        int column();
    }

    record RuleItem(SeccompRule rule, int line, int column) implements Item {}

    record DefaultItem(SeccompAction action, int line, int column) implements Item {}

    /** {@code @include build} (shipped) or {@code @include "a/b.policy"} (a file). */
    record IncludeItem(String target, boolean file, int line, int column) implements Item {}

    /** A syntax error: ends the current line. */
    private static final class SyntaxError extends Exception {
        private static final long serialVersionUID = 1L;
        final int column;

        SyntaxError(int column, String message) {
            super(message, null, false, false);
            this.column = column;
        }
    }

    private final String source;
    private final List<Entry> problems;
    private final List<Item> items = new ArrayList<>();
    private List<Token> tokens;
    private int at;
    private int lineNo;

    private PolicyParser(String source, List<Entry> problems) {
        this.source = source;
        this.problems = problems;
    }

    /**
     * The items of {@code text}, in line order; problems are appended to {@code problems} with
     * {@code source} as their file.
     */
    static List<Item> parse(String text, String source, List<Entry> problems) {
        PolicyParser p = new PolicyParser(source, problems);
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            p.line(i + 1, line);
        }
        return p.items;
    }

    private void line(int number, String text) {
        lineNo = number;
        // A control character (a lone carriage return, say) would end up in a rule's reason,
        // which is shown on one line: the line is refused, whatever else it holds.
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                problem(i + 1, String.format("control character U+%04X is not allowed", (int) c));
                return;
            }
        }
        PolicyLexer.Line lexed;
        try {
            lexed = PolicyLexer.lex(text);
        } catch (PolicyLexer.LexException e) {
            problem(e.column, e.getMessage());
            return;
        }
        tokens = lexed.tokens();
        at = 0;
        if (peek().kind() == Kind.END) {
            return; // blank or comment-only: documentation, not a rule
        }
        try {
            Token first = peek();
            if (first.kind() == Kind.AT) {
                include();
            } else if (first.kind() == Kind.WORD && first.text().equals("default")) {
                next();
                SeccompAction action = action();
                expectEnd("after the default action");
                items.add(new DefaultItem(action, number, first.column()));
            } else if (first.kind() == Kind.WORD) {
                rule(lexed.comment());
            } else {
                throw new SyntaxError(first.column(), "expected a system call name, 'default'"
                        + " or '@include', found " + first.shown());
            }
        } catch (SyntaxError e) {
            problem(e.column, e.getMessage());
        }
    }

    private void include() throws SyntaxError {
        Token atSign = next();
        Token keyword = next();
        if (keyword.kind() != Kind.WORD || !keyword.text().equals("include")) {
            throw new SyntaxError(keyword.column(), "expected 'include' after '@', found "
                    + keyword.shown());
        }
        Token target = next();
        if (target.kind() == Kind.WORD) {
            expectEnd("after the included profile's name");
            items.add(new IncludeItem(target.text(), false, lineNo, atSign.column()));
        } else if (target.kind() == Kind.STRING) {
            if (target.text().isEmpty()) {
                throw new SyntaxError(target.column(), "the included path is empty");
            }
            expectEnd("after the included path");
            items.add(new IncludeItem(target.text(), true, lineNo, atSign.column()));
        } else {
            throw new SyntaxError(target.column(), "expected a shipped profile's name (build,"
                    + " strict, audit) or a quoted path after '@include', found "
                    + target.shown());
        }
    }

    private void rule(String reason) throws SyntaxError {
        Token name = next();
        boolean known = checkSyscall(name);
        List<SeccompCondition> conditions = new ArrayList<>();
        BitSet arguments = new BitSet();
        boolean valid = known;
        if (peek().kind() != Kind.ARROW) {
            while (true) {
                Token argToken = peek();
                SeccompCondition c = condition();
                if (c == null) {
                    valid = false;
                } else if (arguments.get(c.argument())) {
                    problem(argToken.column(), ProfileValidator.secondCondition(c.argument()));
                    valid = false;
                } else {
                    arguments.set(c.argument());
                    conditions.add(c);
                }
                Token t = peek();
                if (t.kind() == Kind.AND_AND) {
                    next();
                    continue;
                }
                if (t.kind() == Kind.ARROW) {
                    break;
                }
                throw new SyntaxError(t.column(), "expected '&&' or '->' after a condition,"
                        + " found " + t.shown());
            }
        }
        next(); // the arrow
        SeccompAction action = action();
        expectEnd("after the action");
        if (valid) {
            items.add(new RuleItem(new SeccompRule(name.text(), action, conditions, reason),
                    lineNo, name.column()));
        }
    }

    /** Reports an unknown name; false when the rule cannot be kept. */
    private boolean checkSyscall(Token name) {
        Optional<String> unknown = ProfileValidator.unknownSyscall(name.text());
        unknown.ifPresent(why -> problem(name.column(), why));
        return unknown.isEmpty();
    }

    /** One condition; null when a value was unknown (already reported). */
    private SeccompCondition condition() throws SyntaxError {
        Token arg = next();
        if (arg.kind() != Kind.WORD || !arg.text().matches("arg[0-9]+")) {
            throw new SyntaxError(arg.column(), "expected a condition on an argument (arg0 to"
                    + " arg5) or '->', found " + arg.shown());
        }
        int index = arg.text().length() > 4 ? 99 : Integer.parseInt(arg.text().substring(3));
        if (index > 5) {
            throw new SyntaxError(arg.column(), "no argument " + arg.text() + ": a system call"
                    + " has arguments arg0 to arg5");
        }
        Token op = next();
        if (op.kind() == Kind.AMPERSAND) {
            Long mask = value("a mask");
            Token eq = next();
            if (eq.kind() != Kind.OPERATOR || !eq.text().equals("==")) {
                throw new SyntaxError(eq.column(), "expected '==' after the mask (a masked"
                        + " argument can only be compared for equality), found " + eq.shown());
            }
            Long v = value("a value");
            if (mask == null || v == null) {
                return null;
            }
            return SeccompCondition.maskedEqual(index, mask, v);
        }
        if (op.kind() != Kind.OPERATOR) {
            throw new SyntaxError(op.column(), "expected a comparison (== != < <= > >=) or '&'"
                    + " after " + arg.text() + ", found " + op.shown());
        }
        Long v = value("a value");
        if (v == null) {
            return null;
        }
        return switch (op.text()) {
            case "==" -> SeccompCondition.equal(index, v);
            case "!=" -> SeccompCondition.notEqual(index, v);
            case "<" -> SeccompCondition.lessThan(index, v);
            case "<=" -> SeccompCondition.lessOrEqual(index, v);
            case ">" -> SeccompCondition.greaterThan(index, v);
            default -> SeccompCondition.greaterOrEqual(index, v);
        };
    }

    /** {@code term ("|" term)*}; null when a constant was unknown (already reported). */
    private Long value(String what) throws SyntaxError {
        long result = 0;
        boolean known = true;
        while (true) {
            Token t = next();
            if (t.kind() == Kind.NUMBER) {
                try {
                    result |= PolicyLexer.number(t.text());
                } catch (IllegalArgumentException e) {
                    throw new SyntaxError(t.column(), e.getMessage());
                }
            } else if (t.kind() == Kind.WORD) {
                OptionalLong v = PolicyConstants.value(t.text());
                if (v.isPresent()) {
                    result |= v.getAsLong();
                } else {
                    problem(t.column(), "unknown constant '" + t.text() + "'"
                            + hint(t.text()));
                    known = false;
                }
            } else {
                throw new SyntaxError(t.column(), "expected " + what + " (a number or a named"
                        + " constant), found " + t.shown());
            }
            if (peek().kind() != Kind.PIPE) {
                return known ? result : null;
            }
            next();
        }
    }

    private SeccompAction action() throws SyntaxError {
        Token t = next();
        if (t.kind() != Kind.WORD) {
            throw new SyntaxError(t.column(), "expected an action (allow, errno(...), kill,"
                    + " log, trap, report), found " + t.shown());
        }
        switch (t.text()) {
            case "allow":
                return SeccompAction.ALLOW;
            case "kill":
                return SeccompAction.KILL_PROCESS;
            case "kill_thread":
                return SeccompAction.KILL_THREAD;
            case "log":
                return SeccompAction.LOG;
            case "trap":
                return SeccompAction.TRAP;
            case "errno": {
                expect(Kind.LEFT_PAREN, "'(' after errno");
                int errno = errnoValue(false);
                expect(Kind.RIGHT_PAREN, "')' after the errno");
                return SeccompAction.errno(errno);
            }
            case "report": {
                if (peek().kind() != Kind.LEFT_PAREN) {
                    return SeccompAction.report(1);
                }
                next();
                int errno = errnoValue(true);
                expect(Kind.RIGHT_PAREN, "')' after the errno");
                return SeccompAction.report(errno);
            }
            default:
                throw new SyntaxError(t.column(), "unknown action " + t.shown() + ": expected"
                        + " allow, errno(...), kill, log, trap or report");
        }
    }

    /** An errno name or 1..4094; with {@code allowWord}, "allow" gives 0. */
    private int errnoValue(boolean allowWord) throws SyntaxError {
        Token t = next();
        if (t.kind() == Kind.WORD) {
            if (allowWord && t.text().equals("allow")) {
                return 0;
            }
            int n = Errno.number(t.text());
            if (n < 0) {
                throw new SyntaxError(t.column(), "unknown errno '" + t.text() + "'"
                        + (allowWord ? " (expected an errno name such as EPERM, a number"
                                + " 1..4094, or allow)"
                                : " (expected an errno name such as EPERM or a number"
                                        + " 1..4094)"));
            }
            return n;
        }
        if (t.kind() == Kind.NUMBER) {
            long n;
            try {
                n = PolicyLexer.number(t.text());
            } catch (IllegalArgumentException e) {
                throw new SyntaxError(t.column(), e.getMessage());
            }
            if (n < 1 || n > SeccompAction.MAX_ERRNO) {
                throw new SyntaxError(t.column(), ProfileValidator.errnoOutOfRange(t.text()));
            }
            return (int) n;
        }
        throw new SyntaxError(t.column(), "expected an errno name (EPERM) or number"
                + (allowWord ? ", or allow," : "") + " found " + t.shown());
    }

    /**
     * How far a misspelt constant may be from a known one: constants are long and share
     * prefixes ({@code CLONE_NEWUSER}, {@code CLONE_NEWUTS}), so a quarter of the length, and
     * only the single closest is shown.
     */
    static final EditDistance.Tolerance CONSTANT_TYPO = new EditDistance.Tolerance(4, false);

    private static String hint(String name) {
        if (Errno.number(name) > 0) {
            return " (" + name + " is an errno: use it in errno(...) or report(...))";
        }
        if (SyscallNames.isKnown(name)) {
            return " (" + name + " is a system call, not a value)";
        }
        List<String> best = EditDistance.closest(name, PolicyConstants.names(), 1,
                CONSTANT_TYPO);
        return best.isEmpty() ? "" : " (did you mean " + best.get(0) + "?)";
    }

    private void expect(Kind kind, String what) throws SyntaxError {
        Token t = next();
        if (t.kind() != kind) {
            throw new SyntaxError(t.column(), "expected " + what + ", found " + t.shown());
        }
    }

    private void expectEnd(String where) throws SyntaxError {
        Token t = peek();
        if (t.kind() != Kind.END) {
            throw new SyntaxError(t.column(), "unexpected " + t.shown() + " " + where
                    + " (a comment starts with '#')");
        }
    }

    private Token peek() {
        return tokens.get(at);
    }

    /** The next token; END repeats at the end, so the parser never runs off the line. */
    private Token next() {
        Token t = tokens.get(at);
        if (t.kind() != Kind.END) {
            at++;
        }
        return t;
    }

    private void problem(int column, String message) {
        problems.add(new Entry(source, lineNo, column, message));
    }
}
