package dev.stockade.internal;

import dev.stockade.SetupStep;
import dev.stockade.SetupTimings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The set-up progress page's timings (stockade.h, {@code STK_PROGRESS_*}): the one place that
 * knows its layout. The Java side stamps the page right before it asks the zygote for the
 * helper (the helper's fork and start is step {@code helper}); the helper, pid 1 and the command's process then add
 * each step's time as set-up leaves it; the page is read when the command runs.
 */
public final class ProgressPage {
    private ProgressPage() {}

    /**
     * What the page holds at one moment: each step's summed time and the steps in the order
     * they were first entered.
     *
     * @param times ns per step value ({@link Protocol#PROGRESS_STEP_SLOTS} of them)
     * @param order step values, in first-entry order
     */
    public record Snapshot(long[] times, int[] order) {
        public Snapshot {
            times = times.clone();
            order = order.clone();
        }

        /** The steps in first-entry order with their times; values no step has are left out. */
        public List<SetupTimings.Step> steps() {
            return since(new Snapshot(new long[Protocol.PROGRESS_STEP_SLOTS], new int[0]));
        }

        /**
         * What happened after {@code earlier} (a snapshot of the same page): the steps first
         * entered since, and the earlier ones that took more time since, with the time since.
         */
        public List<SetupTimings.Step> since(Snapshot earlier) {
            List<SetupTimings.Step> steps = new ArrayList<>(order.length);
            for (int i = 0; i < order.length; i++) {
                int code = order[i];
                long time = times[code] - earlier.times[code];
                Optional<SetupStep> step = SetupStep.ofCode(code);
                if (step.isPresent() && (i >= earlier.order.length || time > 0)) {
                    steps.add(new SetupTimings.Step(step.get(), Duration.ofNanos(time)));
                }
            }
            return steps;
        }
    }

    /**
     * What the JVM measured of a cold start it was asked to time.
     *
     * @param startNanos {@link System#nanoTime()} at {@code start()}'s entry
     * @param resolveNanos the time spent resolving and encoding the spec (step {@code resolve})
     */
    public record Measured(long startNanos, long resolveNanos) {
        /**
         * The timings of a cold start: {@code resolve}, then the page's steps ({@code helper}
         * first), {@code total} up to {@code now} (when the JVM read STARTED and the page).
         */
        public SetupTimings cold(Snapshot page, long now) {
            List<SetupTimings.Step> steps = new ArrayList<>();
            steps.add(new SetupTimings.Step(SetupStep.RESOLVE, Duration.ofNanos(resolveNanos)));
            steps.addAll(page.steps());
            return new SetupTimings(false, steps, List.of(), Duration.ofNanos(now - startNanos));
        }

        /**
         * The timings of a warm start: {@code resolve} (the command's part only), then what the
         * page gained since {@code ready} (its READY snapshot: the pool's set-up, reported as
         * {@code prewarm}), {@code total} up to {@code now}.
         */
        public SetupTimings warm(Snapshot ready, Snapshot page, long now) {
            List<SetupTimings.Step> steps = new ArrayList<>();
            steps.add(new SetupTimings.Step(SetupStep.RESOLVE, Duration.ofNanos(resolveNanos)));
            steps.addAll(page.since(ready));
            return new SetupTimings(true, steps, ready.steps(),
                    Duration.ofNanos(now - startNanos));
        }
    }

    /**
     * A fresh page's contents as the Java side leaves it right before the spawn: in step
     * {@code helper} since {@code now} ({@link System#nanoTime()}, CLOCK_MONOTONIC on Linux),
     * which is the first step entered.
     */
    public static byte[] stamped(long now) {
        ByteBuffer page = ByteBuffer.allocate(Protocol.PROGRESS_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        page.putInt(Protocol.PROGRESS_STEP_OFFSET, SetupStep.HELPER.code());
        page.putLong(Protocol.PROGRESS_CLOCK_OFFSET, now);
        page.putInt(Protocol.PROGRESS_ORDER_COUNT_OFFSET, 1);
        page.put(Protocol.PROGRESS_ORDER_OFFSET, (byte) SetupStep.HELPER.code());
        return page.array();
    }

    /** Stamps the page at {@code fd} (a fresh one) as {@link #stamped} says, now. */
    public static void stamp(int fd) throws IOException {
        NativeBridge.pwrite(fd, stamped(System.nanoTime()), 0);
    }

    /** Reads the page at {@code fd} in one {@code pread} and decodes it. */
    public static Snapshot read(int fd) throws IOException {
        byte[] page = new byte[Protocol.PROGRESS_SIZE];
        int n = NativeBridge.pread(fd, page, 0);
        if (n != page.length) {
            throw new IOException("pread of the progress page: " + n + " of " + page.length
                    + " bytes");
        }
        return decode(page);
    }

    /**
     * Decodes a page; an order count past the slots (the page is the helper's to write) is
     * cut to them, and an entry past them is dropped.
     */
    public static Snapshot decode(byte[] bytes) {
        if (bytes.length < Protocol.PROGRESS_SIZE) {
            throw new IllegalArgumentException("a progress page is " + Protocol.PROGRESS_SIZE
                    + " bytes, not " + bytes.length);
        }
        ByteBuffer page = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long[] times = new long[Protocol.PROGRESS_STEP_SLOTS];
        for (int i = 0; i < times.length; i++) {
            times[i] = page.getLong(Protocol.PROGRESS_TIMES_OFFSET + 8 * i);
        }
        long count = Math.min(Integer.toUnsignedLong(page.getInt(
                Protocol.PROGRESS_ORDER_COUNT_OFFSET)), Protocol.PROGRESS_STEP_SLOTS);
        int[] order = new int[(int) count];
        int kept = 0;
        for (int i = 0; i < count; i++) {
            int code = Byte.toUnsignedInt(page.get(Protocol.PROGRESS_ORDER_OFFSET + i));
            if (code < Protocol.PROGRESS_STEP_SLOTS) {
                order[kept++] = code;
            }
        }
        return new Snapshot(times, java.util.Arrays.copyOf(order, kept));
    }
}
