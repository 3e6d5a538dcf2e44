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
 *
 * <p>The bar counts in bytes, KiB or MiB depending on the total (so a 14-byte file shows {@code 14/14 B}); the
 * rate counts only the bytes this run moved (a resumed file's first part is not "sent at" infinite speed); a
 * resume offset prints on its own line; and a transfer that fails leaves the bar at the bytes really moved
 * ({@link #close(boolean)}), never at 100 %.
 */
final class Progress implements TransferListener {
    private static final long PLAIN_INTERVAL_NS = 2_000_000_000L;
    private static final long RATE_INTERVAL_NS = 500_000_000L;
    private static final long KIB = 1L << 10;
    private static final long MIB = 1L << 20;
    /** Clears the terminal line the bar is drawn on. */
    private static final String CLEAR_LINE = "\r\033[K";

    private final String verb;
    private final boolean quiet;
    private final boolean terminal;
    private final PrintStream err;
    private ProgressBar bar;
    private boolean started;
    private long total;
    private long unit = 1;
    private String unitName = "B";
    /** Bytes of the total that are done: resumed ones included. */
    private long done;
    /** Bytes this run moved (resumed ones excluded): what the rate is computed from. */
    private long moved;
    private long startNs;
    private long lastPrintNs;
    private long lastRateNs;

    Progress(String verb, boolean json, PrintStream err) {
        this(verb, json, System.console() != null, err);
    }

    Progress(String verb, boolean json, boolean terminal, PrintStream err) {
        this.verb = verb;
        this.quiet = json;
        this.terminal = terminal;
        this.err = err;
    }

    @Override
    public synchronized void started(long entryCount, long totalBytes) {
        started = true;
        total = totalBytes;
        startNs = System.nanoTime();
        lastPrintNs = startNs;
        lastRateNs = startNs;
        if (totalBytes >= 10 * MIB) {
            unit = MIB;
            unitName = "MiB";
        } else if (totalBytes >= 10 * KIB) {
            unit = KIB;
            unitName = "KiB";
        }
        // The bar itself starts with the first bytes, so that the first file's resume line comes before it.
    }

    private void ensureBar() {
        if (bar == null && terminal && !quiet && started) {
            bar = new ProgressBarBuilder().setTaskName(verb).setInitialMax(Math.max(1, total / unit))
                    .setUnit(" " + unitName, 1).setStyle(ProgressBarStyle.ASCII).hideEta()
                    .setConsumer(new ConsoleProgressBarConsumer(err)).build();
            bar.stepTo(done / unit);
        }
    }

    @Override
    public synchronized void fileStarted(String path, long size, long startOffset) {
        if (startOffset > 0) {
            done += startOffset;
            if (!quiet) {
                // Its own line: over the bar, if one is drawn (it redraws below).
                err.printf(Locale.ROOT, "%sresuming %s at byte %d of %d (%s already there)%n",
                        bar != null ? CLEAR_LINE : "", path, startOffset, size, size(startOffset));
                err.flush();
            }
            if (bar != null) {
                bar.stepTo(done / unit);
            }
        }
    }

    @Override
    public synchronized void bytes(long count) {
        done += count;
        moved += count;
        if (quiet) {
            return;
        }
        long now = System.nanoTime();
        if (terminal) {
            ensureBar();
            bar.stepTo(done / unit);
            if (now - lastRateNs >= RATE_INTERVAL_NS) {
                lastRateNs = now;
                bar.setExtraMessage(rate(now));
            }
            return;
        }
        if (now - lastPrintNs >= PLAIN_INTERVAL_NS) {
            lastPrintNs = now;
            err.printf(Locale.ROOT, "%s %s of %s (%d%%), %s%n", verb, size(done), size(total),
                    total == 0 ? 100 : done * 100 / total, rate(now));
        }
    }

    /** This run's bytes per second, as MiB/s (or KiB/s, B/s when slow). */
    private String rate(long nowNs) {
        double seconds = (nowNs - startNs) / 1e9;
        if (seconds <= 0) {
            return "";
        }
        double perSecond = moved / seconds;
        return size(Math.round(perSecond)) + "/s";
    }

    /** A byte count as a person reads it: {@code 14 B}, {@code 3.2 KiB}, {@code 1.5 MiB}, {@code 2.0 GiB}. */
    static String size(long bytes) {
        if (bytes < KIB) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes / 1024.0;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    @Override
    public synchronized void fileFinished(String path, boolean verified, String detail) {
        if (!quiet && !verified) {
            close(false);
            err.println("pinhole: " + detail);
        }
    }

    /** Ends the bar: at the total when the transfer {@code completed}, else where the bytes really got to. */
    synchronized void close(boolean completed) {
        if (completed && terminal && !quiet && started) {
            ensureBar();
        }
        if (bar != null) {
            long now = System.nanoTime();
            bar.setExtraMessage(completed ? rate(now) : "stopped, " + rate(now));
            if (completed) {
                bar.stepTo(bar.getMax());
            } else {
                bar.stepTo(done / unit);
            }
            bar.close();
            bar = null;
        }
    }
}
