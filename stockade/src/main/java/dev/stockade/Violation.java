package dev.stockade;

import dev.stockade.internal.Errno;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A system call that a {@code report} rule of the sandbox's {@link SeccompProfile} caught,
 * aggregated over the whole run: the sandbox's pid 1 answered every such call and counted it,
 * keeping the arguments of the first one.
 *
 * @param syscall the system call's name ({@code "ptrace"})
 * @param number its number on this architecture
 * @param errno the errno the calls got; 0 when the rule let them run ({@code report(allow)})
 * @param count how many times it was called
 * @param pid the pid, inside the sandbox, of the first caller
 * @param arguments the six argument registers of the first call
 * @param reason the reason of the rule that caught the first call (its comment in the profile
 *     file); may be {@code null}
 * @param profile the profile's name ({@code "build"}); may be {@code null}
 */
public record Violation(String syscall, int number, int errno, long count, int pid,
        List<Long> arguments, String reason, String profile) {

    /**
     * A caught system call; {@code arguments} is copied.
     *
     * @param syscall the system call's name
     * @param number its number on this architecture
     * @param errno the errno the calls got, or 0
     * @param count how many times it was called
     * @param pid the pid, inside the sandbox, of the first caller
     * @param arguments the six argument registers of the first call
     * @param reason the reason of the rule that caught the first call, or {@code null}
     * @param profile the profile's name, or {@code null}
     * @throws IllegalArgumentException when {@code arguments} does not hold exactly six values
     */
    public Violation {
        Objects.requireNonNull(syscall, "syscall");
        arguments = List.copyOf(arguments);
        if (arguments.size() != 6) {
            throw new IllegalArgumentException("a system call has 6 argument registers, got "
                    + arguments.size());
        }
    }

    /**
     * {@return whether the calls were denied} {@code false} when they were recorded and let
     * through ({@link #errno()} 0).
     */
    public boolean denied() {
        return errno != 0;
    }

    /**
     * The symbolic name of {@link #errno()} ({@code "EPERM"}; {@code "errno N"} for a number
     * without one); empty when the calls were let through.
     *
     * @return the errno's name, or empty when {@link #denied()} is {@code false}
     */
    public Optional<String> errnoName() {
        return denied() ? Optional.of(Errno.name(errno)) : Optional.empty();
    }
}
