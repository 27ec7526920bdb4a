package dev.stockade.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How much of the machine one spawn at a time already uses: {@code rounds} spawns of
 * {@code /bin/true} one after the other per policy, with the whole machine's busy CPU time
 * ({@code /proc/stat}: every CPU, every process and kernel thread, the JVM's own threads and
 * the kernel's deferred namespace teardown included) over the same wall time. With c cores
 * and b cores busy at one thread, more threads can give at most c / b times the spawns per
 * second, however well the spawn scales: what the throughput goal is measured against. Written
 * as JSON for the renderer ({@code SpawnCpu OUT.json [ROUNDS]}).
 */
public final class SpawnCpu {
    private SpawnCpu() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("rounds", rounds).put("cores", Runtime.getRuntime().availableProcessors())
                .put("ticksPerSecond", TICKS_PER_SECOND);
        measure(root.putObject("defaultPolicy"), SandboxPolicy.defaults(), rounds);
        measure(root.putObject("hostNetwork"), Spawns.hostNetwork(), rounds);
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(out.toFile(), root);
    }

    /** USER_HZ, the unit of /proc/stat: 100 on every Linux architecture the library supports. */
    private static final int TICKS_PER_SECOND = 100;

    private static void measure(ObjectNode into, SandboxPolicy policy, int rounds)
            throws Exception {
        for (int i = 0; i < rounds / 5; i++) {
            spawn(policy); // warm-up: the JIT and the page cache
        }
        long before = busyTicks();
        long start = System.nanoTime();
        for (int i = 0; i < rounds; i++) {
            spawn(policy);
        }
        long wallNs = System.nanoTime() - start;
        double cpuNs = (busyTicks() - before) * 1e9 / TICKS_PER_SECOND;
        into.put("wallUsPerSpawn", wallNs / 1e3 / rounds)
                .put("cpuUsPerSpawn", cpuNs / 1e3 / rounds)
                .put("busyCores", cpuNs / wallNs);
    }

    private static void spawn(SandboxPolicy policy) throws IOException, InterruptedException {
        Spawns.requireSuccess(List.of(Spawns.TRUE),
                Sandbox.command(Spawns.TRUE).policy(policy).start().waitFor());
    }

    /**
     * The "cpu" line of /proc/stat, all CPUs: user, nice, system, irq and softirq ticks (guest
     * time is inside user already). Not idle, iowait, or steal: time the hypervisor gave to
     * others is not this machine's work.
     */
    private static long busyTicks() throws IOException {
        String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
        String[] f = line.trim().split("\\s+");
        if (!f[0].equals("cpu") || f.length < 8) {
            throw new IOException("/proc/stat does not start with the cpu line: " + line);
        }
        long busy = 0;
        for (int i : new int[] {1, 2, 3, 6, 7}) {
            busy += Long.parseLong(f[i]);
        }
        return busy;
    }
}
