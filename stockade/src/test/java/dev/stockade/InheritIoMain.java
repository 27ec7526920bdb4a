package dev.stockade;

/**
 * Child JVM of {@link SandboxStreamsTest}: runs a sandboxed command that inherits this JVM's
 * stdin, stdout and stderr, and exits with the command's exit code.
 */
public final class InheritIoMain {
    private InheritIoMain() {}

    public static void main(String[] args) throws Exception {
        SandboxedProcess p = Sandbox.command("/bin/sh", "-c",
                "read line; echo \"out:$line\"; echo \"err:$line\" >&2; exit 7").inheritIO()
                .start();
        System.exit(p.waitFor());
    }
}
