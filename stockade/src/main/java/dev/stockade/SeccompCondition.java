package dev.stockade;

import java.util.Objects;

/**
 * A condition on one system call argument, as libseccomp compares them: the 64-bit argument
 * register against {@code value} ({@link Operator#MASKED_EQ}: {@code (arg & mask) == value}).
 * All conditions of one {@link SeccompRule} must hold together; a rule may have at most one
 * condition per argument.
 *
 * @param argument the argument index, 0..5
 * @param operator the comparison
 * @param value the value compared with
 * @param mask for {@link Operator#MASKED_EQ} the mask applied to the argument; 0 otherwise
 */
public record SeccompCondition(int argument, Operator operator, long value, long mask) {

    /** The comparisons, with libseccomp's {@code SCMP_CMP_*} numbers. */
    public enum Operator {
        NE(1), LT(2), LE(3), EQ(4), GE(5), GT(6), MASKED_EQ(7);

        private final int scmp;

        Operator(int scmp) {
            this.scmp = scmp;
        }

        /** libseccomp's {@code enum scmp_compare} value. */
        public int scmpValue() {
            return scmp;
        }
    }

    public SeccompCondition {
        Objects.requireNonNull(operator, "operator");
        if (operator != Operator.MASKED_EQ && mask != 0) {
            throw new IllegalArgumentException("only MASKED_EQ has a mask");
        }
    }

    public static SeccompCondition equal(int argument, long value) {
        return new SeccompCondition(argument, Operator.EQ, value, 0);
    }

    public static SeccompCondition notEqual(int argument, long value) {
        return new SeccompCondition(argument, Operator.NE, value, 0);
    }

    public static SeccompCondition lessThan(int argument, long value) {
        return new SeccompCondition(argument, Operator.LT, value, 0);
    }

    public static SeccompCondition lessOrEqual(int argument, long value) {
        return new SeccompCondition(argument, Operator.LE, value, 0);
    }

    public static SeccompCondition greaterOrEqual(int argument, long value) {
        return new SeccompCondition(argument, Operator.GE, value, 0);
    }

    public static SeccompCondition greaterThan(int argument, long value) {
        return new SeccompCondition(argument, Operator.GT, value, 0);
    }

    /** {@code (argument & mask) == value}. */
    public static SeccompCondition maskedEqual(int argument, long mask, long value) {
        return new SeccompCondition(argument, Operator.MASKED_EQ, value, mask);
    }

    /**
     * Whether {@code argument} (the full 64-bit register) satisfies this condition, compared the
     * way the filter compares it: unsigned, 64 bits.
     */
    /**
     * This condition as it must be compiled for a 32-bit argument, which the kernel truncates to
     * its low 32 bits: {@code ==} and {@code &} compare the low 32 bits only, so setting the
     * high bits of the register cannot slip past the rule. Other comparisons are unchanged
     * (SeccompProfile#problems() refuses the ones whose unchanged form could be slipped past).
     */
    public SeccompCondition lowWord() {
        return switch (operator) {
            case EQ -> maskedEqual(argument, 0xffffffffL, value & 0xffffffffL);
            case MASKED_EQ -> maskedEqual(argument, mask & 0xffffffffL, value & mask & 0xffffffffL);
            default -> this;
        };
    }

    public boolean matches(long argument) {
        return switch (operator) {
            case NE -> argument != value;
            case LT -> Long.compareUnsigned(argument, value) < 0;
            case LE -> Long.compareUnsigned(argument, value) <= 0;
            case EQ -> argument == value;
            case GE -> Long.compareUnsigned(argument, value) >= 0;
            case GT -> Long.compareUnsigned(argument, value) > 0;
            case MASKED_EQ -> (argument & mask) == value;
        };
    }

    @Override
    public String toString() {
        String arg = "arg" + argument;
        return switch (operator) {
            case MASKED_EQ -> "(" + arg + " & 0x" + Long.toHexString(mask) + ") == 0x"
                    + Long.toHexString(value);
            case NE -> arg + " != 0x" + Long.toHexString(value);
            case LT -> arg + " < 0x" + Long.toHexString(value);
            case LE -> arg + " <= 0x" + Long.toHexString(value);
            case EQ -> arg + " == 0x" + Long.toHexString(value);
            case GE -> arg + " >= 0x" + Long.toHexString(value);
            case GT -> arg + " > 0x" + Long.toHexString(value);
        };
    }
}
