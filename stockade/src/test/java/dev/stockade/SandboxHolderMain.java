package dev.stockade;

/**
 * Child JVM of {@link TimeoutAndKillTest}: starts a sandboxed tree (a sleep and a daemonized
 * grandchild) marked with the value of {@code STOCKADE_TEST_MARK}, prints READY and waits to be
 * killed.
 */
public final class SandboxHolderMain {
    private SandboxHolderMain() {}

    public static void main(String[] args) throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder()
                .env("MARK", System.getenv("STOCKADE_TEST_MARK")).build();
        SandboxedProcess p = Sandbox.command("bash", "-c",
                "(setsid bash -c 'exec -a \"$MARK\" sleep 1000' &); exec -a \"$MARK\" sleep 1000")
                .policy(policy).start();
        System.out.println("READY");
        System.out.flush();
        p.waitFor();
        System.exit(3); // only reached if the sandbox ended without the JVM being killed
    }
}
