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

    /**
     * The comparisons, with libseccomp's {@code SCMP_CMP_*} numbers. The orderings compare
     * unsigned 64-bit values.
     */
    public enum Operator {
        /** {@code arg != value}. */
        NE(1),
        /** {@code arg < value}. */
        LT(2),
        /** {@code arg <= value}. */
        LE(3),
        /** {@code arg == value}. */
        EQ(4),
        /** {@code arg >= value}. */
        GE(5),
        /** {@code arg > value}. */
        GT(6),
        /** {@code (arg & mask) == value}. */
        MASKED_EQ(7);

        private final int scmp;

        Operator(int scmp) {
            this.scmp = scmp;
        }

        /**
         * The operator's number in libseccomp.
         *
         * @return libseccomp's {@code enum scmp_compare} value, 1..7
         */
        public int scmpValue() {
            return scmp;
        }
    }

    /**
     * A condition. The argument index is not checked here; {@link SeccompProfile#problems()}
     * reports one out of range.
     *
     * @param argument the argument index, 0..5
     * @param operator the comparison
     * @param value the value compared with
     * @param mask for {@link Operator#MASKED_EQ} the mask applied to the argument; 0 otherwise
     * @throws IllegalArgumentException when {@code mask} is not 0 and {@code operator} is not
     *     {@link Operator#MASKED_EQ}
     */
    public SeccompCondition {
        Objects.requireNonNull(operator, "operator");
        if (operator != Operator.MASKED_EQ && mask != 0) {
            throw new IllegalArgumentException("only MASKED_EQ has a mask");
        }
    }

    /**
     * The condition {@code arg == value}.
     *
     * @param argument the argument index, 0..5
     * @param value the value compared with, unsigned
     * @return a new condition
     */
    public static SeccompCondition equal(int argument, long value) {
        return new SeccompCondition(argument, Operator.EQ, value, 0);
    }

    /**
     * The condition {@code arg != value}.
     *
     * @param argument the argument index, 0..5
     * @param value the value compared with, unsigned
     * @return a new condition
     */
    public static SeccompCondition notEqual(int argument, long value) {
        return new SeccompCondition(argument, Operator.NE, value, 0);
    }

    /**
     * The condition {@code arg < value}.
     *
     * @param argument the argument index, 0..5
     * @param value the value compared with, unsigned
     * @return a new condition
     */
    public static SeccompCondition lessThan(int argument, long value) {
        return new SeccompCondition(argument, Operator.LT, value, 0);
    }

    /**
     * The condition {@code arg <= value}.
     *
     * @param argument the argument index, 0..5
     * @param value the value compared with, unsigned
     * @return a new condition
     */
    public static SeccompCondition lessOrEqual(int argument, long value) {
        return new SeccompCondition(argument, Operator.LE, value, 0);
    }

    /**
     * The condition {@code arg >= value}.
     *
     * @param argument the argument index, 0..5
     * @param value the value compared with, unsigned
     * @return a new condition
     */
    public static SeccompCondition greaterOrEqual(int argument, long value) {
        return new SeccompCondition(argument, Operator.GE, value, 0);
    }

    /**
     * The condition {@code arg > value}.
     *
     * @param argument the argument index, 0..5
     * @param value the value compared with, unsigned
     * @return a new condition
     */
    public static SeccompCondition greaterThan(int argument, long value) {
        return new SeccompCondition(argument, Operator.GT, value, 0);
    }

    /**
     * The condition {@code (arg & mask) == value}, for testing flag bits.
     *
     * @param argument the argument index, 0..5
     * @param mask the bits of the argument compared
     * @param value the value the masked argument must equal
     * @return a new condition
     */
    public static SeccompCondition maskedEqual(int argument, long mask, long value) {
        return new SeccompCondition(argument, Operator.MASKED_EQ, value, mask);
    }

    /**
     * This condition as it must be compiled for a 32-bit argument, which the kernel truncates to
     * its low 32 bits: {@code ==} and {@code &} compare the low 32 bits only, so setting the
     * high bits of the register cannot slip past the rule. Other comparisons are unchanged
     * ({@link SeccompProfile#problems()} refuses the ones whose unchanged form could be slipped
     * past).
     *
     * @return the condition on the low 32 bits; this condition for the other comparisons
     */
    public SeccompCondition lowWord() {
        return switch (operator) {
            case EQ -> maskedEqual(argument, 0xffffffffL, value & 0xffffffffL);
            case MASKED_EQ -> maskedEqual(argument, mask & 0xffffffffL, value & mask & 0xffffffffL);
            default -> this;
        };
    }

    /**
     * Whether an argument satisfies this condition, compared the way the filter compares it:
     * unsigned, 64 bits.
     *
     * @param argument the full 64-bit argument register
     * @return {@code true} when the condition holds
     */
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
