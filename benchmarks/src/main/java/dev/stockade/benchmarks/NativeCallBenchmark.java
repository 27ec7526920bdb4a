package dev.stockade.benchmarks;

import com.sun.jna.Native;
import dev.stockade.internal.NativeBridge;
import dev.stockade.internal.NativeLoader;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One trivial native call made three ways: the library's own JNI ({@code NativeBridge.getuid},
 * one wrapper of one system call), and libc's {@code getuid} through JNA's direct mapping and
 * through jnr-ffi. The system call is the same in each, so the differences are the bindings'
 * own cost. It shows with numbers why the library binds its natives with JNI
 * (docs/design.md); JNA and jnr-ffi are dependencies of this module only.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class NativeCallBenchmark {
    /** JNA's direct mapping: the fastest way JNA calls a C function. */
    public static final class JnaLibc {
        static {
            Native.register("c");
        }

        public static native int getuid();
    }

    /** jnr-ffi's interface binding. */
    public interface JnrLibc {
        int getuid();
    }

    private JnrLibc jnrLibc;

    @Setup
    public void bind() {
        NativeLoader.ensureLoaded();
        jnrLibc = jnr.ffi.LibraryLoader.create(JnrLibc.class).load("c");
        JnaLibc.getuid();
    }

    @Benchmark
    public int jni() {
        return NativeBridge.getuid();
    }

    @Benchmark
    public int jna() {
        return JnaLibc.getuid();
    }

    @Benchmark
    public int jnrFfi() {
        return jnrLibc.getuid();
    }
}
