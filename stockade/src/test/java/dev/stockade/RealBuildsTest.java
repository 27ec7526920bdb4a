package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.stockade.testing.HostGit;
import dev.stockade.testing.HostTree;
import dev.stockade.testing.SandboxTesting;
import dev.stockade.testing.SandboxTesting.HostOutput;
import dev.stockade.testing.SandboxTesting.Output;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real builds are unchanged by the minimal view: each tool builds a small project the test
 * writes, once on the host and once inside, in the same directory, and the outputs are
 * byte-identical (and so is what the tool prints).
 */
@Timeout(300)
class RealBuildsTest {

    /** The environment of both runs (the sandbox's default PATH, a fixed locale). */
    private static final Map<String, String> ENV = Map.of("PATH", SandboxPolicy.DEFAULT_PATH,
            "LC_ALL", "C");

    @TempDir
    Path workspace;

    private void write(String relative, String... lines) throws Exception {
        Path p = workspace.resolve(relative);
        Files.createDirectories(p.getParent());
        Files.writeString(p, String.join("\n", lines) + "\n");
    }

    /**
     * Runs {@code script} with sh in the workspace on the host, records {@code outputs}, deletes
     * them (and {@code scratch}), runs it again inside, and compares outputs and stdout.
     */
    private void sameInsideAsOutside(String script, List<String> outputs, List<String> scratch,
            Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", script)
                .directory(workspace.toFile());
        pb.environment().clear();
        pb.environment().putAll(ENV);
        pb.environment().put("HOME", System.getProperty("user.home"));
        pb.environment().putAll(env);
        HostOutput host = SandboxTesting.runOnHost(pb);
        assertEquals(0, host.exitCode(), host.toString());
        Map<String, String> hostOutputs = digests(outputs);
        for (String p : outputs) {
            Files.delete(workspace.resolve(p));
        }
        for (String p : scratch) {
            deleteTree(workspace.resolve(p));
        }

        SandboxPolicy.Builder b = SandboxPolicy.builder().workspace(workspace);
        ENV.forEach(b::env);
        env.forEach(b::env);
        Output inside = SandboxTesting.run(b.build(), "/bin/sh", "-c", script);
        assertEquals(0, inside.exitCode(), inside.toString());
        assertEquals(host.stdout(), inside.stdout(), inside.toString());
        assertEquals(hostOutputs, digests(outputs));
    }

    private Map<String, String> digests(List<String> outputs) throws Exception {
        Map<String, String> d = new LinkedHashMap<>();
        for (String p : outputs) {
            d.put(p, HostTree.sha256(workspace.resolve(p)));
        }
        return d;
    }

    private static void deleteTree(Path p) throws Exception {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted((a, c) -> c.compareTo(a)).toList()) {
                Files.delete(q);
            }
        }
    }

    @Test
    void makeBuildsTheSameProgram() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc"))
                && Files.isExecutable(Path.of("/usr/bin/make")), "gcc and make");
        write("c/util.h", "int add(int a, int b);", "const char *greeting(void);");
        write("c/util.c", "#include \"util.h\"", "int add(int a, int b) { return a + b; }");
        write("c/greet.c", "#include \"util.h\"",
                "const char *greeting(void) { return \"hello\"; }");
        write("c/main.c", "#include <stdio.h>", "#include \"util.h\"",
                "int main(void) { printf(\"%s %d\\n\", greeting(), add(40, 2)); return 0; }");
        write("c/Makefile", "CFLAGS = -O2 -Wall", "OBJS = main.o util.o greet.o",
                "prog: $(OBJS)", "\t$(CC) $(CFLAGS) -o $@ $(OBJS)",
                "%.o: %.c util.h", "\t$(CC) $(CFLAGS) -c -o $@ $<");
        sameInsideAsOutside("cd c && make -s -j2 && ./prog",
                List.of("c/prog", "c/main.o", "c/util.o", "c/greet.o"), List.of(), Map.of());
    }

    @Test
    void javacAndJarBuildTheSameArchive() throws Exception {
        write("j/src/app/Main.java", "package app;", "public class Main {",
                "    public static void main(String[] a) {",
                "        System.out.println(new Greeter().greet(\"sandbox\"));", "    }", "}");
        write("j/src/app/Greeter.java", "package app;", "class Greeter {",
                "    String greet(String who) { return \"hello \" + who; }", "}");
        sameInsideAsOutside("cd j && javac -d classes src/app/Main.java src/app/Greeter.java"
                        + " && jar --create --date=2020-01-01T00:00:00Z --file app.jar"
                        + " --main-class app.Main -C classes . && java -jar app.jar",
                List.of("j/app.jar", "j/classes/app/Main.class", "j/classes/app/Greeter.class"),
                List.of("j/classes"), Map.of());
    }

    @Test
    void gitMakesTheSameCommit() throws Exception {
        write("g/README", "hello");
        write("g/src/main.c", "int main(void) { return 0; }");
        sameInsideAsOutside("cd g && git init -q -b main && git add -A"
                        + " && git commit -q -m 'first commit' && git rev-parse HEAD"
                        + " && git cat-file -p HEAD^{tree}",
                List.of(), List.of("g/.git"), HostGit.FIXED);
    }

    @Test
    void python3WritesTheSameOutput() throws Exception {
        write("py/lib/stats.py", "import hashlib, json",
                "def summary(words):",
                "    return {w: hashlib.sha256(w.encode()).hexdigest()[:12] for w in words}");
        write("py/main.py", "import json, sys", "sys.path.insert(0, 'lib')", "import stats",
                "s = stats.summary(sorted(['build', 'sandbox', 'view']))",
                "open('out.json', 'w').write(json.dumps(s, sort_keys=True, indent=1))",
                "print(len(s), sum(len(v) for v in s.values()))");
        sameInsideAsOutside("cd py && " + SandboxTesting.PYTHON + " -B main.py",
                List.of("py/out.json"), List.of(), Map.of());
    }

    @Test
    void nodeWritesTheSameOutput() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/node")), "node at /usr/bin/node");
        write("n/lib.js", "const crypto = require('crypto');",
                "exports.digest = s => crypto.createHash('sha256').update(s).digest('hex');");
        write("n/main.js", "const fs = require('fs');", "const lib = require('./lib');",
                "const out = ['a', 'b', 'c'].map(w => w + ' ' + lib.digest(w)).join('\\n');",
                "fs.writeFileSync('out.txt', out + '\\n');", "console.log(out.length);");
        sameInsideAsOutside("cd n && /usr/bin/node main.js", List.of("n/out.txt"), List.of(),
                Map.of());
    }
}
