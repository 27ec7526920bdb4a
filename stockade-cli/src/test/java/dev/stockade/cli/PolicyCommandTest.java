package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stockade.OciImport;
import dev.stockade.PolicyException;
import dev.stockade.ProfileSources;
import dev.stockade.SeccompProfile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stockade policy check|export|show}, run in-process: nothing here starts a sandbox.
 * Files are told apart by content, never by name.
 */
class PolicyCommandTest {
    private static final Path CONTAINERS_JSON = Path.of("/usr/share/containers/seccomp.json");

    @TempDir
    Path dir;

    record Result(int exit, String out, String err) {}

    private static Result cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Main.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(exit, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8));
    }

    private Path write(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }

    private static final String TEXT = "# two rules\n"
            + "default allow\n"
            + "ptrace -> report          # debuggers\n"
            + "clone3 -> errno(ENOSYS)   # flags a filter cannot read\n";

    private static final String JSON = "{\"defaultAction\": \"SCMP_ACT_ERRNO\","
            + " \"defaultErrnoRet\": 38, \"syscalls\": [{\"names\": [\"read\", \"write\","
            + " \"_llseek\"], \"action\": \"SCMP_ACT_ALLOW\"}]}";

    @Test
    void checkATextProfile() throws Exception {
        Path file = write("mine.policy", TEXT);
        assertEquals(new Result(0, "ok: 2 rules, default allow\n", ""),
                cli("policy", "check", file.toString()));
    }

    @Test
    void checkAnOciProfilePrintsWhatDoesNotApply() throws Exception {
        Path file = write("oci.json", JSON);
        assertEquals(new Result(0, "warning: syscalls[0].names[2]: skipped: \"_llseek\" is not a"
                + " system call on x86_64\nok: 2 rules, default errno(ENOSYS)\n", ""),
                cli("policy", "check", file.toString()));
    }

    @Test
    void theFormatIsDetectedByContentNotByName() throws Exception {
        Path jsonNamedPolicy = write("looks-like-text.policy", " \n\t" + JSON);
        assertTrue(cli("policy", "check", jsonNamedPolicy.toString()).out()
                .endsWith("ok: 2 rules, default errno(ENOSYS)\n"));
        Path textNamedJson = write("looks-like.json", TEXT);
        assertEquals(new Result(0, "ok: 2 rules, default allow\n", ""),
                cli("policy", "check", textNamedJson.toString()));
        Path withBom = write("bom.json", "\uFEFF" + JSON);
        assertEquals(0, cli("policy", "check", withBom.toString()).exit());
    }

    @Test
    void checkTheContainersProfile() throws Exception {
        assumeTrue(Files.isReadable(CONTAINERS_JSON), "containers-common is not installed");
        OciImport expected = SeccompProfile.importOci(Files.readString(CONTAINERS_JSON),
                CONTAINERS_JSON.toString());
        Result r = cli("policy", "check", CONTAINERS_JSON.toString());
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(expected.warnings().size() + 1, lines.size());
        for (int i = 0; i < expected.warnings().size(); i++) {
            assertEquals("warning: " + expected.warnings().get(i), lines.get(i));
        }
        assertEquals("ok: " + expected.profile().rules().size() + " rules, default"
                + " errno(ENOSYS)", lines.get(lines.size() - 1));
    }

    @Test
    void checkAShippedProfile() {
        // The default as the profile language writes it: strict's "report(EPERM)" is "report".
        Map<String, String> defaults = Map.of("build", "allow", "strict", "report",
                "audit", "allow");
        for (String name : List.of("build", "strict", "audit")) {
            SeccompProfile p = SeccompProfile.named(name);
            assertEquals(new Result(0, "ok: " + p.rules().size() + " rules, default "
                    + defaults.get(name) + "\n", ""), cli("policy", "check", name));
        }
    }

    @Test
    void checkSpellsTheDefaultAsTheProfileLanguageDoes() throws Exception {
        for (String action : List.of("kill_thread", "report(ENOSYS)", "report(allow)", "trap",
                "errno(4000)")) {
            Path file = write("default.policy", "default " + action + "\nread -> allow\n"
                    + "sendmsg -> allow\n");
            assertEquals(new Result(0, "ok: 2 rules, default " + action + "\n", ""),
                    cli("policy", "check", file.toString()), action);
        }
    }

    @Test
    void checkReportsEveryProblemAndExits2() throws Exception {
        Path badJson = write("bad.json", "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\":"
                + " [{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\":"
                + " [{\"index\": 1, \"value\": 1, \"op\": \"SCMP_CMP_FOO\"}]},"
                + " {\"names\": [\"read\"], \"action\": \"SCMP_ACT_NOPE\"}]}");
        assertEquals(new Result(2, "", "stockade: " + badJson + ": syscalls[0].args[0].op:"
                + " unknown operator \"SCMP_CMP_FOO\" (expected SCMP_CMP_NE, SCMP_CMP_LT,"
                + " SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT or SCMP_CMP_MASKED_EQ)\n"
                + "stockade: " + badJson + ": syscalls[1].action: unknown action"
                + " \"SCMP_ACT_NOPE\" (expected one of SCMP_ACT_ALLOW, SCMP_ACT_ERRNO,"
                + " SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP,"
                + " SCMP_ACT_LOG, SCMP_ACT_TRACE, SCMP_ACT_NOTIFY)\n"),
                cli("policy", "check", badJson.toString()));

        Path notJson = write("broken.json", "{\"defaultAction\": ");
        Result broken = cli("policy", "check", notJson.toString());
        assertEquals(2, broken.exit());
        assertTrue(broken.err().startsWith("stockade: " + notJson + ": invalid JSON at line 1,"
                + " column 19: "), broken.err());
        assertEquals(1, broken.err().lines().count(), broken.err());

        Path badText = write("bad.policy", "default allow\nptrcae -> errno(EPERM)\n"
                + "mount -> errno(EWHAT)\n");
        Result text = cli("policy", "check", badText.toString());
        assertEquals(2, text.exit());
        assertEquals("", text.out());
        List<String> lines = text.err().lines().toList();
        assertEquals(2, lines.size(), text.err());
        assertTrue(lines.get(0).startsWith("stockade: " + badText + ":2:"), lines.get(0));
        assertTrue(lines.get(0).contains("ptrace"), "did you mean: " + lines.get(0));
        assertTrue(lines.get(1).startsWith("stockade: " + badText + ":3:"), lines.get(1));
    }

    @Test
    void checkRefusesWhatIsNoProfileFile() throws Exception {
        Path missing = dir.resolve("missing.policy");
        assertEquals(new Result(2, "", "stockade: " + missing + ": no such file (and not a"
                + " profile name: build, strict, audit)\n"),
                cli("policy", "check", missing.toString()));
        assertEquals(new Result(2, "", "stockade: " + dir + ": is a directory, not a profile"
                + " file\n"), cli("policy", "check", dir.toString()));
        Path binary = Files.write(dir.resolve("binary"), new byte[] {(byte) 0xff, (byte) 0xfe,
            0, 1});
        assertEquals(new Result(2, "", "stockade: " + binary + ": not UTF-8 text\n"),
                cli("policy", "check", binary.toString()));
        Path empty = write("empty.json", "");
        Result r = cli("policy", "check", empty.toString());
        assertEquals(2, r.exit(), r.toString());
        assertTrue(r.err().startsWith("stockade: " + empty), r.err());
        // Found in review: a FIFO hung the reader and /dev/zero was read into memory.
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        assertEquals(new Result(2, "", "stockade: " + fifo + ": not a regular file\n"),
                cli("policy", "check", fifo.toString()));
        assertEquals(new Result(2, "", "stockade: /dev/zero: not a regular file\n"),
                cli("policy", "check", "/dev/zero"));
        Path big = Files.write(dir.resolve("big.policy"), new byte[(1 << 20) + 1]);
        assertEquals(new Result(2, "", "stockade: " + big + ": the profile is 1048577 bytes, at"
                + " most 1048576\n"), cli("policy", "check", big.toString()));
        PolicyException oci = assertThrows(PolicyException.class,
                () -> SeccompProfile.fromOci(Path.of("/dev/zero")));
        assertEquals(List.of("/dev/zero: not a regular file"), oci.problems());
    }

    @Test
    void exportAShippedProfileAsOci() throws Exception {
        Result r = cli("policy", "export", "--oci", "build");
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        assertEquals(SeccompProfile.named("build").toOci(), r.out());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertEquals("SCMP_ACT_ALLOW", root.get("defaultAction").asText());
        JsonNode ptrace = null;
        for (JsonNode entry : root.get("syscalls")) {
            if (entry.get("names").toString().contains("\"ptrace\"")) {
                ptrace = entry;
            }
        }
        assertEquals("SCMP_ACT_ERRNO", ptrace.get("action").asText());
        assertEquals(1, ptrace.get("errnoRet").asInt());
        assertEquals("{\"action\":\"report\"}", ptrace.get("x-stockade").toString());
        // ... and reading it back gives the build profile.
        assertEquals(SeccompProfile.named("build"),
                SeccompProfile.importOci(r.out(), "build.json").profile());
    }

    @Test
    void exportAFileToAFile() throws Exception {
        Path text = write("mine.policy", TEXT);
        Path out = dir.resolve("out.json");
        assertEquals(new Result(0, "", ""), cli("policy", "export", "--oci", text.toString(),
                "-o", out.toString()));
        SeccompProfile back = SeccompProfile.importOci(Files.readString(out), out.toString())
                .profile();
        assertEquals(SeccompProfile.parse(TEXT, text.toString()), back);
        Path json = write("oci.json", JSON);
        Result fromJson = cli("policy", "export", "--oci", json.toString());
        assertEquals(0, fromJson.exit(), fromJson.err());
        assertEquals(SeccompProfile.importOci(JSON, json.toString()).profile(),
                SeccompProfile.importOci(fromJson.out(), "again.json").profile());
    }

    @Test
    void exportNeedsAFormatAndAValidProfile() throws Exception {
        Result noFormat = cli("policy", "export", "build");
        assertEquals(2, noFormat.exit());
        assertEquals("stockade: Missing required option: '--oci'\n"
                + "Try 'stockade policy export --help'\n", noFormat.err());
        Path bad = write("bad.policy", "default allow\nnosuchcall -> kill\n");
        Result invalid = cli("policy", "export", "--oci", bad.toString());
        assertEquals(2, invalid.exit());
        assertEquals("", invalid.out());
        assertTrue(invalid.err().startsWith("stockade: " + bad + ":2:"), invalid.err());
        Path out = dir.resolve("no/such/dir/out.json");
        Result unwritable = cli("policy", "export", "--oci", "build", "-o", out.toString());
        assertEquals(2, unwritable.exit());
        assertTrue(unwritable.err().startsWith("stockade: cannot write " + out + ": "),
                unwritable.err());
    }

    @Test
    void showPrintsTheShippedText() throws Exception {
        for (String name : List.of("build", "strict", "audit")) {
            String text = ProfileSources.shippedText(name);
            assertEquals(new Result(0, text, ""), cli("policy", "show", name));
            // what show prints is the profile itself
            assertEquals(SeccompProfile.named(name).rules(),
                    SeccompProfile.parse(text, name + ".policy").rules());
        }
        assertEquals(new Result(2, "", "stockade: no shipped profile 'nope' (there are: build,"
                + " strict, audit)\nTry 'stockade policy show --help'\n"),
                cli("policy", "show", "nope"));
    }

    @Test
    void helpAndMissingSubcommand() {
        for (List<String> args : List.of(List.of("policy", "--help"),
                List.of("policy", "check", "--help"), List.of("policy", "export", "--help"),
                List.of("policy", "show", "--help"))) {
            Result r = cli(args.toArray(String[]::new));
            assertEquals(0, r.exit(), args.toString());
            assertTrue(r.out().startsWith("Usage: stockade policy"), r.out());
            assertTrue(r.out().contains("Exit status:"), r.out());
        }
        assertEquals(new Result(2, "", "stockade: missing command: 'check', 'export' or"
                + " 'show'\nTry 'stockade policy --help'\n"), cli("policy"));
        Result top = cli("--help");
        assertTrue(top.out().contains("stockade policy check FILE|NAME"), top.out());
    }
}
