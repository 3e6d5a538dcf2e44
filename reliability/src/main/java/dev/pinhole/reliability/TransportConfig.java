package dev.pinhole.reliability;

import dev.pinhole.reliability.CongestionControl;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link ReliableTransport} and its connections. Immutable; build one with
 * {@link #builder()}, derive a variant with {@link #toBuilder()}. {@link #DEFAULT} suits most uses.
 *
 * <table>
 *   <caption>Defaults and where they come from</caption>
 *   <tr><th>setting</th><th>default</th><th>why</th></tr>
 *   <tr><td>maxDatagramSize</td><td>1200 bytes</td><td>RFC 9000 §14: every path carries 1200-byte UDP payloads</td></tr>
 *   <tr><td>congestionControl</td><td>BBR</td><td>BBR v1 (draft-cardwell-iccrg-bbr-congestion-control):
 *       loss is not read as congestion, so random loss costs little; as fast as CUBIC without loss
 *       (decision 0006). CUBIC (RFC 9438) and NewReno (RFC 9002) yield more to loss-based flows</td></tr>
 *   <tr><td>maxAckDelay</td><td>25 ms</td><td>RFC 9000 §18.2 default max_ack_delay</td></tr>
 *   <tr><td>idleTimeout</td><td>30 s</td><td>RFC 9000 §10.1; above the 15 s keep-alive, so an idle but healthy
 *       connection never times out</td></tr>
 *   <tr><td>keepAliveInterval</td><td>15 s</td><td>RFC 8445 §5.1.1.1 / RFC 4787 REQ-5: NAT UDP mappings may expire
 *       after 2 minutes, many expire after 30 s (Linux conntrack, unreplied); 15 s keeps them open</td></tr>
 *   <tr><td>receiveWindow</td><td>16 MiB</td><td>the flow-control window (MAX_DATA ahead of what the application
 *       read): one bandwidth-delay product of 1 Gbit/s at 130 ms RTT, so the window does not cap throughput
 *       on ordinary paths; also the most a peer can make this side buffer</td></tr>
 *   <tr><td>sendBufferSize</td><td>16 MiB</td><td>written bytes kept until acknowledged; must cover the
 *       congestion window, so it matches the receive window</td></tr>
 *   <tr><td>handshakeTimeout</td><td>10 s</td><td>the INITIAL is retransmitted with backoff from 1 s (RFC 9002
 *       §6.2.2: PTO from the 333 ms initial RTT); 10 s allows 3-4 attempts</td></tr>
 *   <tr><td>connectionTimeout</td><td>10 s</td><td>how long outstanding data may go unacknowledged, through
 *       exponentially backed-off probes, before {@link ConnectionTimeoutException}</td></tr>
 *   <tr><td>readTimeout, writeTimeout</td><td>none</td><td>like a socket: block until data, space, or the
 *       connection fails (which the timeouts above bound)</td></tr>
 *   <tr><td>closeTimeout</td><td>10 s</td><td>how long {@code close()} lingers without the peer acknowledging
 *       anything new; while acknowledgements arrive it waits on, however long the written data takes</td></tr>
 *   <tr><td>acceptBacklog</td><td>64</td><td>opened connections waiting for {@code accept}; more are refused</td></tr>
 *   <tr><td>handshakeRepliesPerSecond</td><td>500</td><td>INITIALs answered per second at most (each costs about
 *       0.9 ms of CPU for the Noise reply); beyond it they are counted and dropped, and their clients retry</td></tr>
 * </table>
 */
public final class TransportConfig {
    /** The defaults listed in the class comment. */
    public static final TransportConfig DEFAULT = builder().build();

    /** RFC 9000 §14: the smallest datagram size a path must support, and the smallest allowed here. */
    public static final int MIN_DATAGRAM_SIZE = 1200;
    /** RFC 9000 §18.2: the largest UDP payload (65535 minus the 8-byte UDP header). */
    public static final int MAX_DATAGRAM_SIZE = 65_527;
    /** The smallest windows and buffers allowed: a few datagrams. */
    public static final int MIN_WINDOW_BYTES = 16 * 1024;
    /** RFC 9000 §18.2: max_ack_delay must stay below 2^14 ms. */
    public static final long MAX_ACK_DELAY_LIMIT_MS = (1L << 14) - 1;

    private final int maxDatagramSize;
    private final CongestionControl congestionControl;
    private final Duration maxAckDelay;
    private final Duration idleTimeout;
    private final Duration keepAliveInterval;
    private final int receiveWindow;
    private final int sendBufferSize;
    private final Duration handshakeTimeout;
    private final Duration connectionTimeout;
    private final Duration readTimeout;
    private final Duration writeTimeout;
    private final Duration closeTimeout;
    private final int acceptBacklog;
    private final int handshakeRepliesPerSecond;

    private TransportConfig(Builder b) {
        this.maxDatagramSize = b.maxDatagramSize;
        this.congestionControl = b.congestionControl;
        this.maxAckDelay = b.maxAckDelay;
        this.idleTimeout = b.idleTimeout;
        this.keepAliveInterval = b.keepAliveInterval;
        this.receiveWindow = b.receiveWindow;
        this.sendBufferSize = b.sendBufferSize;
        this.handshakeTimeout = b.handshakeTimeout;
        this.connectionTimeout = b.connectionTimeout;
        this.readTimeout = b.readTimeout;
        this.writeTimeout = b.writeTimeout;
        this.closeTimeout = b.closeTimeout;
        this.acceptBacklog = b.acceptBacklog;
        this.handshakeRepliesPerSecond = b.handshakeRepliesPerSecond;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder preset with this configuration's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxDatagramSize = maxDatagramSize;
        b.congestionControl = congestionControl;
        b.maxAckDelay = maxAckDelay;
        b.idleTimeout = idleTimeout;
        b.keepAliveInterval = keepAliveInterval;
        b.receiveWindow = receiveWindow;
        b.sendBufferSize = sendBufferSize;
        b.handshakeTimeout = handshakeTimeout;
        b.connectionTimeout = connectionTimeout;
        b.readTimeout = readTimeout;
        b.writeTimeout = writeTimeout;
        b.closeTimeout = closeTimeout;
        b.acceptBacklog = acceptBacklog;
        b.handshakeRepliesPerSecond = handshakeRepliesPerSecond;
        return b;
    }

    /** Largest UDP payload this side sends and accepts, in bytes; a connection uses the smaller of both sides'. */
    public int maxDatagramSize() {
        return maxDatagramSize;
    }

    public CongestionControl congestionControl() {
        return congestionControl;
    }

    /** The longest this side delays an acknowledgement (RFC 9000 §13.2.1), announced to the peer. */
    public Duration maxAckDelay() {
        return maxAckDelay;
    }

    /** Close the connection after this long without receiving anything; zero disables (RFC 9000 §10.1). */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** Send a PING after this long without traffic; zero disables. */
    public Duration keepAliveInterval() {
        return keepAliveInterval;
    }

    /** Flow-control window in bytes: how far ahead of the application's reads the peer may send. */
    public int receiveWindow() {
        return receiveWindow;
    }

    /** Bytes written but not yet acknowledged that a connection holds; writes block beyond it. */
    public int sendBufferSize() {
        return sendBufferSize;
    }

    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /** How long outstanding data may go unacknowledged before the connection fails. */
    public Duration connectionTimeout() {
        return connectionTimeout;
    }

    /** How long a blocking read waits for data; zero means until data arrives or the connection ends. */
    public Duration readTimeout() {
        return readTimeout;
    }

    /** How long a blocking write waits for buffer space; zero means until space or the connection ends. */
    public Duration writeTimeout() {
        return writeTimeout;
    }

    /**
     * How long {@code close()} waits without the peer acknowledging anything new: a stall bound, not a total
     * (a close keeps waiting while written data is still being acknowledged).
     */
    public Duration closeTimeout() {
        return closeTimeout;
    }

    public int acceptBacklog() {
        return acceptBacklog;
    }

    /**
     * The most INITIALs an endpoint answers per second (with a burst of as many): each answer costs the Noise
     * work of the responder's reply, so a flood of INITIALs, spoofed or not, must not take the event loop from
     * the connections it already carries. INITIALs beyond it are counted and dropped; a real client resends
     * its INITIAL within a second and gets through when the flood leaves room.
     */
    public int handshakeRepliesPerSecond() {
        return handshakeRepliesPerSecond;
    }

    @Override
    public String toString() {
        return "TransportConfig{maxDatagramSize=" + maxDatagramSize + ", congestionControl=" + congestionControl
                + ", maxAckDelay=" + maxAckDelay + ", idleTimeout=" + idleTimeout + ", keepAliveInterval="
                + keepAliveInterval + ", receiveWindow=" + receiveWindow + ", sendBufferSize=" + sendBufferSize
                + ", handshakeTimeout=" + handshakeTimeout + ", connectionTimeout=" + connectionTimeout
                + ", readTimeout=" + readTimeout + ", writeTimeout=" + writeTimeout + ", closeTimeout="
                + closeTimeout + ", acceptBacklog=" + acceptBacklog + ", handshakeRepliesPerSecond="
                + handshakeRepliesPerSecond + '}';
    }

    /** Builds a {@link TransportConfig}; every setter checks its argument and says what is allowed. */
    public static final class Builder {
        private int maxDatagramSize = 1200;
        private CongestionControl congestionControl = CongestionControl.BBR;
        private Duration maxAckDelay = Duration.ofMillis(25);
        private Duration idleTimeout = Duration.ofSeconds(30);
        private Duration keepAliveInterval = Duration.ofSeconds(15);
        private int receiveWindow = 16 << 20;
        private int sendBufferSize = 16 << 20;
        private Duration handshakeTimeout = Duration.ofSeconds(10);
        private Duration connectionTimeout = Duration.ofSeconds(10);
        private Duration readTimeout = Duration.ZERO;
        private Duration writeTimeout = Duration.ZERO;
        private Duration closeTimeout = Duration.ofSeconds(10);
        private int acceptBacklog = 64;
        private int handshakeRepliesPerSecond = 500;

        private Builder() {
        }

        public Builder maxDatagramSize(int bytes) {
            if (bytes < MIN_DATAGRAM_SIZE || bytes > MAX_DATAGRAM_SIZE) {
                throw new IllegalArgumentException("maxDatagramSize must be in [" + MIN_DATAGRAM_SIZE + ", "
                        + MAX_DATAGRAM_SIZE + "] bytes, got " + bytes);
            }
            this.maxDatagramSize = bytes;
            return this;
        }

        public Builder congestionControl(CongestionControl congestionControl) {
            this.congestionControl = Objects.requireNonNull(congestionControl, "congestionControl");
            return this;
        }

        public Builder maxAckDelay(Duration delay) {
            long ms = nonNegative("maxAckDelay", delay).toMillis();
            if (ms > MAX_ACK_DELAY_LIMIT_MS) {
                throw new IllegalArgumentException("maxAckDelay must be below 2^14 ms (RFC 9000 §18.2), got " + delay);
            }
            this.maxAckDelay = delay;
            return this;
        }

        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = nonNegative("idleTimeout", timeout);
            return this;
        }

        public Builder keepAliveInterval(Duration interval) {
            this.keepAliveInterval = nonNegative("keepAliveInterval", interval);
            return this;
        }

        public Builder receiveWindow(int bytes) {
            this.receiveWindow = atLeast("receiveWindow", bytes, MIN_WINDOW_BYTES);
            return this;
        }

        public Builder sendBufferSize(int bytes) {
            this.sendBufferSize = atLeast("sendBufferSize", bytes, MIN_WINDOW_BYTES);
            return this;
        }

        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = positive("handshakeTimeout", timeout);
            return this;
        }

        public Builder connectionTimeout(Duration timeout) {
            this.connectionTimeout = positive("connectionTimeout", timeout);
            return this;
        }

        public Builder readTimeout(Duration timeout) {
            this.readTimeout = nonNegative("readTimeout", timeout);
            return this;
        }

        public Builder writeTimeout(Duration timeout) {
            this.writeTimeout = nonNegative("writeTimeout", timeout);
            return this;
        }

        public Builder closeTimeout(Duration timeout) {
            this.closeTimeout = nonNegative("closeTimeout", timeout);
            return this;
        }

        /** See {@link TransportConfig#handshakeRepliesPerSecond()}; at least 1. */
        public Builder handshakeRepliesPerSecond(int replies) {
            this.handshakeRepliesPerSecond = atLeast("handshakeRepliesPerSecond", replies, 1);
            return this;
        }

        public Builder acceptBacklog(int connections) {
            this.acceptBacklog = atLeast("acceptBacklog", connections, 1);
            return this;
        }

        public TransportConfig build() {
            if (!keepAliveInterval.isZero() && !idleTimeout.isZero() && keepAliveInterval.compareTo(idleTimeout) >= 0) {
                throw new IllegalArgumentException("keepAliveInterval (" + keepAliveInterval
                        + ") must be shorter than idleTimeout (" + idleTimeout + ") or the connection times out"
                        + " between keep-alives");
            }
            return new TransportConfig(this);
        }

        private static Duration nonNegative(String name, Duration value) {
            Objects.requireNonNull(value, name);
            if (value.isNegative()) {
                throw new IllegalArgumentException(name + " must not be negative, got " + value);
            }
            return value;
        }

        private static Duration positive(String name, Duration value) {
            nonNegative(name, value);
            if (value.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + value);
            }
            return value;
        }

        private static int atLeast(String name, int value, int min) {
            if (value < min) {
                throw new IllegalArgumentException(name + " must be at least " + min + ", got " + value);
            }
            return value;
        }
    }
}
