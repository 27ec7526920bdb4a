package dev.stockade;

import dev.stockade.testing.SandboxTesting;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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
 * (prlimit) and back; prints each sandbox command's, then the zygotes. Mode {@code taint}: the
 * pinned thread's zygote is tainted (its helper killed by SIGSEGV) while a spawn of the main
 * context holds the zygotes' lock (its zygote stopped); prints whether the tainted zygote is
 * left after that spawn, then after the next spawn of the main context. Mode {@code unreadable}:
 * run where a tmpfs is mounted over this JVM's {@code /proc/PID/task} (so no thread's
 * {@code /proc/thread-self} resolves); prints two sandboxes' output (no pid namespace), then
 * how many zygotes are left once they ended.
 */
public final class ZygoteContextsMain {
    private ZygoteContextsMain() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "rlimit" -> rlimit();
            case "taint" -> taint();
            case "unreadable" -> unreadable();
            default -> affinity();
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
        List<Long> first = SandboxTesting.zygotes();
        String jvm = Long.toString(ProcessHandle.current().pid());
        run("prlimit", "--pid", jvm, "--core=" + changed + ":");
        System.out.println("core " + helperCoreLimit());
        run("prlimit", "--pid", jvm, "--core=" + old + ":");
        System.out.println("core " + helperCoreLimit());
        List<Long> last = SandboxTesting.zygotes();
        System.out.println("zygotes " + last.size() + (last.containsAll(first)
                ? ", the first one serves again" : ": " + first + " then " + last));
    }

    private static void affinity() throws Exception {
        System.out.println("own " + Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow()
                .split("\\s+")[1] + " " + Files.readString(Path.of("/proc/self/stat"))
                .split(" ")[18]);
        ExecutorService pinned = pinnedThread();
        System.out.println("main " + cpusAndNice());
        List<Long> first = null;
        for (int round = 0; round < 2; round++) {
            if (round == 1) {
                System.out.println("main " + cpusAndNice());
            }
            System.out.println("pinned " + pinned.submit(ZygoteContextsMain::cpusAndNice).get());
            if (first == null) {
                first = SandboxTesting.zygotes();
            }
        }
        List<Long> last = SandboxTesting.zygotes();
        System.out.println("zygotes " + last.size()
                + (last.equals(first) ? ", none started again" : ": " + first + " then " + last));
        pinned.shutdown();
        pinned.awaitTermination(60, TimeUnit.SECONDS);
    }

    /** A thread of a spawn context of its own: pinned to CPU 0, nice 7. */
    private static ExecutorService pinnedThread() throws Exception {
        ExecutorService pinned = Executors.newSingleThreadExecutor();
        pinned.submit(() -> {
            String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName()
                    .toString();
            run("taskset", "-p", "-c", "0", tid);
            run("renice", "-n", "7", "-p", tid);
            return null;
        }).get();
        return pinned;
    }

    private static void taint() throws Exception {
        sandboxed("true");
        List<Long> main = SandboxTesting.zygotes();
        ExecutorService pinned = pinnedThread();
        pinned.submit(() -> sandboxed("true")).get();
        List<Long> both = SandboxTesting.zygotes();
        Long tainted = both.stream().filter(z -> !main.contains(z)).findFirst().orElseThrow();
        // Started before the lock is held: a start needs it.
        SandboxedProcess crashing = pinned.submit(() -> Sandbox.command("/bin/sh", "-c",
                "read x").policy(SandboxPolicy.defaults()).start()).get();
        run("kill", "-STOP", main.get(0).toString());
        // A thread of the main context (made by it, so of its affinity and nice) waits in the
        // lock for the stopped zygote's answer.
        ExecutorService waiting = Executors.newSingleThreadExecutor();
        var blocked = waiting.submit(() -> sandboxed("exit 0"));
        while (!SandboxTesting.threadWaitsForZygoteAnswer()) {
            Thread.sleep(10);
        }
        run("kill", "-SEGV", Long.toString(crashing.pid()));
        // Its status is taken, and the zygote tainted, before waitFor returns.
        crashing.waitFor(60, TimeUnit.SECONDS);
        crashing.close();
        run("kill", "-CONT", main.get(0).toString());
        blocked.get(60, TimeUnit.SECONDS);
        System.out.println("after the waiting spawn: "
                + (SandboxTesting.isZygote(tainted) ? "left" : "gone"));
        sandboxed("true");
        for (int i = 0; i < 500 && SandboxTesting.isZygote(tainted); i++) {
            Thread.sleep(20); // it is ended on a reaper thread
        }
        System.out.println("after the next spawn: "
                + (SandboxTesting.isZygote(tainted) ? "left" : "gone"));
        pinned.shutdown();
        waiting.shutdown();
    }

    private static void unreadable() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Files.exists(Path.of("/proc/thread-self/ns/mnt"), LinkOption.NOFOLLOW_LINKS)) {
            if (System.nanoTime() > deadline) {
                System.out.println("/proc/thread-self stays readable");
                return;
            }
            Thread.sleep(10);
        }
        System.out.println("thread-self unreadable");
        // No pid namespace: the kernel mounts no new proc where part of the host's is covered.
        SandboxPolicy noPidNamespace = SandboxPolicy.builder().disable(Namespace.PID).build();
        System.out.println(SandboxTesting.run(noPidNamespace, "echo", "one").stdout().trim()
                + " " + SandboxTesting.run(noPidNamespace, "echo", "two").stdout().trim());
        for (int i = 0; i < 500 && !SandboxTesting.zygotes().isEmpty(); i++) {
            Thread.sleep(20); // they are ended on a reaper thread
        }
        System.out.println("zygotes " + SandboxTesting.zygotes().size());
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
}
