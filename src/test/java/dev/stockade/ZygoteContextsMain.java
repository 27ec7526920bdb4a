package dev.stockade;

import dev.stockade.testing.SandboxTesting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Child JVM of {@link HelperZygoteTest}, spawning from threads of two spawn contexts. Mode
 * {@code affinity}: a thread pinned to CPU 0 with nice 7 (taskset and renice of its tid) and
 * the main thread take turns; prints this JVM's own "cpus nice", then each sandbox command's,
 * then how many zygotes served them. Mode {@code rlimit}: the JVM's soft core limit is changed
 * (prlimit) and back; prints each sandbox command's, then the zygotes.
 */
public final class ZygoteContextsMain {
    private ZygoteContextsMain() {}

    public static void main(String[] args) throws Exception {
        if (args[0].equals("rlimit")) {
            rlimit();
        } else {
            affinity();
        }
        System.exit(0);
    }

    private static void rlimit() throws Exception {
        String[] limit = Files.readAllLines(Path.of("/proc/self/limits")).stream()
                .filter(l -> l.startsWith("Max core file size")).findFirst().orElseThrow()
                .split("\\s+");
        if (limit[5].equals("0")) {
            System.out.println("no soft core limit to change");
            return;
        }
        String old = limit[4].equals("unlimited") ? "unlimited" : limit[4];
        String changed = old.equals("0") ? "4096" : "0";
        System.out.println("core " + old + " -> " + changed);
        sandboxed("true");
        List<Long> first = zygotes();
        String jvm = Long.toString(ProcessHandle.current().pid());
        run("prlimit", "--pid", jvm, "--core=" + changed + ":");
        System.out.println("core " + helperCoreLimit());
        run("prlimit", "--pid", jvm, "--core=" + old + ":");
        System.out.println("core " + helperCoreLimit());
        List<Long> last = zygotes();
        System.out.println("zygotes " + last.size() + (last.containsAll(first)
                ? ", the first one serves again" : ": " + first + " then " + last));
    }

    private static void affinity() throws Exception {
        System.out.println("own " + Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow()
                .split("\\s+")[1] + " " + Files.readString(Path.of("/proc/self/stat"))
                .split(" ")[18]);
        ExecutorService pinned = Executors.newSingleThreadExecutor();
        pinned.submit(() -> {
            String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName()
                    .toString();
            run("taskset", "-p", "-c", "0", tid);
            run("renice", "-n", "7", "-p", tid);
            return null;
        }).get();
        System.out.println("main " + cpusAndNice());
        List<Long> first = null;
        for (int round = 0; round < 2; round++) {
            if (round == 1) {
                System.out.println("main " + cpusAndNice());
            }
            System.out.println("pinned " + pinned.submit(ZygoteContextsMain::cpusAndNice).get());
            if (first == null) {
                first = zygotes();
            }
        }
        List<Long> last = zygotes();
        System.out.println("zygotes " + last.size()
                + (last.equals(first) ? ", none started again" : ": " + first + " then " + last));
        pinned.shutdown();
        pinned.awaitTermination(60, TimeUnit.SECONDS);
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed");
        }
    }

    /** The sandboxed command's Cpus_allowed_list and nice value (field 19 of its stat). */
    private static String cpusAndNice() throws Exception {
        return sandboxed("echo $(grep Cpus_allowed_list /proc/self/status | cut -f2)"
                + " $(cut -d' ' -f19 /proc/self/stat)");
    }

    /** The soft core limit of a helper (the command's is the policy's). */
    private static String helperCoreLimit() throws Exception {
        try (SandboxedProcess p = Sandbox.command("/bin/sh", "-c", "read x")
                .policy(SandboxPolicy.defaults()).start()) {
            String limit = Files.readAllLines(Path.of("/proc/" + p.pid() + "/limits")).stream()
                    .filter(l -> l.startsWith("Max core file size")).findFirst().orElseThrow()
                    .split("\\s+")[4];
            p.getOutputStream().close();
            p.waitFor(60, TimeUnit.SECONDS);
            return limit;
        }
    }

    /** What {@code script} prints in a sandbox of the default policy, trimmed. */
    private static String sandboxed(String script) throws Exception {
        return SandboxTesting.run(SandboxPolicy.defaults(), "/bin/sh", "-c", script).stdout()
                .trim();
    }

    private static List<Long> zygotes() {
        return ProcessHandle.current().children().map(ProcessHandle::pid)
                .filter(pid -> comm(pid).equals("stockade-zygote")).sorted().toList();
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).trim();
        } catch (IOException e) {
            return "";
        }
    }
}
