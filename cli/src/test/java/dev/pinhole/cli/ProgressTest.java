package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The progress bar as a terminal shows it (the bar is drawn with \r; the last drawing is what stays). */
class ProgressTest {
    private static final long MIB = 1L << 20;

    /** What a terminal shows last on each line: each line's text after its last carriage return. */
    private static String screen(ByteArrayOutputStream bytes) {
        StringBuilder shown = new StringBuilder();
        for (String line : bytes.toString(StandardCharsets.UTF_8).split("\n", -1)) {
            String text = line.substring(line.lastIndexOf('\r') + 1).replace("\033[K", "");
            shown.append(text).append('\n');
        }
        return shown.toString();
    }

    @Test
    void aFailedTransferLeavesTheBarAtTheBytesReallyMovedAndTheResumeOnItsOwnLine() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress progress = new Progress("sending", false, true, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        progress.started(1, 1500 * MIB);
        progress.fileStarted("big.iso", 1500 * MIB, 100 * MIB);
        for (int i = 0; i < 200; i++) {
            progress.bytes(MIB);
        }
        progress.close(false);
        String shown = screen(bytes);
        assertTrue(shown.lines().anyMatch(l -> l.startsWith("resuming big.iso at byte " + 100 * MIB)),
                "the resume offset has a line of its own: " + shown);
        assertTrue(shown.contains("300/1500 MiB"), "the bar ends at the real count: " + shown);
        assertTrue(shown.contains("stopped"), "says it stopped: " + shown);
        assertFalse(shown.contains("100%") || shown.contains("1500/1500"), "never a full bar: " + shown);
    }

    @Test
    void aResumeDuringTheBarStartsItsOwnLine() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress progress = new Progress("receiving", false, true, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        progress.started(2, 40 * MIB);
        progress.fileStarted("a", 20 * MIB, 0);
        progress.bytes(20 * MIB);
        progress.fileStarted("b", 20 * MIB, 5 * MIB);
        progress.bytes(15 * MIB);
        progress.close(true);
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("\r\033[Kresuming b at byte " + 5 * MIB), "clears the bar's line first: " + out);
        assertTrue(screen(bytes).contains("40/40 MiB"), "complete: " + screen(bytes));
    }

    @Test
    void aTinyFileCountsInBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress progress = new Progress("sending", false, true, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        progress.started(1, 14);
        progress.fileStarted("note.txt", 14, 0);
        progress.bytes(14);
        progress.close(true);
        String shown = screen(bytes);
        assertTrue(shown.contains("14/14 B"), "bytes, not MiB: " + shown);
        assertFalse(shown.contains("MiB") || shown.contains("?"), "no 1/1 MiB, no unknown rate: " + shown);
    }

    @Test
    void plainLinesCountOnlyThisRunsBytesInTheRate() {
        assertTrue(Progress.size(14).equals("14 B") && Progress.size(3 * 1024).equals("3.0 KiB")
                && Progress.size(1536 * MIB).equals("1.5 GiB"), "sizes");
    }
}
