package dev.stockade.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** The streams a process has for a redirected (non-PIPE) stdin, stdout or stderr. */
public final class NullStreams {
    private NullStreams() {}

    /** Always at end of stream. */
    public static InputStream input() {
        return new InputStream() {
            @Override
            public int read() {
                return -1;
            }

            @Override
            public int available() {
                return 0;
            }
        };
    }

    /** Every write fails: the command's stdin is not a pipe to this process. */
    public static OutputStream output() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Stream closed");
            }
        };
    }
}
