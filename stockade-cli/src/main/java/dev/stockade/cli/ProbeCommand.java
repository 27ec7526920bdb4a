package dev.stockade.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.stockade.ProbeReport;
import dev.stockade.Sandbox;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code stockade probe}: what this kernel and user allow, as {@link Sandbox#probe()} finds
 * it, and whether the default policy can run here (exit 0) or not (exit 1).
 */
@Command(
        name = "probe",
        customSynopsis = "stockade probe [--json]",
        description = "Shows which sandbox features this kernel and user allow.",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "0:the default policy can run here",
            "1:it cannot (see the features marked 'no'), or probing failed"
        })
final class ProbeCommand implements Callable<Integer> {

    static final int EXIT_CANNOT_RUN = 1;

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        ProbeReport report;
        try {
            report = Sandbox.probe();
        } catch (IOException | RuntimeException e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("stockade: probe failed: " + ErrorHandler.oneLine(String.valueOf(e.getMessage())));
            err.flush();
            return EXIT_CANNOT_RUN;
        }
        if (json) {
            out.println(toJson(report));
        } else {
            out.print(table(report));
        }
        out.flush();
        return report.canRunDefaultPolicy() ? 0 : EXIT_CANNOT_RUN;
    }

    static String toJson(ProbeReport report) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("canRunDefaultPolicy", report.canRunDefaultPolicy());
        List<Map<String, Object>> features = new ArrayList<>();
        for (ProbeReport.Feature feature : report.features()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", feature.name());
            entry.put("available", feature.available());
            entry.put("detail", feature.detail());
            features.add(entry);
        }
        root.put("features", features);
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root);
    }

    /** Three left-aligned columns sized to their widest cell, then the verdict. */
    static String table(ProbeReport report) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"FEATURE", "AVAILABLE", "DETAIL"});
        for (ProbeReport.Feature feature : report.features()) {
            rows.add(new String[] {feature.name(), feature.available() ? "yes" : "no",
                feature.detail() == null ? "" : feature.detail()});
        }
        int nameWidth = rows.stream().mapToInt(r -> r[0].length()).max().orElse(0);
        int availableWidth = rows.stream().mapToInt(r -> r[1].length()).max().orElse(0);
        StringBuilder text = new StringBuilder();
        for (String[] row : rows) {
            String line = String.format("%-" + nameWidth + "s  %-" + availableWidth + "s  %s",
                    row[0], row[1], row[2]);
            text.append(line.stripTrailing()).append('\n');
        }
        text.append('\n').append(report.canRunDefaultPolicy()
                ? "The default policy can run on this machine.\n"
                : "The default policy cannot run on this machine.\n");
        return text.toString();
    }
}
