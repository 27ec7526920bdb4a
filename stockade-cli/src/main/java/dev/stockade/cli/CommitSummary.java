package dev.stockade.cli;

import dev.stockade.CommitResult;
import java.util.Locale;

/**
 * The line {@code stockade run --transactional} (and the Maven plugin) prints for each change a
 * transactional workspace's commit left out: {@code stockade: not carried to the workspace:
 * out/fifo (special_file)}.
 */
public final class CommitSummary {
    private CommitSummary() {}

    /**
     * The line for one change left out.
     *
     * @param skipped an entry of {@link CommitResult#skipped()}
     * @return the line; the path on one line, control characters escaped
     */
    public static String line(CommitResult.Skipped skipped) {
        return "stockade: not carried to the workspace: " + ErrorHandler.oneLine(skipped.path())
                + " (" + skipped.reason().toString().toLowerCase(Locale.ROOT) + ")";
    }
}
