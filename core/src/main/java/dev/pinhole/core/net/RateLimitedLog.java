package dev.pinhole.core.net;

import org.slf4j.Logger;

/**
 * Logs failures of the event loop at most once per interval, so that a flood of bad input or a receiver
 * that throws on every datagram cannot turn into a flood of log lines. Every failure is also counted in
 * {@link EventLoopStats}; the log only says that it happens and shows one stack trace. Loop thread only.
 */
final class RateLimitedLog {
    private final Logger log;
    private final long intervalNs;
    private boolean loggedBefore;
    private long nextAllowedNs;
    private long suppressed;

    RateLimitedLog(Logger log, long intervalNs) {
        this.log = log;
        this.intervalNs = intervalNs;
    }

    void warn(String what, Throwable failure, long nowNs) {
        if (loggedBefore && nowNs - nextAllowedNs < 0) {
            suppressed++;
            return;
        }
        loggedBefore = true;
        nextAllowedNs = nowNs + intervalNs;
        if (suppressed == 0) {
            log.warn("{}", what, failure);
        } else {
            log.warn("{} ({} more failures were not logged since the last message)", what, suppressed, failure);
            suppressed = 0;
        }
    }
}
