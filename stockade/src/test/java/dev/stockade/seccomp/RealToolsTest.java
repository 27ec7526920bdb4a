package dev.stockade.seccomp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.testing.SandboxTesting;
import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import dev.stockade.SeccompProfile;
import dev.stockade.testing.SandboxTesting.HostOutput;
import dev.stockade.testing.SandboxTesting.Output;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real build tools run unchanged under the shipped profiles: the same shell script runs in a
 * workspace inside the sandbox and in another directory on the host, with the same environment,
 * and prints the same bytes (each script prints only what is deterministic: program output,
 * checksums of what it built, listings).
 */
@Timeout(300)
class RealToolsTest {
    private static final String JAVA_BIN = Path.of(System.getProperty("java.home"), "bin")
            .toString();

    /** The environment both runs get (the sandbox adds nothing else the scripts read). */
    private static final Map<String, String> ENV = new LinkedHashMap<>();

    static {
        ENV.put("PATH", SandboxPolicy.DEFAULT_PATH);
        ENV.put("LANG", "C");
        ENV.put("LC_ALL", "C");
        ENV.put("JAVA_BIN", JAVA_BIN);
        // Fixed dates make git's commit hashes the same in both runs.
        ENV.put("GIT_AUTHOR_DATE", "2001-02-03T04:05:06Z");
        ENV.put("GIT_COMMITTER_DATE", "2001-02-03T04:05:06Z");
        ENV.put("GIT_CONFIG_NOSYSTEM", "1");
    }

    @TempDir
    Path inside;
    @TempDir
    Path outside;
    @TempDir
    Path outsideHome;

    private static final String HELLO_JAVA = String.join("\n",
            "public class Hello {",
            "    public static void main(String[] args) {",
            "        long sum = 0;",
            "        for (int n = 2; n < 100_000; n++) {",
            "            boolean prime = true;",
            "            for (int d = 2; (long) d * d <= n; d++) {",
            "                if (n % d == 0) { prime = false; break; }",
            "            }",
            "            if (prime) sum += n;",
            "        }",
            "        System.out.println(\"Hello from a sandbox: \" + sum);",
            "    }",
            "}",
            "");

    private static final String JAVA_SCRIPT = String.join("\n",
            "set -e",
            "mkdir out",
            "\"$JAVA_BIN/javac\" -d out Hello.java",
            "sha256sum out/Hello.class",
            "\"$JAVA_BIN/java\" -cp out Hello",
            "");

    private static void writeJavaProject(Path dir) throws Exception {
        Files.writeString(dir.resolve("Hello.java"), HELLO_JAVA);
        Files.writeString(dir.resolve("build.sh"), JAVA_SCRIPT);
    }

    private static void writeCProject(Path dir) throws Exception {
        Files.writeString(dir.resolve("util.h"), String.join("\n",
                "#ifndef UTIL_H",
                "#define UTIL_H",
                "unsigned long fib(unsigned n);",
                "unsigned long gcd(unsigned long a, unsigned long b);",
                "#endif",
                ""));
        Files.writeString(dir.resolve("fib.c"), String.join("\n",
                "#include \"util.h\"",
                "unsigned long fib(unsigned n) {",
                "    unsigned long a = 0, b = 1;",
                "    while (n--) { unsigned long t = a + b; a = b; b = t; }",
                "    return a;",
                "}",
                ""));
        Files.writeString(dir.resolve("gcd.c"), String.join("\n",
                "#include \"util.h\"",
                "unsigned long gcd(unsigned long a, unsigned long b) {",
                "    while (b) { unsigned long t = a % b; a = b; b = t; }",
                "    return a;",
                "}",
                ""));
        Files.writeString(dir.resolve("main.c"), String.join("\n",
                "#include <stdio.h>",
                "#include \"util.h\"",
                "int main(void) {",
                "    printf(\"fib(90)=%lu gcd=%lu\\n\", fib(90), gcd(fib(40), fib(30)));",
                "    return 0;",
                "}",
                ""));
        Files.writeString(dir.resolve("Makefile"), String.join("\n",
                "CFLAGS = -O2 -Wall -Werror",
                "OBJS = main.o fib.o gcd.o",
                "app: $(OBJS)",
                "\t$(CC) -o $@ $(OBJS)",
                "%.o: %.c util.h",
                "\t$(CC) $(CFLAGS) -c -o $@ $<",
                ""));
        Files.writeString(dir.resolve("build.sh"), String.join("\n",
                "set -e",
                // make's own lines come in any order with -j2: keep it quiet.
                "make -s -j2 CC=gcc",
                "./app",
                "sha256sum main.o fib.o gcd.o",
                ""));
    }

    /** Runs {@code build.sh} in the workspace under {@code profile} and on the host. */
    private void assertSameInsideAndOutside(SeccompProfile profile, String expectedLine)
            throws Exception {
        SandboxPolicy.Builder b = SandboxPolicy.builder().workspace(inside).seccomp(profile);
        ENV.forEach(b::env);
        Output in = SandboxTesting.run(
                Sandbox.command("sh", "build.sh").directory(inside).policy(b.build()), p -> { });
        SandboxTesting.assertExitedZero(in);

        ProcessBuilder pb = new ProcessBuilder("sh", "build.sh").directory(outside.toFile());
        pb.environment().clear();
        pb.environment().putAll(ENV);
        pb.environment().put("HOME", outsideHome.toString());
        HostOutput out = SandboxTesting.runOnHost(pb);
        assertEquals(0, out.exitCode(), () -> "on the host:\n" + out.stdout() + out.stderr());

        assertEquals(out.stdout(), in.stdout(), () -> "inside:\n" + in);
        SandboxTesting.assertContainsLine(in.stdout(), expectedLine);
    }

    /**
     * Writes the same project into both directories, with the same modes. The sandbox's
     * workspace is world-writable: for a root caller the command runs as an unprivileged uid
     * that does not own this test's directory.
     */
    private void bothWith(ThrowingWriter writer) throws Exception {
        for (Path dir : List.of(inside, outside)) {
            writer.write(dir);
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.toList()) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(
                            Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
        }
        Files.setPosixFilePermissions(inside, PosixFilePermissions.fromString("rwxrwxrwx"));
    }

    @FunctionalInterface
    interface ThrowingWriter {
        void write(Path dir) throws Exception;
    }

    private static void assumeTool(String path) {
        assumeTrue(Files.isExecutable(Path.of(path)), path + " is not installed");
    }

    @Test
    void javacAndJavaUnderBuild() throws Exception {
        bothWith(RealToolsTest::writeJavaProject);
        assertSameInsideAndOutside(SeccompProfile.named("build"),
                "Hello from a sandbox: 454396537");
    }

    @Test
    void javacAndJavaUnderStrict() throws Exception {
        bothWith(RealToolsTest::writeJavaProject);
        assertSameInsideAndOutside(SeccompProfile.named("strict"),
                "Hello from a sandbox: 454396537");
    }

    @Test
    void gccAndMakeUnderBuild() throws Exception {
        assumeTool("/usr/bin/gcc");
        assumeTool("/usr/bin/make");
        bothWith(RealToolsTest::writeCProject);
        assertSameInsideAndOutside(SeccompProfile.named("build"),
                "fib(90)=2880067194370816120 gcd=55");
    }

    @Test
    void gccAndMakeUnderStrict() throws Exception {
        assumeTool("/usr/bin/gcc");
        assumeTool("/usr/bin/make");
        bothWith(RealToolsTest::writeCProject);
        assertSameInsideAndOutside(SeccompProfile.named("strict"),
                "fib(90)=2880067194370816120 gcd=55");
    }

    @Test
    void python3UnderBuild() throws Exception {
        assumeTool("/usr/bin/python3");
        bothWith(dir -> {
            Files.writeString(dir.resolve("script.py"), String.join("\n",
                    "import hashlib, json, os, subprocess, tempfile",
                    "data = {'squares': [i * i for i in range(10)], 'name': 'stockade'}",
                    "with open('data.json', 'w') as f:",
                    "    json.dump(data, f, sort_keys=True)",
                    "with open('data.json', 'rb') as f:",
                    "    print(hashlib.sha256(f.read()).hexdigest())",
                    "with tempfile.TemporaryDirectory() as t:",
                    "    open(os.path.join(t, 'x'), 'w').write('x')",
                    "    print(sorted(os.listdir(t)))",
                    "print(subprocess.run(['echo', 'child'], capture_output=True,",
                    "                     text=True).stdout.strip())",
                    "print(sum(data['squares']))",
                    ""));
            Files.writeString(dir.resolve("build.sh"), "/usr/bin/python3 script.py\n");
        });
        assertSameInsideAndOutside(SeccompProfile.named("build"), "285");
    }

    @Test
    void gitInitAddCommitUnderBuild() throws Exception {
        assumeTool("/usr/bin/git");
        bothWith(dir -> {
            Files.writeString(dir.resolve("README"), "a repository made in a sandbox\n");
            Files.createDirectories(dir.resolve("src"));
            Files.writeString(dir.resolve("src/a.txt"), "a\n");
            Files.writeString(dir.resolve("build.sh"), String.join("\n",
                    "set -e",
                    "umask 022",
                    "mkdir repo && cp -r README src repo/ && cd repo",
                    "git init -q -b main .",
                    "git add README src",
                    "git -c user.name=Stockade -c user.email=ci@stockade.dev commit -q -m first",
                    "git log --format='%H %an %s'",
                    "git ls-files",
                    "git status --porcelain",
                    ""));
        });
        assertSameInsideAndOutside(SeccompProfile.named("build"), "src/a.txt");
    }

    @Test
    void tarAndGzipRoundTripUnderBuild() throws Exception {
        assumeTool("/usr/bin/tar");
        assumeTool("/usr/bin/gzip");
        bothWith(dir -> {
            Files.createDirectories(dir.resolve("src/sub"));
            Files.writeString(dir.resolve("src/one.txt"), "one\n".repeat(1000));
            Files.writeString(dir.resolve("src/sub/two.txt"), "two\n");
            Files.writeString(dir.resolve("build.sh"), String.join("\n",
                    "set -e",
                    "umask 022",
                    "tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner"
                            + " -cf a.tar src",
                    "gzip -n -9 a.tar",
                    "sha256sum a.tar.gz",
                    "tar -tzf a.tar.gz",
                    "mkdir x && tar -xzf a.tar.gz -C x",
                    "diff -r src x/src && echo round-trip-identical",
                    ""));
        });
        assertSameInsideAndOutside(SeccompProfile.named("build"), "round-trip-identical");
    }

    @Test
    void shellPipelineUnderBuild() throws Exception {
        bothWith(dir -> Files.writeString(dir.resolve("build.sh"), String.join("\n",
                "seq 1 1000 | sort -r | head -3 | tr '\\n' ' '; echo",
                "seq 1 1000 | sort -n | tail -2 | tr '0-9' 'a-j'",
                "printf 'b\\na\\nc\\n' | sort | uniq -c | awk '{print $2 $1}'",
                "")));
        assertSameInsideAndOutside(SeccompProfile.named("build"), "999 998 997 ");
    }
}
