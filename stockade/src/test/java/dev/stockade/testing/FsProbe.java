package dev.stockade.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stockade.Sandbox;
import dev.stockade.SandboxPolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A filesystem probe that runs inside a sandbox: one python3 process performs a list of
 * operations and reports each one's outcome exactly, as {@code ok} (with a detail for reads,
 * listings, stats and links) or the errno's name ({@code EROFS}, {@code ENOENT}, ...).
 *
 * <p>An operation is one word and its space-separated arguments (paths without spaces):
 * {@code mkdir P}, {@code create P} (O_CREAT|O_EXCL, 0644), {@code write P} (truncate and
 * write "x"), {@code append P}, {@code read P} (ok and the content's length and SHA-256),
 * {@code list P} (ok and the sorted names, comma-separated), {@code lstat P} (ok, octal mode
 * with the type, uid, gid, size), {@code readlink P}, {@code connect P} (AF_UNIX),
 * {@code rename P Q}, {@code rmdir P}, {@code unlink P}, {@code symlink TARGET P},
 * {@code link P NEW} (a hard link), {@code umount P} (umount2 with MNT_DETACH),
 * {@code chmod P OCTAL}, {@code openmode P OCTAL} (O_CREAT|O_EXCL|O_WRONLY with that mode),
 * {@code mknod P OCTAL} (a regular file, S_IFREG|mode), {@code setxattr P NAME HEX}.
 */
public final class FsProbe {
    private FsProbe() {}

    private static final String PROGRAM = String.join("\n",
            "import errno, hashlib, os, socket, stat, sys",
            "def run(op, a):",
            "    if op == 'mkdir': os.mkdir(a[0]); return ''",
            "    if op == 'create':",
            "        os.close(os.open(a[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))",
            "        return ''",
            "    if op == 'write':",
            "        with open(a[0], 'w') as f: f.write('x')",
            "        return ''",
            "    if op == 'append':",
            "        with open(a[0], 'a') as f: f.write('x')",
            "        return ''",
            "    if op == 'read':",
            "        with open(a[0], 'rb') as f: b = f.read()",
            "        return ' %d %s' % (len(b), hashlib.sha256(b).hexdigest())",
            "    if op == 'list': return ' ' + ','.join(sorted(os.listdir(a[0])))",
            "    if op == 'lstat':",
            "        s = os.lstat(a[0])",
            "        return ' %o %d %d %d' % (s.st_mode, s.st_uid, s.st_gid, s.st_size)",
            "    if op == 'readlink': return ' ' + os.readlink(a[0])",
            "    if op == 'connect':",
            "        s = socket.socket(socket.AF_UNIX)",
            "        try: s.connect(a[0])",
            "        finally: s.close()",
            "        return ''",
            "    if op == 'rename': os.rename(a[0], a[1]); return ''",
            "    if op == 'rmdir': os.rmdir(a[0]); return ''",
            "    if op == 'unlink': os.unlink(a[0]); return ''",
            "    if op == 'symlink': os.symlink(a[0], a[1]); return ''",
            "    if op == 'link': os.link(a[0], a[1]); return ''",
            "    if op == 'umount':",
            "        import ctypes",
            "        libc = ctypes.CDLL(None, use_errno=True)",
            "        if libc.umount2(a[0].encode(), 2) != 0:",  // MNT_DETACH
            "            raise OSError(ctypes.get_errno(), 'umount2')",
            "        return ''",
            "    if op == 'chmod': os.chmod(a[0], int(a[1], 8)); return ''",
            "    if op == 'openmode':",
            "        os.close(os.open(a[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY, int(a[1], 8)))",
            "        return ''",
            "    if op == 'mknod': os.mknod(a[0], stat.S_IFREG | int(a[1], 8)); return ''",
            "    if op == 'setxattr': os.setxattr(a[0], a[1], bytes.fromhex(a[2])); return ''",
            "    raise SystemExit('unknown probe operation ' + op)",
            "os.umask(0o022)",
            "for line in sys.argv[1:]:",
            "    w = line.split(' ')",
            "    try:",
            "        r = 'ok' + run(w[0], w[1:])",
            "    except OSError as e:",
            "        r = errno.errorcode.get(e.errno, str(e.errno))",
            "    print(line + ' => ' + r, flush=True)");

    /** The outcome of each operation, by the operation's text, in order. */
    public record Result(Map<String, String> outcomes, SandboxTesting.Output output) {
        public String get(String operation) {
            String r = outcomes.get(operation);
            assertTrue(r != null, () -> "no outcome for <" + operation + ">:\n" + output);
            return r;
        }

        /** Asserts the outcome of {@code operation} is exactly {@code expected}. */
        public void expect(String operation, String expected) {
            assertEquals(expected, get(operation), () -> operation + "\n" + output);
        }
    }

    /** Runs {@code operations} in one sandbox of {@code policy}. */
    public static Result run(SandboxPolicy policy, String... operations) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(SandboxTesting.PYTHON, "-c", PROGRAM));
        cmd.addAll(List.of(operations));
        SandboxTesting.Output out = SandboxTesting.run(Sandbox.command(cmd).policy(policy));
        assertEquals(0, out.exitCode(), () -> "the probe failed:\n" + out);
        Map<String, String> outcomes = new LinkedHashMap<>();
        for (String line : out.stdout().split("\n")) {
            int sep = line.indexOf(" => ");
            if (sep > 0) {
                outcomes.put(line.substring(0, sep), line.substring(sep + 4));
            }
        }
        assertEquals(operations.length, outcomes.size(), () -> "one line per operation:\n" + out);
        return new Result(outcomes, out);
    }
}
