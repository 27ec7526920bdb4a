package dev.stockade;

import dev.stockade.internal.DescriptorSet;
import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NativeLoadException;
import dev.stockade.internal.NativeLoader;
import dev.stockade.internal.Platform;
import dev.stockade.internal.PipeInputStream;
import dev.stockade.internal.WaitStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/** Runs {@code stockade-helper probe} (stdout and stderr to pipes) and parses its report. */
final class ProbeRunner {
    private ProbeRunner() {}

    private static final int O_RDONLY = 0;

    /**
     * The whole probe; on a platform without natives, or where they cannot be loaded, a report
     * of one unavailable feature ({@link ProbeReport#PLATFORM}, {@link ProbeReport#NATIVES})
     * whose detail says why, instead of an exception.
     */
    static ProbeReport run() throws IOException {
        String unsupported = Platform.unsupportedReason();
        if (unsupported != null) {
            return ProbeReport.unavailable(ProbeReport.PLATFORM, unsupported);
        }
        try {
            NativeLoader.ensureLoaded();
        } catch (NativeLoadException e) {
            return ProbeReport.unavailable(ProbeReport.NATIVES, e.getMessage());
        }
        return run(new String[] {"stockade-helper", "probe"});
    }

    /** {@code stockade-helper probe cgroup}: the cgroup lines only. */
    static ProbeReport runCgroup() throws IOException {
        return run(new String[] {"stockade-helper", "probe", "cgroup"});
    }

    /** {@code stockade-helper probe seccomp}: the seccomp lines only. */
    static ProbeReport runSeccomp() throws IOException {
        return run(new String[] {"stockade-helper", "probe", "seccomp"});
    }

    private static ProbeReport run(String[] argv) throws IOException {
        NativeLoader.ensureLoaded();
        String helper = NativeLoader.helperExecutable();
        int devNull = NativeBridge.open("/dev/null", O_RDONLY, 0);
        int[] out = null;
        int[] err = null;
        int[] spawned;
        try {
            out = NativeBridge.pipe();
            err = NativeBridge.pipe();
            // The probe reads nothing and closes fds above 2 at once: /dev/null stands in for
            // both stdin and the control socket.
            spawned = NativeBridge.spawn(helper, argv,
                    devNull, out[1], err[1], devNull, -1);
        } catch (IOException | RuntimeException e) {
            closeAll(out, err);
            throw e;
        } finally {
            DescriptorSet.closeQuietly(devNull);
        }
        DescriptorSet.closeQuietly(out[1]);
        DescriptorSet.closeQuietly(err[1]);
        String stdout;
        String stderr;
        int status;
        try (PipeInputStream o = new PipeInputStream(out[0]);
                PipeInputStream e = new PipeInputStream(err[0])) {
            CompletableFuture<byte[]> errBytes = CompletableFuture.supplyAsync(() -> {
                try {
                    return e.readAllBytes();
                } catch (IOException x) {
                    return new byte[0];
                }
            });
            stdout = new String(o.readAllBytes(), StandardCharsets.UTF_8);
            stderr = new String(errBytes.join(), StandardCharsets.UTF_8).trim();
        } finally {
            try {
                status = NativeBridge.waitFor(spawned[1]);
            } finally {
                DescriptorSet.closeQuietly(spawned[1]);
            }
        }
        if (status != 0) {
            throw new IOException("the helper's probe (" + NativeLoader.helperPath() + " "
                    + String.join(" ", java.util.Arrays.asList(argv).subList(1, argv.length))
                    + ") ended with "
                    + WaitStatus.describe(status)
                    + (stderr.isEmpty() ? "" : ": " + stderr));
        }
        return ProbeReport.parse(stdout);
    }

    private static void closeAll(int[]... pairs) {
        for (int[] pair : pairs) {
            if (pair != null) {
                DescriptorSet.closeQuietly(pair[0]);
                DescriptorSet.closeQuietly(pair[1]);
            }
        }
    }
}
