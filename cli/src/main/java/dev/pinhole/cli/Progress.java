package dev.pinhole.cli;

import dev.pinhole.cli.transfer.TransferListener;
import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows a transfer's progress on stderr: a progress bar when a terminal is attached, otherwise a plain
 * line every {@link #PLAIN_INTERVAL_NS}; nothing in JSON mode (stdout then carries only JSON lines).
 */
final class Progress implements TransferListener {
    private static final long PLAIN_INTERVAL_NS = 2_000_000_000L;
    private static final long MIB = 1L << 20;

    private final String verb;
    private final boolean quiet;
    private final boolean terminal;
    private final PrintStream err;
    private ProgressBar bar;
    private long total;
    private long done;
    private long startNs;
    private long lastPrintNs;

    Progress(String verb, boolean json, PrintStream err) {
        this.verb = verb;
        this.quiet = json;
        this.terminal = System.console() != null;
        this.err = err;
    }

    @Override
    public void started(long entryCount, long totalBytes) {
        total = totalBytes;
        startNs = System.nanoTime();
        lastPrintNs = startNs;
        if (quiet) {
            return;
        }
        if (terminal) {
            bar = new ProgressBarBuilder().setTaskName(verb).setInitialMax(Math.max(1, totalBytes / MIB))
                    .setUnit(" MiB", 1).setStyle(ProgressBarStyle.ASCII).showSpeed()
                    .setConsumer(new ConsoleProgressBarConsumer(err)).build();
        }
    }

    @Override
    public void fileStarted(String path, long size, long startOffset) {
        if (startOffset > 0) {
            done += startOffset;
            if (!quiet) {
                err.printf(Locale.ROOT, "resuming %s at byte %d of %d%n", path, startOffset, size);
            }
            step();
        }
    }

    @Override
    public void bytes(long count) {
        done += count;
        if (quiet) {
            return;
        }
        if (bar != null) {
            bar.stepTo(done / MIB);
            return;
        }
        long now = System.nanoTime();
        if (now - lastPrintNs >= PLAIN_INTERVAL_NS) {
            lastPrintNs = now;
            double seconds = (now - startNs) / 1e9;
            err.printf(Locale.ROOT, "%s %.1f of %.1f MiB (%d%%), %.1f Mbit/s%n", verb, done / (double) MIB,
                    total / (double) MIB, total == 0 ? 100 : done * 100 / total, done * 8 / seconds / 1e6);
        }
    }

    private void step() {
        if (bar != null) {
            bar.stepTo(done / MIB);
        }
    }

    @Override
    public void fileFinished(String path, boolean verified, String detail) {
        if (!quiet && !verified) {
            close();
            err.println("pinhole: " + detail);
        }
    }

    void close() {
        if (bar != null) {
            bar.stepTo(bar.getMax());
            bar.close();
            bar = null;
        }
    }
}
