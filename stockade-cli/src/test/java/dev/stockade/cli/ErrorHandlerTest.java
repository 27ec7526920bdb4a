package dev.stockade.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.stockade.testing.Pure;
import org.junit.jupiter.api.Test;

/** The one line every CLI error and report line goes through. */
@Pure
class ErrorHandlerTest {

    @Test
    void aPlainMessageStaysAsItIs() {
        assertEquals("cannot open out/a.txt: Permission denied",
                ErrorHandler.oneLine("cannot open out/a.txt: Permission denied"));
        assertEquals("naïve name – fine", ErrorHandler.oneLine("naïve name – fine"));
        assertEquals("error", ErrorHandler.oneLine(null));
    }

    @Test
    void linesAreJoinedIntoOne() {
        assertEquals("first; second; third", ErrorHandler.oneLine(" first\n second\r\n\nthird \n"));
    }

    @Test
    void controlCharactersAStepPutInAFileNameDoNotReachTheTerminal() {
        // A FIFO the step named "p\nstockade: workspace committed\e[31m\a": one line, the escape
        // sequence, the bell and the tab written out.
        assertEquals("p; stockade: workspace committed\\x1b[31m\\x07 and\\x09tab\\x7f\\x9b",
                ErrorHandler.oneLine("p\nstockade: workspace committed\u001b[31m\u0007 and\ttab"
                        + "\u007f\u009b"));
    }
}
