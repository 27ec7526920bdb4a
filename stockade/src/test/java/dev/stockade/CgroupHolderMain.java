package dev.stockade;

/**
 * Child JVM of {@link CgroupLimitsTest}: starts a sandbox with a memory bound (so it has
 * cgroups of its own), prints "READY <helper pid>" and waits to be killed.
 */
public final class CgroupHolderMain {
    private CgroupHolderMain() {}

    public static void main(String[] args) throws Exception {
        SandboxPolicy policy = SandboxPolicy.defaults().toBuilder()
                .limits(Limits.builder().memoryBytes(64L << 20).build()).build();
        SandboxedProcess p = Sandbox.command("/bin/sleep", "1000").policy(policy).start();
        System.out.println("READY " + p.pid());
        System.out.flush();
        p.waitFor();
        System.exit(3); // only reached if the sandbox ended without the JVM being killed
    }
}
