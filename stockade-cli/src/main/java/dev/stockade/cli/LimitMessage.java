package dev.stockade.cli;

import dev.stockade.LimitHit;
import dev.stockade.Limits;
import dev.stockade.SandboxPolicy;
import dev.stockade.SandboxResult;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The line {@code stockade run} prints when a limit ended the command or refused it something:
 * {@code stockade: killed: memory limit 256 MiB reached}, or without the kill when the command
 * ran on ({@code stockade: process limit 64 reached: a fork was refused}). A timeout has its
 * own line ({@code stockade: timed out after 1s}), printed by the run command.
 */
public final class LimitMessage {
    private LimitMessage() {}

    /**
     * The line for {@code result}'s limit hit.
     *
     * @param result how the command ended
     * @param policy the policy it ran under (for the limit's value)
     * @return {@code "stockade: "} and {@link #describe}, empty when that is
     */
    public static Optional<String> line(SandboxResult result, SandboxPolicy policy) {
        return describe(result, policy).map(d -> "stockade: " + d);
    }

    /**
     * What {@code result}'s limit hit did, without the line's prefix: {@code killed: memory
     * limit 256 MiB reached}, or the limit and what the command met when it ran on.
     *
     * @param result how the command ended
     * @param policy the policy it ran under (for the limit's value)
     * @return the description, empty when no limit was hit or the limit was the wall time (a
     *     timeout has its own line)
     */
    public static Optional<String> describe(SandboxResult result, SandboxPolicy policy) {
        Optional<LimitHit> hit = result.limitHit();
        if (hit.isEmpty() || hit.get() == LimitHit.WALL_TIME) {
            return Optional.empty();
        }
        String value = value(hit.get(), policy).map(v -> " " + v).orElse("");
        String limit = hit.get().description() + value + " reached";
        if (result.signal() != 0) {
            return Optional.of("killed: " + limit);
        }
        return Optional.of(limit + ": " + consequence(hit.get()));
    }

    /** What the command met when a limit it ran into did not end it. */
    private static String consequence(LimitHit hit) {
        return switch (hit) {
            case MEMORY -> "a process of the sandbox was killed for memory";
            case PROCESSES -> "a fork was refused";
            case DISK -> "writes were refused (ENOSPC)";
            case OUTPUT -> "the rest of the output was dropped";
            default -> "the command went on";
        };
    }

    /** The limit's value as the policy set it, for the message. */
    private static Optional<String> value(LimitHit hit, SandboxPolicy policy) {
        Limits l = policy.limits();
        return switch (hit) {
            case MEMORY -> size(l.memoryBytes());
            case CPU_TIME -> seconds(l.cpuTimeSeconds());
            case FILE_SIZE -> size(l.fileSizeBytes());
            case PROCESSES -> count(l.processes());
            case DISK -> size(OptionalLong.of(policy.workspaceQuotaBytes()));
            case OUTPUT -> size(policy.maxOutputBytes());
            default -> Optional.empty();
        };
    }

    private static Optional<String> size(OptionalLong bytes) {
        return bytes.isPresent() ? Optional.of(SizeParser.format(bytes.getAsLong()))
                : Optional.empty();
    }

    private static Optional<String> seconds(OptionalLong s) {
        return s.isPresent() ? Optional.of(s.getAsLong() + "s") : Optional.empty();
    }

    private static Optional<String> count(OptionalLong n) {
        return n.isPresent() ? Optional.of(Long.toString(n.getAsLong())) : Optional.empty();
    }
}
