package dev.stockade.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds expected wire bytes in tests: hex literals and little-endian integers, in order. */
final class WireBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** Hex bytes, whitespace ignored: {@code hex("53 54 4b 44")}. */
    WireBytes hex(String hex) {
        String h = hex.replaceAll("\\s+", "");
        for (int i = 0; i < h.length(); i += 2) {
            out.write(Integer.parseInt(h.substring(i, i + 2), 16));
        }
        return this;
    }

    WireBytes ascii(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        out.write(b, 0, b.length);
        return this;
    }

    WireBytes u32(long v) {
        for (int i = 0; i < 4; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    WireBytes u64(long v) {
        for (int i = 0; i < 8; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
