package dev.stockade.cli;

import dev.stockade.CollectedOutputs;
import java.nio.file.Path;

/**
 * The lines {@code stockade run --collect} (and the Maven plugin) prints after collecting
 * outputs: one per file not collected ({@code stockade: not collected: out/link (a symbolic
 * link: ...)}), then the count ({@code stockade: collected 3 files (120 bytes) into DIR}).
 */
public final class CollectSummary {
    private CollectSummary() {}

    /**
     * The line for a file not collected.
     *
     * @param skipped an entry of {@link CollectedOutputs#skipped()}
     * @return the line, on one line, control characters escaped
     */
    public static String skippedLine(CollectedOutputs.Skipped skipped) {
        return "stockade: not collected: " + ErrorHandler.oneLine(skipped.path() + " ("
                + skipped.reason().description() + ": " + skipped.detail() + ")");
    }

    /**
     * The count of what was collected, and of what was not.
     *
     * @param result the collection
     * @param into where the files went
     * @return the line
     */
    public static String line(CollectedOutputs result, Path into) {
        StringBuilder line = new StringBuilder("stockade: collected ")
                .append(result.fileCount()).append(result.fileCount() == 1 ? " file (" : " files (")
                .append(result.byteCount()).append(result.byteCount() == 1 ? " byte" : " bytes")
                .append(") into ").append(into);
        if (result.skippedCount() > 0) {
            line.append("; ").append(result.skippedCount()).append(" not collected");
            if (result.skippedNotListed() > 0) {
                line.append(" (").append(result.skippedNotListed()).append(" not listed above)");
            }
        }
        return line.toString();
    }
}
