package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stockade run -- /bin/sh -i} at a terminal: the CLI runs on a pty that a small
 * python3 script ({@code terminal_session.py}) owns and types into, the way a user would. The
 * sandbox has a pty of its own; the user's line, the window size and Ctrl-C must still reach
 * the shell, and the user's terminal must come back in its own mode.
 */
class TerminalSessionTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path workspace;

    @TempDir
    Path scriptDir;

    @Test
    void interactiveShellAtATerminal() throws Exception {
        Path script = scriptDir.resolve("terminal_session.py");
        try (InputStream in = TerminalSessionTest.class.getResourceAsStream("terminal_session.py")) {
            Files.copy(in, script);
        }
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", script.toString()));
        command.addAll(CliProcess.command(
                "run", "--workspace", workspace.toString(), "--", "/bin/sh", "-i"));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(workspace.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().put("TERM", "dumb");
        builder.environment().remove("ENV");
        Process driver = builder.start();
        driver.getOutputStream().close();
        byte[] out = driver.getInputStream().readAllBytes();
        boolean exited = driver.waitFor(CliProcess.TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!exited) {
            driver.descendants().forEach(ProcessHandle::destroyForcibly);
            driver.destroyForcibly();
        }
        assertTrue(exited, "the terminal session did not end");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, driver.exitValue(), text);
        JsonNode r = JSON.readTree(text);
        String transcript = r.get("transcript").asText();
        assertTrue(r.get("echo").asBoolean(), "the typed line ran:\n" + transcript);
        assertTrue(r.get("sizeSeen").asBoolean(), "stty size shows the new size:\n" + transcript);
        assertTrue(r.get("sleepStarted").asBoolean(), transcript);
        assertTrue(r.get("interrupted").asBoolean(),
                "Ctrl-C ended the sleep and the shell read on:\n" + transcript);
        assertEquals(7, r.get("exitCode").asInt(-1), "exit status of `exit 7`:\n" + transcript);
        assertTrue(r.get("termiosRestored").asBoolean(), "the terminal's termios as before: "
                + r.get("termiosBefore").asText() + " vs " + r.get("termiosAfter").asText());
    }
}
