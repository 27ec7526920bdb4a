package dev.stockade.internal.oci;

/**
 * Run in a JVM whose class path lacks Jackson: tries an OCI import and an export and prints
 * what each threw, one line each.
 */
public final class WithoutJacksonMain {
    private WithoutJacksonMain() {}

    public static void main(String[] args) {
        try {
            dev.stockade.SeccompProfile.importOci("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}",
                    "p.json");
            System.out.println("read: no exception");
        } catch (RuntimeException e) {
            System.out.println("read: " + e.getClass().getName() + ": " + e.getMessage());
        }
        try {
            dev.stockade.SeccompProfile.fromOci("{}");
            System.out.println("fromOci: no exception");
        } catch (RuntimeException e) {
            System.out.println("fromOci: " + e.getClass().getName() + ": " + e.getMessage());
        }
        try {
            dev.stockade.SeccompProfile.builder().build().toOci();
            System.out.println("write: no exception");
        } catch (RuntimeException e) {
            System.out.println("write: " + e.getClass().getName() + ": " + e.getMessage());
        }
    }
}
