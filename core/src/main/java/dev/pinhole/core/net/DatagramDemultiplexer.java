package dev.pinhole.core.net;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Splits the datagrams of one UDP socket between STUN, TURN ChannelData and the Pinhole transport by
 * their first bytes, because a node uses one UDP socket for everything (docs/architecture.md, principle 2;
 * the ranges of RFC 7983 §7):
 *
 * <pre>
 *   first byte   kind            further checks before routing
 *   0 – 3        STUN            length ≥ 20, magic cookie 0x2112A442 at offset 4,
 *                                message length (offset 2) a multiple of 4 and = length − 20 (RFC 8489 §5, §6)
 *   64 – 79      CHANNEL_DATA    length ≥ 4, length field (offset 2) ≤ length − 4 (RFC 8656 §12.3, §12.5)
 *   128 – 191    TRANSPORT       none here: the transport's own parser bounds-checks the rest
 *   otherwise    dropped
 * </pre>
 *
 * Every datagram is counted under its {@link PacketKind}; a routed kind with no receiver installed is
 * also counted as unrouted. The datagram is lent to the chosen receiver exactly as this demultiplexer
 * was lent it (see {@link DatagramReceiver}); nothing here retains or releases it.
 *
 * <p>Receivers are installed and datagrams dispatched on the endpoint's event loop. The counters may be
 * read from any thread.
 */
public final class DatagramDemultiplexer implements DatagramReceiver {
    /** RFC 8489 §5: the fixed STUN header is 20 bytes. */
    public static final int STUN_HEADER_LENGTH = 20;
    /** RFC 8489 §5: offset of the 16-bit message length, which excludes the header. */
    public static final int STUN_MESSAGE_LENGTH_OFFSET = 2;
    /** RFC 8489 §5: offset of the magic cookie. */
    public static final int STUN_MAGIC_COOKIE_OFFSET = 4;
    /** RFC 8489 §5: the magic cookie, in network byte order. */
    public static final int STUN_MAGIC_COOKIE = 0x2112A442;
    /** RFC 8656 §12.3: channel number (2 bytes) and length (2 bytes). */
    public static final int CHANNEL_DATA_HEADER_LENGTH = 4;
    /** RFC 8656 §12.3: offset of the 16-bit application-data length. */
    public static final int CHANNEL_DATA_LENGTH_OFFSET = 2;

    private static final PacketKind[] KINDS = PacketKind.values();

    private final DatagramReceiver[] receivers = new DatagramReceiver[KINDS.length];
    private final AtomicLongArray classified = new AtomicLongArray(KINDS.length);
    private final AtomicLongArray unrouted = new AtomicLongArray(KINDS.length);

    /**
     * Classifies the readable bytes of {@code datagram} without changing its indices.
     * A pure function of those bytes.
     */
    public static PacketKind classify(ByteBuf datagram) {
        final int length = datagram.readableBytes();
        if (length == 0) {
            return PacketKind.EMPTY;
        }
        final int start = datagram.readerIndex();
        final int firstByte = datagram.getUnsignedByte(start);
        if (firstByte <= 3) {
            return classifyStun(datagram, start, length);
        }
        if (firstByte >= 64 && firstByte <= 79) {
            if (length < CHANNEL_DATA_HEADER_LENGTH) {
                return PacketKind.CHANNEL_DATA_TOO_SHORT;
            }
            // Over UDP the datagram may carry padding after the data, so it can be longer, never shorter.
            final int dataLength = datagram.getUnsignedShort(start + CHANNEL_DATA_LENGTH_OFFSET);
            return dataLength <= length - CHANNEL_DATA_HEADER_LENGTH
                ? PacketKind.CHANNEL_DATA : PacketKind.CHANNEL_DATA_BAD_LENGTH;
        }
        if (firstByte >= 128 && firstByte <= 191) {
            return PacketKind.TRANSPORT;
        }
        return PacketKind.UNKNOWN_FIRST_BYTE;
    }

    private static PacketKind classifyStun(ByteBuf datagram, int start, int length) {
        if (length < STUN_HEADER_LENGTH) {
            return PacketKind.STUN_TOO_SHORT;
        }
        if (datagram.getInt(start + STUN_MAGIC_COOKIE_OFFSET) != STUN_MAGIC_COOKIE) {
            return PacketKind.STUN_BAD_COOKIE;
        }
        // RFC 8489 §5: attributes are padded to 4 bytes, so the last two bits of the length are zero.
        final int messageLength = datagram.getUnsignedShort(start + STUN_MESSAGE_LENGTH_OFFSET);
        if ((messageLength & 3) != 0 || messageLength != length - STUN_HEADER_LENGTH) {
            return PacketKind.STUN_BAD_LENGTH;
        }
        return PacketKind.STUN;
    }

    /**
     * Installs the receiver of one routed kind (replacing any earlier one); {@code null} removes it, and
     * datagrams of that kind are then counted as unrouted and dropped.
     *
     * @throws IllegalArgumentException if {@code kind} is a drop reason, not a routed kind
     */
    public void route(PacketKind kind, DatagramReceiver receiver) {
        Objects.requireNonNull(kind, "kind");
        if (!kind.routed()) {
            throw new IllegalArgumentException(kind + " is a reason to drop a datagram, not a kind to route");
        }
        receivers[kind.ordinal()] = receiver;
    }

    @Override
    public void onDatagram(ByteBuf datagram, InetSocketAddress sender) {
        final PacketKind kind = classify(datagram);
        final int index = kind.ordinal();
        increment(classified, index);
        if (!kind.routed()) {
            return;
        }
        final DatagramReceiver receiver = receivers[index];
        if (receiver == null) {
            increment(unrouted, index);
            return;
        }
        receiver.onDatagram(datagram, sender);
    }

    /** Datagrams classified as {@code kind} so far, routed or not. */
    public long count(PacketKind kind) {
        return classified.get(kind.ordinal());
    }

    /** Datagrams of a routed {@code kind} dropped because no receiver was installed for it. */
    public long unrouted(PacketKind kind) {
        return unrouted.get(kind.ordinal());
    }

    /** All datagrams dropped: every drop reason plus the unrouted ones. */
    public long dropped() {
        long total = 0;
        for (PacketKind kind : KINDS) {
            total += kind.routed() ? unrouted(kind) : count(kind);
        }
        return total;
    }

    private static void increment(AtomicLongArray counters, int index) {
        // Single writer (the event loop): a release store is enough for readers on other threads.
        counters.setRelease(index, counters.getPlain(index) + 1);
    }
}
