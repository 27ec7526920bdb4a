package dev.stockade;

import dev.stockade.internal.FilterPrograms;
import dev.stockade.internal.ProgressPage;
import dev.stockade.internal.SandboxSpec;
import dev.stockade.internal.SpecEncoder;
import dev.stockade.internal.SpecResolver;
import dev.stockade.internal.egress.EgressSession;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Starts sandboxed commands, the way {@link ProcessBuilder} starts plain ones: set the command,
 * the working directory, the redirects and the {@link SandboxPolicy}, then {@link #start()}.
 * Mutable and not thread-safe, like ProcessBuilder; each {@code start()} uses the current
 * settings and may be called any number of times.
 *
 * <pre>{@code
 * SandboxPolicy policy = SandboxPolicy.builder().workspace(dir)
 *         .timeout(Duration.ofMinutes(5)).build();
 * SandboxedProcess p = Sandbox.command("make", "-j4").policy(policy).inheritIO().start();
 * SandboxResult r = p.result();
 * }</pre>
 */
public final class SandboxBuilder {
    /**
     * The longest piece of a line a line consumer ({@link #onOutputLine},
     * {@link #onErrorLine}) gets at once, in bytes of UTF-8 (64 KiB): a longer line comes in
     * pieces of at most this many bytes, each cut at a character boundary, so that a step
     * printing an endless line costs a bounded buffer.
     */
    public static final int MAX_LINE_BYTES = 64 * 1024;

    private List<String> command;
    private Path directory;
    private Redirect stdin = Redirect.PIPE;
    private Redirect stdout = Redirect.PIPE;
    private Redirect stderr = Redirect.PIPE;
    private boolean redirectErrorStream;
    private boolean measureSetup;
    private SandboxPolicy policy;
    private Consumer<String> outputLines;
    private Consumer<String> errorLines;
    private final Map<String, String> environment = new LinkedHashMap<>();

    /** The pool whose warm sandboxes start() takes (SandboxPool.command), or null. */
    private final SandboxPool pool;

    SandboxBuilder(List<String> command) {
        this(command, null);
    }

    SandboxBuilder(List<String> command, SandboxPool pool) {
        this.command = new ArrayList<>(Objects.requireNonNull(command, "command"));
        this.pool = pool;
    }

    /**
     * {@return the command list itself, like ProcessBuilder's} Changes to it change this
     * builder.
     */
    public List<String> command() {
        return command;
    }

    /**
     * Replaces the command.
     *
     * @param command the program and its arguments; argv[0] is the program, looked up in the
     *     policy's PATH
     * @return this builder
     */
    public SandboxBuilder command(String... command) {
        this.command = new ArrayList<>(Arrays.asList(command));
        return this;
    }

    /**
     * Replaces the command with a copy of a list.
     *
     * @param command the program and its arguments; argv[0] is the program, looked up in the
     *     policy's PATH
     * @return this builder
     */
    public SandboxBuilder command(List<String> command) {
        this.command = new ArrayList<>(Objects.requireNonNull(command, "command"));
        return this;
    }

    /**
     * {@return the working directory inside the sandbox, or {@code null} for the default} See
     * {@link #directory(Path)}.
     */
    public Path directory() {
        return directory;
    }

    /**
     * The working directory inside the sandbox (an absolute path in the sandbox's view, or a
     * relative one, taken in the policy's workspace at {@link #start()});
     * {@code null} for the default: the policy's workspace if it has one, else {@code /}.
     *
     * @param dir the path in the sandbox (absolute, or relative to the workspace), or
     *     {@code null} for the default
     * @return this builder
     */
    public SandboxBuilder directory(Path dir) {
        this.directory = dir;
        return this;
    }

    /**
     * Where the command's stdin comes from: {@link Redirect#PIPE} (default; write to
     * {@link Process#getOutputStream()}), {@link Redirect#INHERIT}, or {@code Redirect.from(file)}.
     *
     * @param source where stdin comes from
     * @return this builder
     * @throws IllegalArgumentException for a redirect to a file ({@code Redirect.to},
     *     {@code Redirect.appendTo}), which is for output
     */
    public SandboxBuilder redirectInput(Redirect source) {
        Objects.requireNonNull(source, "source");
        if (source.type() == Redirect.Type.WRITE || source.type() == Redirect.Type.APPEND) {
            throw new IllegalArgumentException("redirect type for input: " + source);
        }
        this.stdin = source;
        return this;
    }

    /**
     * Where the command's stdout goes: {@link Redirect#PIPE} (default; read
     * {@link Process#getInputStream()}), {@link Redirect#INHERIT}, {@link Redirect#DISCARD},
     * {@code Redirect.to(file)} or {@code Redirect.appendTo(file)}.
     *
     * @param destination where stdout goes
     * @return this builder
     * @throws IllegalArgumentException for {@code Redirect.from(file)}, which is for input
     */
    public SandboxBuilder redirectOutput(Redirect destination) {
        this.stdout = checkOutput(destination);
        return this;
    }

    /**
     * Where the command's stderr goes: the same choices as {@link #redirectOutput(Redirect)};
     * ignored while {@link #redirectErrorStream()} is {@code true}.
     *
     * @param destination where stderr goes
     * @return this builder
     * @throws IllegalArgumentException for {@code Redirect.from(file)}, which is for input
     */
    public SandboxBuilder redirectError(Redirect destination) {
        this.stderr = checkOutput(destination);
        return this;
    }

    /**
     * Shorthand for {@code redirectInput(Redirect.from(file))}.
     *
     * @param file the host file stdin is read from
     * @return this builder
     */
    public SandboxBuilder redirectInput(java.io.File file) {
        return redirectInput(Redirect.from(file));
    }

    /**
     * Shorthand for {@code redirectOutput(Redirect.to(file))}.
     *
     * @param file the host file stdout is written to (created, or truncated)
     * @return this builder
     */
    public SandboxBuilder redirectOutput(java.io.File file) {
        return redirectOutput(Redirect.to(file));
    }

    /**
     * Shorthand for {@code redirectError(Redirect.to(file))}.
     *
     * @param file the host file stderr is written to (created, or truncated)
     * @return this builder
     */
    public SandboxBuilder redirectError(java.io.File file) {
        return redirectError(Redirect.to(file));
    }

    /** {@return where the command's stdin comes from; {@link Redirect#PIPE} by default} */
    public Redirect redirectInput() {
        return stdin;
    }

    /** {@return where the command's stdout goes; {@link Redirect#PIPE} by default} */
    public Redirect redirectOutput() {
        return stdout;
    }

    /**
     * {@return where the command's stderr goes; {@link Redirect#PIPE} by default} Not used while
     * {@link #redirectErrorStream()} is {@code true}.
     */
    public Redirect redirectError() {
        return stderr;
    }

    /**
     * Sets all three streams to {@link Redirect#INHERIT}: the command reads and writes this
     * JVM's stdin, stdout and stderr.
     *
     * @return this builder
     */
    public SandboxBuilder inheritIO() {
        stdin = Redirect.INHERIT;
        stdout = Redirect.INHERIT;
        stderr = Redirect.INHERIT;
        return this;
    }

    /**
     * Whether stderr goes where stdout goes (then {@link Process#getErrorStream()} is empty and
     * {@link #redirectError(Redirect)} is ignored), as in ProcessBuilder.
     *
     * @param merge {@code true} to send stderr where stdout goes (default {@code false})
     * @return this builder
     */
    public SandboxBuilder redirectErrorStream(boolean merge) {
        this.redirectErrorStream = merge;
        return this;
    }

    /** {@return whether stderr goes where stdout goes; {@code false} by default} */
    public boolean redirectErrorStream() {
        return redirectErrorStream;
    }

    /**
     * Whether {@link #start()} times its set-up step by step, for
     * {@link SandboxResult#setupTimings()} (default {@code false}: then it stays empty). The
     * cost is two reads of the clock per step and one write and one read of a page.
     *
     * @param measure {@code true} to time the set-up
     * @return this builder
     */
    public SandboxBuilder measureSetup(boolean measure) {
        this.measureSetup = measure;
        return this;
    }

    /** {@return whether {@link #start()} times its set-up; {@code false} by default} */
    public boolean measureSetup() {
        return measureSetup;
    }

    /**
     * Hands each line the command writes to stdout to {@code consumer} as it comes, for build
     * tools that log a step's output live. The lines come in order, UTF-8 decoded (malformed
     * bytes replaced by U+FFFD), without their {@code \n} or {@code \r\n}; a last line
     * without a newline comes too, and a line longer than {@link #MAX_LINE_BYTES} comes in
     * pieces. With a pid namespace (the default) every line has been delivered before
     * {@link SandboxedProcess#waitFor()} and {@link SandboxedProcess#result()} return; without
     * one, those still in the pipe are delivered just after. Both consumers are called on one
     * library thread per process, never at once, so a consumer must not wait for this
     * process's end ({@code waitFor}, {@code result}, {@code close}: they wait for the
     * consumers); one that throws gets no further lines, while the stream is still read (the
     * command never blocks on a full pipe). Stdout must be a pipe
     * ({@link Redirect#PIPE}, the default); {@link Process#getInputStream()} is empty then.
     * With {@link #redirectErrorStream(boolean) redirectErrorStream(true)} it gets stderr's
     * lines too.
     *
     * @param consumer what gets each line; {@code null} for none (the default)
     * @return this builder
     */
    public SandboxBuilder onOutputLine(Consumer<String> consumer) {
        this.outputLines = consumer;
        return this;
    }

    /**
     * The stdout line consumer {@link #onOutputLine} set.
     *
     * @return the consumer, or {@code null} when there is none
     */
    public Consumer<String> onOutputLine() {
        return outputLines;
    }

    /**
     * As {@link #onOutputLine}, for the command's stderr, which must be a pipe of its own
     * ({@link Redirect#PIPE} and not {@link #redirectErrorStream(boolean) merged} into stdout);
     * {@link Process#getErrorStream()} is empty then.
     *
     * @param consumer what gets each line; {@code null} for none (the default)
     * @return this builder
     */
    public SandboxBuilder onErrorLine(Consumer<String> consumer) {
        this.errorLines = consumer;
        return this;
    }

    /**
     * The stderr line consumer {@link #onErrorLine} set.
     *
     * @return the consumer, or {@code null} when there is none
     */
    public Consumer<String> onErrorLine() {
        return errorLines;
    }

    /**
     * This builder's additions to the command's environment, a mutable map: what is put here
     * is set over the policy's {@link SandboxPolicy#environment() environment} (an override
     * of a variable the policy sets, or a new one) at each {@link #start()}. Unlike
     * {@link ProcessBuilder#environment()} it starts <em>empty</em>: it holds only these
     * additions, never this JVM's environment (which the policy passes only by name,
     * {@link SandboxPolicy.Builder#passEnv}). A variable cannot be removed here; the policy
     * unsets it ({@link SandboxPolicy.Builder#unsetEnv}). Under a policy with an egress allow
     * list the proxy variables stay the policy's. Names and values are checked as the policy
     * checks its own, at {@code start()}. A start of a {@link SandboxPool}'s builder with
     * additions still takes a warm sandbox: the environment comes with the command.
     *
     * @return the map itself (changes to it change this builder); empty by default
     */
    public Map<String, String> environment() {
        return environment;
    }

    /**
     * Sets the policy the sandbox runs under.
     *
     * @param policy the policy, or {@code null} for {@link SandboxPolicy#defaults()} (the
     *     default)
     * @return this builder
     */
    public SandboxBuilder policy(SandboxPolicy policy) {
        this.policy = policy;
        return this;
    }

    /**
     * {@return the policy {@link #start()} uses} {@link SandboxPolicy#defaults()} when none was
     * set.
     */
    public SandboxPolicy policy() {
        return policy == null ? SandboxPolicy.defaults() : policy;
    }

    /**
     * Starts the command in a new sandbox and returns once it runs (the helper reported that the
     * command's {@code execve} succeeded) or set-up failed. A builder of a {@link SandboxPool}
     * ({@link SandboxPool#command}) takes one of its warm sandboxes when one is ready and the
     * policy is still the pool's, and spawns cold otherwise (the pool's class comment says
     * when). On failure the helper has been reaped and every descriptor opened for it closed
     * before the exception is thrown.
     *
     * @return the running command
     * @throws SandboxSetupException when the sandbox could not be set up or the command could
     *     not be executed (step, errno, exit code 125/126/127); before anything starts, at
     *     step {@code chdir} (ENOENT, 125), when the working directory is outside the
     *     sandbox's view (neither in nor on the way to one of its mounts)
     * @throws IOException when a redirect file cannot be opened (nothing was started), the
     *     command or working directory is past a protocol bound (a
     *     {@code dev.stockade.internal.SpecException}, before anything starts), the seccomp
     *     program cannot be compiled, or the helper cannot be spawned
     * @throws IndexOutOfBoundsException when the command is empty, as in ProcessBuilder
     * @throws IllegalStateException when a line consumer's stream is not a pipe of its own
     *     ({@link #onOutputLine}, {@link #onErrorLine})
     * @throws IllegalArgumentException when the working directory is relative and the policy
     *     has no workspace; naming the variable when an entry of
     *     {@link #environment()} has a null, empty or malformed name (with {@code =} or NUL),
     *     a null value or one with NUL, or is past a protocol bound (as the policy's own)
     */
    public SandboxedProcess start() throws IOException {
        long startNanos = measureSetup ? System.nanoTime() : 0;
        List<String> argv = List.copyOf(command); // NullPointerException for a null element
        if (argv.isEmpty()) {
            throw new IndexOutOfBoundsException("the command is empty");
        }
        LineCallbacks callbacks = lineCallbacks();
        SandboxPolicy p = policy();
        Map<String, String> env = commandEnvironment(p);
        Path cwd = WorkingDirectory.resolve(directory, p);
        Redirect[] stdio = {stdin, stdout, redirectErrorStream ? null : stderr};
        if (pool != null && p == pool.policy()) {
            SandboxedProcess warm = pool.start(argv, env, cwd, stdio, measureSetup,
                    startNanos, callbacks);
            if (warm != null) {
                return warm;
            }
        }
        // Everything that can fail without side effects happens before the first descriptor.
        FilterPrograms filters = SandboxFilters.of(p);
        EgressSession egress = p.egressRules() == null ? null : EgressSession.open(p.egressRules());
        try {
            SandboxSpec resolved = SpecResolver.resolve(argv, p, env, cwd, filters,
                    CgroupAvailability::unusableReason,
                    egress == null ? null : egress.socketPath(),
                    egress == null ? null : egress.token());
            byte[] spec = SpecEncoder.encode(resolved);
            ProgressPage.Measured measured = measureSetup
                    ? new ProgressPage.Measured(startNanos, System.nanoTime() - startNanos) : null;
            return SandboxLauncher.launch(spec, resolved.mounts(), resolved.environment(), p, resolved.notes(), egress,
                    measured, callbacks, stdio);
        } catch (IOException | RuntimeException | Error e) {
            if (egress != null) {
                egress.finish();
            }
            throw e;
        }
    }

    /**
     * The policy's environment with {@link #environment()}'s entries set over it, checked as
     * the policy checks its own.
     */
    private Map<String, String> commandEnvironment(SandboxPolicy p) {
        if (environment.isEmpty()) {
            return p.environment();
        }
        List<String> problems = new ArrayList<>();
        Map<String, String> added = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : environment.entrySet()) {
            if (e.getKey() == null) {
                problems.add("environment variable name is null");
            } else if (e.getValue() == null) {
                problems.add("environment variable " + e.getKey() + " has a null value");
            } else {
                added.put(e.getKey(), e.getValue());
            }
        }
        Map<String, String> merged = new LinkedHashMap<>(p.environment());
        merged.putAll(added);
        PolicyChecks.environment(problems, List.of(), added, merged);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("SandboxBuilder.environment(): "
                    + String.join("; ", problems));
        }
        return merged;
    }

    /** The line consumers, each checked to have a pipe of its own to read. */
    private LineCallbacks lineCallbacks() {
        if (outputLines != null && stdout.type() != Redirect.Type.PIPE) {
            throw new IllegalStateException("onOutputLine needs stdout to be a pipe"
                    + " (Redirect.PIPE), not " + stdout);
        }
        if (errorLines != null && redirectErrorStream) {
            throw new IllegalStateException("onErrorLine needs stderr to be a pipe of its own,"
                    + " not merged into stdout by redirectErrorStream(true)");
        }
        if (errorLines != null && stderr.type() != Redirect.Type.PIPE) {
            throw new IllegalStateException("onErrorLine needs stderr to be a pipe"
                    + " (Redirect.PIPE), not " + stderr);
        }
        return outputLines == null && errorLines == null ? LineCallbacks.NONE
                : new LineCallbacks(outputLines, errorLines);
    }

    private static Redirect checkOutput(Redirect destination) {
        Objects.requireNonNull(destination, "destination");
        if (destination.type() == Redirect.Type.READ) {
            throw new IllegalArgumentException("redirect type for output: " + destination);
        }
        return destination;
    }
}
