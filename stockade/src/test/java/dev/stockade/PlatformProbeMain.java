package dev.stockade;

/**
 * For PlatformSupportTest, in a JVM started with another os.name or os.arch: prints what
 * Sandbox.isSupported() and Sandbox.probe() say, and whether the classes that read the platform
 * initialize, one line each; any exception is printed as a line too.
 */
public final class PlatformProbeMain {
    private PlatformProbeMain() {}

    public static void main(String[] args) {
        System.out.println("supported=" + Sandbox.isSupported());
        try {
            for (ProbeReport.Feature f : Sandbox.probe().features()) {
                System.out.println("feature " + f.name() + " available=" + f.available() + ": "
                        + f.detail());
            }
        } catch (Throwable t) {
            System.out.println("probe threw " + t);
        }
        try {
            Class.forName("dev.stockade.internal.SafeFiles");
            System.out.println("SafeFiles initialized");
        } catch (Throwable t) {
            System.out.println("SafeFiles threw " + t);
        }
    }
}
