package demo;

/** The one class of the offline Maven build OverlayTest runs inside a sandbox. */
public final class Hello {
    private Hello() {}

    public static void main(String[] args) {
        System.out.println("hello from the sandbox");
    }
}
