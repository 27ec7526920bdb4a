package dev.stockade.internal.policy;

import dev.stockade.SeccompAction;
import dev.stockade.SeccompCondition;
import dev.stockade.SeccompRule;
import dev.stockade.internal.Errno;

/**
 * A profile in the policy language ({@code docs/policy-reference.md}), one rule a line with its
 * reason as a comment: what {@code SeccompProfile.toText()} returns, and what
 * {@link PolicyLoader} reads back to the same rules.
 */
public final class ProfileText {
    private ProfileText() {}

    /** The whole profile, headed by a comment with its name. */
    public static String render(ProfileRules profile) {
        StringBuilder sb = new StringBuilder();
        sb.append("# seccomp profile").append(profile.name() == null ? ""
                : " " + profile.name().replaceAll("\\p{Cntrl}", "?")).append('\n');
        sb.append("default ").append(show(profile.defaultAction())).append('\n');
        for (SeccompRule r : profile.rules()) {
            sb.append(r.syscall());
            String sep = " ";
            for (SeccompCondition c : r.conditions()) {
                sb.append(sep).append("arg").append(c.argument());
                String v = "0x" + Long.toHexString(c.value());
                switch (c.operator()) {
                    case MASKED_EQ -> sb.append(" & 0x").append(Long.toHexString(c.mask()))
                            .append(" == ").append(v);
                    case EQ -> sb.append(" == ").append(v);
                    case NE -> sb.append(" != ").append(v);
                    case LT -> sb.append(" < ").append(v);
                    case LE -> sb.append(" <= ").append(v);
                    case GT -> sb.append(" > ").append(v);
                    case GE -> sb.append(" >= ").append(v);
                }
                sep = " && ";
            }
            sb.append(" -> ").append(show(r.action()));
            if (r.reason() != null) {
                sb.append("  # ").append(r.reason());
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** An action as the profile language writes it. */
    public static String show(SeccompAction a) {
        return switch (a.kind()) {
            case ALLOW -> "allow";
            case ERRNO -> "errno(" + errnoName(a.errno()) + ")";
            case KILL_PROCESS -> "kill";
            case KILL_THREAD -> "kill_thread";
            case TRAP -> "trap";
            case LOG -> "log";
            case REPORT -> a.errno() == 1 ? "report"
                    : "report(" + (a.errno() == 0 ? "allow" : errnoName(a.errno())) + ")";
        };
    }

    private static String errnoName(int errno) {
        String name = Errno.name(errno);
        return name.startsWith("errno ") ? String.valueOf(errno) : name;
    }
}
