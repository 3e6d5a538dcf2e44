package dev.pinhole.reliability.wire;

import io.netty.buffer.ByteBuf;

/**
 * The transport parameters each side declares in the handshake (HELLO, HELLO_REPLY, CONFIRM), in the
 * spirit of RFC 9000 §18.
 *
 * <p>Encoding: a varint byte length, then {@code (id varint, value varint)} pairs. Unknown ids are
 * skipped so that new parameters can be added; a known id that appears twice, or a value out of its
 * range, makes the block malformed (RFC 9000 §7.4 treats both as TRANSPORT_PARAMETER_ERROR). A known
 * parameter that is absent takes its value from {@link #DEFAULTS}.
 *
 * <pre>
 * Transport Parameters {
 *   Length (i),
 *   Parameter (..) ...,    // Parameter { Id (i), Value (i) }
 * }
 * </pre>
 *
 * @param maxDatagramSize largest UDP payload the sender of these parameters accepts, in bytes
 *                        (RFC 9000 §18.2 max_udp_payload_size: at least 1200, at most 65527)
 * @param initialMaxData  the stream offset the peer may send up to before the first MAX_DATA
 *                        (RFC 9000 §18.2 initial_max_data)
 * @param idleTimeoutMs   idle timeout in milliseconds; 0 means none (RFC 9000 §10.1)
 * @param maxAckDelayMs   the longest the sender of these parameters delays an ACK, in milliseconds
 *                        (RFC 9000 §18.2 max_ack_delay: below 2^14)
 */
public record TransportParameters(int maxDatagramSize, long initialMaxData, long idleTimeoutMs,
                                  long maxAckDelayMs) {
    /** Id of {@link #maxDatagramSize}. */
    public static final int MAX_DATAGRAM_SIZE_ID = 0x01;
    /** Id of {@link #initialMaxData}. */
    public static final int INITIAL_MAX_DATA_ID = 0x02;
    /** Id of {@link #idleTimeoutMs}. */
    public static final int IDLE_TIMEOUT_MS_ID = 0x03;
    /** Id of {@link #maxAckDelayMs}. */
    public static final int MAX_ACK_DELAY_MS_ID = 0x04;

    /** RFC 9000 §14 / §18.2: every QUIC path must carry 1200-byte datagrams; the smallest allowed value. */
    public static final int MIN_DATAGRAM_SIZE = 1200;
    /** RFC 9000 §18.2: the largest UDP payload there is (65535 - 8 byte UDP header). */
    public static final int MAX_DATAGRAM_SIZE = 65_527;
    /** RFC 9000 §18.2: max_ack_delay values of 2^14 or more are invalid. */
    public static final long MAX_ACK_DELAY_LIMIT_MS = 1L << 14;

    /** The default datagram size of Pinhole, the QUIC minimum (RFC 9000 §14). */
    public static final int DEFAULT_DATAGRAM_SIZE = 1200;
    /** Default receive window: 1 MiB. */
    public static final long DEFAULT_INITIAL_MAX_DATA = 1L << 20;
    /** Default idle timeout (30 s). */
    public static final long DEFAULT_IDLE_TIMEOUT_MS = 30_000;
    /** RFC 9000 §18.2: the default max_ack_delay is 25 ms. */
    public static final long DEFAULT_MAX_ACK_DELAY_MS = 25;

    /** The defaults; also the value of every known parameter missing from a received block. */
    public static final TransportParameters DEFAULTS = new TransportParameters(DEFAULT_DATAGRAM_SIZE,
            DEFAULT_INITIAL_MAX_DATA, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_ACK_DELAY_MS);

    public TransportParameters {
        if (!validDatagramSize(maxDatagramSize)) {
            throw new IllegalArgumentException("maxDatagramSize must be in [" + MIN_DATAGRAM_SIZE + ", "
                    + MAX_DATAGRAM_SIZE + "], was " + maxDatagramSize);
        }
        if (initialMaxData < 0 || initialMaxData > VarInt.MAX_VALUE) {
            throw new IllegalArgumentException("initialMaxData must be in [0, 2^62), was " + initialMaxData);
        }
        if (idleTimeoutMs < 0 || idleTimeoutMs > VarInt.MAX_VALUE) {
            throw new IllegalArgumentException("idleTimeoutMs must be in [0, 2^62), was " + idleTimeoutMs);
        }
        if (maxAckDelayMs < 0 || maxAckDelayMs >= MAX_ACK_DELAY_LIMIT_MS) {
            throw new IllegalArgumentException("maxAckDelayMs must be in [0, 2^14), was " + maxAckDelayMs);
        }
    }

    private static boolean validDatagramSize(long size) {
        return size >= MIN_DATAGRAM_SIZE && size <= MAX_DATAGRAM_SIZE;
    }

    /** The number of bytes {@link #write} appends. */
    public int encodedLength() {
        final int body = bodyLength();
        return VarInt.length(body) + body;
    }

    private int bodyLength() {
        return 4 + VarInt.length(maxDatagramSize) + VarInt.length(initialMaxData)
                + VarInt.length(idleTimeoutMs) + VarInt.length(maxAckDelayMs);
    }

    /** Appends the encoded block (length, then all four parameters) at the writer index. */
    public void write(ByteBuf out) {
        VarInt.write(out, bodyLength());
        VarInt.write(out, MAX_DATAGRAM_SIZE_ID);
        VarInt.write(out, maxDatagramSize);
        VarInt.write(out, INITIAL_MAX_DATA_ID);
        VarInt.write(out, initialMaxData);
        VarInt.write(out, IDLE_TIMEOUT_MS_ID);
        VarInt.write(out, idleTimeoutMs);
        VarInt.write(out, MAX_ACK_DELAY_MS_ID);
        VarInt.write(out, maxAckDelayMs);
    }

    /**
     * Reads a block at the reader index and advances past it. Never throws on any input.
     *
     * @return the parameters, or null if the block is truncated or malformed (the reader index is
     *     then unspecified)
     */
    public static TransportParameters read(ByteBuf in) {
        final long length = VarInt.read(in);
        if (length < 0 || length > in.readableBytes()) {
            return null;
        }
        final int end = in.readerIndex() + (int) length;
        long maxDatagramSize = DEFAULTS.maxDatagramSize;
        long initialMaxData = DEFAULTS.initialMaxData;
        long idleTimeoutMs = DEFAULTS.idleTimeoutMs;
        long maxAckDelayMs = DEFAULTS.maxAckDelayMs;
        int seen = 0;
        while (in.readerIndex() < end) {
            final long id = VarInt.read(in);
            final long value = VarInt.read(in);
            if (id < 0 || value < 0 || in.readerIndex() > end) {
                return null;
            }
            if (id >= MAX_DATAGRAM_SIZE_ID && id <= MAX_ACK_DELAY_MS_ID) {
                final int bit = 1 << id;
                if ((seen & bit) != 0) {
                    return null;
                }
                seen |= bit;
            }
            if (id == MAX_DATAGRAM_SIZE_ID) {
                maxDatagramSize = value;
            } else if (id == INITIAL_MAX_DATA_ID) {
                initialMaxData = value;
            } else if (id == IDLE_TIMEOUT_MS_ID) {
                idleTimeoutMs = value;
            } else if (id == MAX_ACK_DELAY_MS_ID) {
                maxAckDelayMs = value;
            }
        }
        if (!validDatagramSize(maxDatagramSize) || maxAckDelayMs >= MAX_ACK_DELAY_LIMIT_MS) {
            return null;
        }
        return new TransportParameters((int) maxDatagramSize, initialMaxData, idleTimeoutMs, maxAckDelayMs);
    }
}
