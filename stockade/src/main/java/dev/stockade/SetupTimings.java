package dev.stockade;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the time of one sandbox's start went, step by step: asked for with
 * {@link SandboxBuilder#measureSetup(boolean)}, read from {@link SandboxResult#setupTimings()}.
 * The steps are the {@link SetupStep}s an error would name (the spec's resolution in the JVM,
 * the helper's start, the clone with its namespaces, each kind of mount, the network
 * namespace, the capability drop, the command's fork, the filter, the execve), in the order
 * set-up first entered them; a step entered more than once (one {@code bind} per mount) is
 * listed once with its time summed. The helper, pid 1 and the command's process take the times
 * with the monotonic clock the JVM's {@link System#nanoTime()} reads.
 *
 * <p>For a warm sandbox ({@link SandboxPool}), {@link #steps()} holds what ran after
 * {@code start()} was called and {@link #prewarm()} what the pool did ahead of time; for a cold
 * one {@code prewarm()} is empty.
 *
 * @param warm whether the command ran in a sandbox its pool had set up ahead of time
 * @param steps the steps between {@code start()} and the command's successful {@code execve}
 * @param prewarm the steps of a warm sandbox's set-up, done before {@code start()}
 * @param total from {@code start()} until the JVM read the report that the command runs; at
 *     least the sum of {@code steps()} (the rest is the report's way back to the JVM)
 */
public record SetupTimings(boolean warm, List<Step> steps, List<Step> prewarm, Duration total) {

    /**
     * One step and the time spent in it.
     *
     * @param step the step
     * @param time the time spent in it, summed over every time it was entered
     */
    public record Step(SetupStep step, Duration time) {
        /**
         * A step's time; neither may be {@code null}.
         *
         * @param step the step
         * @param time the time spent in it
         */
        public Step {
            Objects.requireNonNull(step, "step");
            Objects.requireNonNull(time, "time");
        }
    }

    /**
     * Timings; the lists are copied.
     *
     * @param warm whether the command ran in a warm sandbox
     * @param steps the steps after {@code start()}, in the order first entered
     * @param prewarm the steps done before {@code start()}; empty for a cold sandbox
     * @param total from {@code start()} until the JVM read that the command runs
     */
    public SetupTimings {
        steps = List.copyOf(steps);
        prewarm = List.copyOf(prewarm);
        Objects.requireNonNull(total, "total");
    }

    /**
     * The time spent in {@code step} after {@code start()}, empty when it did not run then.
     *
     * @param step the step
     * @return its time in {@link #steps()}
     */
    public Optional<Duration> timeOf(SetupStep step) {
        return steps.stream().filter(s -> s.step() == step).map(Step::time).findFirst();
    }
}
