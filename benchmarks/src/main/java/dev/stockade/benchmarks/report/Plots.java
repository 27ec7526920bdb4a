package dev.stockade.benchmarks.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The PNG plots of the report, written under the docs' plot directory; each returns its name. */
final class Plots {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 450;

    private final Path dir;

    Plots(Path dir) {
        this.dir = dir;
        System.setProperty("java.awt.headless", "true");
    }

    String percentiles(String file, String title, Map<String, double[]> byMode) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        String[] names = {"p50", "p90", "p99"};
        for (Map.Entry<String, double[]> e : byMode.entrySet()) {
            for (int i = 0; i < names.length; i++) {
                data.addValue(e.getValue()[i], names[i], e.getKey());
            }
        }
        return save(file, ChartFactory.createBarChart(title, "mode", "us", data,
                PlotOrientation.HORIZONTAL, true, false, false));
    }

    /** The cumulative distribution of every sample, one line per mode, latency on a log axis. */
    String distribution(String file, String title, List<Results.Row> rows) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Results.Row r : rows) {
            List<double[]> h = new java.util.ArrayList<>(r.histogram());
            if (h.isEmpty()) {
                continue;
            }
            h.sort((a, b) -> Double.compare(a[0], b[0]));
            double total = h.stream().mapToDouble(p -> p[1]).sum();
            XYSeries s = new XYSeries(r.method());
            double seen = 0;
            for (double[] p : h) {
                seen += p[1];
                s.add(Math.max(p[0], 1), seen / total * 100);
            }
            data.addSeries(s);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, "latency (us, log)",
                "% of spawns at or below", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        LogarithmicAxis axis = new LogarithmicAxis("latency (us, log)");
        axis.setAllowNegativesFlag(false);
        plot.setDomainAxis(axis);
        return save(file, chart);
    }

    String ratios(String file, String title, Map<String, Double> ratios) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        ratios.forEach((mode, x) -> data.addValue(x, "ratio", mode));
        return save(file, ChartFactory.createBarChart(title, "mode", "× ProcessBuilder", data,
                PlotOrientation.HORIZONTAL, false, false, false));
    }

    String throughput(String file, String title, Map<String, Map<Integer, Double>> series)
            throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        series.forEach((policy, byThreads) -> {
            XYSeries s = new XYSeries(policy);
            byThreads.forEach(s::add);
            data.addSeries(s);
        });
        return save(file, ChartFactory.createXYLineChart(title, "threads", "spawns/s", data,
                PlotOrientation.VERTICAL, true, false, false));
    }

    private String save(String file, JFreeChart chart) throws IOException {
        ChartUtils.saveChartAsPNG(dir.resolve(file).toFile(), chart, WIDTH, HEIGHT);
        return file;
    }
}
