package dev.stockade;

import java.util.concurrent.TimeUnit;

/**
 * Child JVM of {@link HelperZygoteTest}: a thread starts the zygote with a first sandbox that
 * outlives the thread; then the main thread runs a second one. Prints both exit codes.
 */
public final class ZygoteStarterMain {
    private ZygoteStarterMain() {}

    public static void main(String[] args) throws Exception {
        SandboxedProcess[] first = new SandboxedProcess[1];
        Thread starter = new Thread(() -> {
            try {
                first[0] = Sandbox.command("/bin/sh", "-c", "sleep 1")
                        .policy(SandboxPolicy.defaults()).start();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        starter.start();
        starter.join();
        SandboxedProcess second = Sandbox.command("/bin/sh", "-c", "sleep 0.2; exit 7")
                .policy(SandboxPolicy.defaults()).start();
        first[0].waitFor(120, TimeUnit.SECONDS);
        second.waitFor(120, TimeUnit.SECONDS);
        System.out.println("EXITS " + first[0].exitValue() + " " + second.exitValue());
        System.exit(0);
    }
}
