package dev.stockade.internal;

/**
 * How long a string is on the wire (its UTF-8 bytes, the way {@link SpecEncoder} writes it), and
 * the one wording for a string past its protocol bound: the policy's checks and
 * {@link SpecResolver} report every such bound with it.
 */
public final class WireStrings {
    private WireStrings() {}

    /**
     * The number of UTF-8 bytes of {@code s}, counted without encoding it. A lone surrogate
     * counts as the one byte {@code '?'} the encoder writes for it.
     */
    public static long utf8Length(String s) {
        long bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                bytes += 1;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /**
     * Whether {@code s} fits in {@code maxBytes} on the wire. A string of at most a third of
     * the bound in chars always fits (no char takes more than three bytes), so the common case
     * costs no counting.
     */
    public static boolean fits(String s, int maxBytes) {
        return s.length() * 3L <= maxBytes || utf8Length(s) <= maxBytes;
    }

    /** "{@code what} is N bytes long, at most {@code maxBytes}". */
    public static String tooLong(String what, String s, int maxBytes) {
        return what + " is " + utf8Length(s) + " bytes long, at most " + maxBytes;
    }
}
