package example;

import example.generated.BuildInfo;

/** Prints what the sandboxed generator wrote. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.out.println(BuildInfo.NAME + ": " + BuildInfo.GREETING);
    }
}
