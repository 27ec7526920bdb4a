package dev.stockade.codegen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code dev.stockade.internal.Protocol} and {@code dev.stockade.SetupStep} from
 * {@code native/include/stockade.h}: names and comments from the header
 * ({@link HeaderParser}), values and step names from the C compiler ({@link CompilerValues}).
 * The Java name of {@code STK_X} is {@code X}; a {@code STK_STEP_X} member is the enum
 * constant {@code SetupStep.X}, named on the wire by the helper's {@code stk_step_name}, which
 * must spell it {@code x} (lower case). Public so that tests can run it on a changed header.
 */
public final class ProtocolGenerator implements Generator {
    static final String HEADER = "native/include/stockade.h";
    static final String HELPER_DIR = "native/src/helper";
    /** The C file of stk_step_name(). */
    static final String STEP_NAMES = HELPER_DIR + "/step.c";
    private static final String STEP_PREFIX = "STK_STEP_";
    private static final String MAX_STEP_NAME = "STK_MAX_STEP_NAME";

    private record Model(HeaderParser.Header header, CompilerValues.Values values) {}

    @Override
    public void generate(Path root, Path out) throws IOException {
        Model m = read(root);
        GeneratedFile.write(out, "dev/stockade/internal/Protocol.java", protocol(m));
        GeneratedFile.write(out, "dev/stockade/SetupStep.java", setupStep(m));
    }

    /**
     * The Markdown table of the steps (name and description, in the header's order) that
     * docs/protocol.md carries; a test compares the two.
     */
    public static String stepTable(Path root) throws IOException {
        Model m = read(root);
        StringBuilder t = new StringBuilder("| step | what fails |\n|------|------------|\n");
        for (HeaderParser.Constant s : m.header().steps()) {
            t.append("| `").append(m.values().stepNames().get(s.cName())).append("` | ")
                    .append(s.doc().replace("\n", " ").replace("|", "\\|")).append(" |\n");
        }
        return t.toString();
    }

    private static Model read(Path root) throws IOException {
        root = root.toAbsolutePath();
        Path header = root.resolve(HEADER);
        HeaderParser.Header h = HeaderParser.parse(HEADER,
                Files.readAllLines(header, StandardCharsets.UTF_8));
        List<HeaderParser.Constant> constants = new ArrayList<>();
        Set<String> javaNames = new HashSet<>();
        for (HeaderParser.Item item : h.items()) {
            if (item instanceof HeaderParser.Constant c) {
                if (!javaNames.add(javaName(c))) {
                    throw new GenerationException(HEADER + ":" + c.line() + ": " + c.cName()
                            + " defined twice");
                }
                constants.add(c);
            }
        }
        if (h.steps().isEmpty()) {
            throw new GenerationException(HEADER + ": no enum " + HeaderParser.STEP_ENUM);
        }
        CompilerValues.Values v = CompilerValues.read(CompilerValues.program(constants,
                h.steps()), header.getParent(), root.resolve(HELPER_DIR),
                root.resolve(STEP_NAMES));
        checkSteps(h.steps(), v);
        return new Model(h, v);
    }

    /**
     * One spelling: stk_step_name(STK_STEP_X) is "x", no longer than STK_MAX_STEP_NAME (the
     * ERROR event's bound), and no two steps share a value.
     */
    private static void checkSteps(List<HeaderParser.Constant> steps, CompilerValues.Values v) {
        CompilerValues.IntValue maxName = v.integers().get(MAX_STEP_NAME);
        if (maxName == null) {
            throw new GenerationException(HEADER + ": no " + MAX_STEP_NAME);
        }
        Set<Long> values = new HashSet<>();
        for (HeaderParser.Constant s : steps) {
            if (!s.cName().startsWith(STEP_PREFIX)) {
                throw new GenerationException(HEADER + ":" + s.line() + ": " + s.cName()
                        + ": a member of enum stk_step must be named " + STEP_PREFIX + "...");
            }
            String expected = s.cName().substring(STEP_PREFIX.length()).toLowerCase(Locale.ROOT);
            String actual = v.stepNames().get(s.cName());
            if (!expected.equals(actual)) {
                throw new GenerationException(STEP_NAMES + ": stk_step_name(" + s.cName()
                        + ") is " + (actual == null ? "NULL" : "\"" + actual + "\"")
                        + ", expected \"" + expected + "\" (" + HEADER + ":" + s.line() + ")");
            }
            if (actual.length() > maxName.bits()) {
                throw new GenerationException(HEADER + ":" + s.line() + ": \"" + actual
                        + "\" is longer than " + MAX_STEP_NAME + " (" + maxName.bits() + ")");
            }
            if (!values.add(v.integers().get(s.cName()).bits())) {
                throw new GenerationException(HEADER + ":" + s.line() + ": " + s.cName()
                        + " has the value of another step");
            }
        }
    }

    private static String javaName(HeaderParser.Constant c) {
        if (!c.cName().startsWith("STK_")) {
            throw new GenerationException(HEADER + ":" + c.line() + ": " + c.cName()
                    + ": protocol names start with STK_");
        }
        return c.cName().substring("STK_".length());
    }

    private static String protocol(Model m) {
        StringBuilder j = new StringBuilder("package dev.stockade.internal;\n\n/**\n");
        j.append(JavaText.commentBody("The constants of the wire protocol and the bounds and "
                + "defaults both sides know,\ngenerated from " + HEADER + " by codegen "
                + "(ProtocolGenerator): never edit this\nfile, edit the header. Values are the C "
                + "compiler's. docs/protocol.md is the prose.\n\n"
                + m.header().fileComment(), ""));
        j.append(" */\npublic final class Protocol {\n    private Protocol() {}\n");
        for (HeaderParser.Item item : m.header().items()) {
            if (item instanceof HeaderParser.Section s) {
                j.append("\n    /*\n").append(JavaText.commentBody(s.text(), "    "))
                        .append("     */\n");
            } else if (item instanceof HeaderParser.Constant c) {
                j.append('\n').append(constant(c, m.values()));
            }
        }
        return j.append("}\n").toString();
    }

    private static String constant(HeaderParser.Constant c, CompilerValues.Values v) {
        String name = javaName(c);
        String type;
        String literal;
        if (v.strings().containsKey(c.cName())) {
            type = "String";
            literal = JavaText.literal(v.strings().get(c.cName()));
        } else if (v.integers().containsKey(c.cName())) {
            type = JavaText.integerType(v.integers().get(c.cName()), c.cName());
            literal = JavaText.integerLiteral(v.integers().get(c.cName()), c.cName(),
                    c.definition().contains("0x"));
        } else {
            throw new GenerationException(HEADER + ":" + c.line() + ": " + c.cName()
                    + ": the value program printed no value");
        }
        StringBuilder doc = new StringBuilder("    /**\n");
        if (!c.doc().isEmpty()) {
            doc.append(JavaText.commentBody(c.doc(), "    ")).append("     *\n     * <p>");
        } else {
            doc.append("     * ");
        }
        doc.append("C: ").append(JavaText.code(c.definition()));
        if (c.group() != null) {
            doc.append(" (enum ").append(c.group()).append(')');
        }
        doc.append(", ").append(HEADER).append(':').append(c.line()).append(".\n     */\n");
        return doc + "    public static final " + type + " " + name + " = " + literal + ";\n";
    }

    private static String setupStep(Model m) {
        StringBuilder j = new StringBuilder("""
                package dev.stockade;

                import java.util.Optional;

                /**
                 * The set-up step a {@link SetupError} names: the helper's steps, and the two the
                 * Java side reports itself ({@link #HELPER}, {@link #START}). Generated from
                 * {@code enum stk_step} in native/include/stockade.h by codegen
                 * (ProtocolGenerator): never edit this file, edit the header. On the wire and in
                 * messages a step is its {@linkplain #stepName() name}, the constant's name in lower
                 * case.
                 *
                """);
        j.append(JavaText.commentBody(m.header().stepsDoc(), "")
                .replaceFirst("^ \\* ", " * <p>"));
        j.append(" */\npublic enum SetupStep {\n");
        List<HeaderParser.Constant> steps = m.header().steps();
        for (int i = 0; i < steps.size(); i++) {
            HeaderParser.Constant s = steps.get(i);
            String name = m.values().stepNames().get(s.cName());
            j.append("    /**\n");
            if (!s.doc().isEmpty()) {
                j.append(JavaText.commentBody(s.doc(), "    "));
            }
            j.append("     */\n    ").append(s.cName().substring(STEP_PREFIX.length()))
                    .append('(').append(JavaText.literal(name)).append(", ")
                    .append(m.values().integers().get(s.cName()).bits()).append(')')
                    .append(i + 1 < steps.size() ? ",\n" : ";\n");
        }
        j.append("""

                    private final String stepName;
                    private final int code;

                    SetupStep(String stepName, int code) {
                        this.stepName = stepName;
                        this.code = code;
                    }

                    /**
                     * {@return the member's value in {@code enum stk_step}} It is what the helper
                     * stores in the set-up progress page ({@code STK_PROGRESS_STEP_OFFSET}).
                     */
                    public int code() {
                        return code;
                    }

                    /**
                     * The step of a {@linkplain #code() value}.
                     *
                     * @param code a member's value in {@code enum stk_step}, as the progress page
                     *     holds it
                     * @return the step, or empty when no step has that value
                     */
                    public static Optional<SetupStep> ofCode(long code) {
                        for (SetupStep step : values()) {
                            if (step.code == code) {
                                return Optional.of(step);
                            }
                        }
                        return Optional.empty();
                    }

                    /**
                     * {@return the step's name as the helper reports it, for example
                     * {@code "mount_root"}}
                     */
                    public String stepName() {
                        return stepName;
                    }

                    /**
                     * The step of a {@linkplain #stepName() name}.
                     *
                     * @param name a step's name as the helper reports it ({@code "mount_root"})
                     * @return the step, or empty when no step has exactly that name (case
                     *     included)
                     */
                    public static Optional<SetupStep> ofStepName(String name) {
                        for (SetupStep step : values()) {
                            if (step.stepName.equals(name)) {
                                return Optional.of(step);
                            }
                        }
                        return Optional.empty();
                    }

                    /** The {@linkplain #stepName() name}. */
                    @Override
                    public String toString() {
                        return stepName;
                    }
                }
                """);
        return j.toString();
    }
}
