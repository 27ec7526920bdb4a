package dev.stockade;

/**
 * Child JVM of {@link TimeoutAndKillTest}: starts a sandboxed tree marked with {@code args[0]}
 * (a sleep and a daemonized grandchild), prints READY and waits to be killed.
 */
public final class SandboxHolderMain {
    private SandboxHolderMain() {}

    public static void main(String[] args) throws Exception {
        SandboxPolicy policy = SandboxPolicy.builder().env("MARK", args[0]).build();
        SandboxedProcess p = Sandbox.command("bash", "-c",
                "(setsid bash -c 'exec -a \"$MARK\" sleep 1000' &); exec -a \"$MARK\" sleep 1000")
                .policy(policy).start();
        System.out.println("READY");
        System.out.flush();
        p.waitFor();
        System.exit(3); // only reached if the sandbox ended without the JVM being killed
    }
}
