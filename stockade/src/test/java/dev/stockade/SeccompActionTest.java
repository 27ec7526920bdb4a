package dev.stockade;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.stockade.testing.Pure;
import org.junit.jupiter.api.Test;

/** An action written as the profile language writes it, the one spelling everything shows. */
@Pure
class SeccompActionTest {

    @Test
    void toTextIsTheProfileLanguage() {
        assertEquals("allow", SeccompAction.ALLOW.toText());
        assertEquals("kill", SeccompAction.KILL_PROCESS.toText());
        assertEquals("kill_thread", SeccompAction.KILL_THREAD.toText());
        assertEquals("trap", SeccompAction.TRAP.toText());
        assertEquals("log", SeccompAction.LOG.toText());
        assertEquals("errno(EPERM)", SeccompAction.errno(1).toText());
        assertEquals("errno(ENOSYS)", SeccompAction.errno(38).toText());
        assertEquals("report", SeccompAction.report().toText());
        assertEquals("report(ENOSYS)", SeccompAction.report(38).toText());
        assertEquals("report(allow)", SeccompAction.report(0).toText());
    }

    @Test
    void anErrnoWithoutANameIsItsNumber() {
        assertEquals("errno(4000)", SeccompAction.errno(4000).toText());
        assertEquals("report(4094)", SeccompAction.report(4094).toText());
    }
}
