package dev.pinhole.protocol.rendezvous;

import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunHeader;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.rendezvous.RelayOffer;
import io.netty.buffer.ByteBuf;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Encoding of the rendezvous attributes that carry addresses (layouts in {@link RendezvousProtocol}).
 *
 * <p>The address part is the XOR-MAPPED-ADDRESS format of RFC 8489 §14.2, except that an IPv6 address
 * is XOR-ed with the magic cookie repeated four times instead of cookie and transaction id:
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0 0 0 0 0 0 0|    Family     |    Port XOR 0x2112 (16 bits)  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Address XOR 0x2112A442, per 32-bit word (32 or 128 bits)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * The XOR keeps middleboxes that rewrite addresses they find in payloads away from ours (the reason
 * RFC 8489 gives); leaving the transaction id out lets the server copy a client's HOST-CANDIDATE value
 * unchanged into the other peer's PEER-CANDIDATE and compare refreshes byte for byte.
 *
 * <pre>
 *   HOST-CANDIDATE  = priority (32) | address (8 or 20 bytes)               : 12 or 24 bytes
 *   PEER-CANDIDATE  = type (8) | 0 (24) | priority (32) | address          : 16 or 28 bytes
 *   RELAY-OFFER     = address (8 or 20) | ulen (16) | username (ulen) | plen (16) | password (plen)
 *                     | expiry (64, Unix seconds)                          : 20 + ulen + plen or 32 + ...
 * </pre>
 * RELAY-OFFER lengths: username and password 1–{@value RelayOffer#MAX_CREDENTIAL_BYTES} bytes of UTF-8
 * each, and the fields must fill the attribute value exactly; anything else is malformed.
 */
public final class RendezvousAttributes {
    static final int XOR_ADDRESS_V4_BYTES = 8;
    static final int XOR_ADDRESS_V6_BYTES = 20;
    public static final int PRIORITY_BYTES = 4;
    public static final int HOST_CANDIDATE_V4_BYTES = PRIORITY_BYTES + XOR_ADDRESS_V4_BYTES;
    static final int HOST_CANDIDATE_V6_BYTES = PRIORITY_BYTES + XOR_ADDRESS_V6_BYTES;
    /** Type byte and three reserved bytes in front of a HOST-CANDIDATE value. */
    public static final int PEER_CANDIDATE_PREFIX_BYTES = 4;
    public static final int MAX_HOST_CANDIDATE_BYTES = HOST_CANDIDATE_V6_BYTES;
    static final int MAX_PEER_CANDIDATE_BYTES = PEER_CANDIDATE_PREFIX_BYTES + MAX_HOST_CANDIDATE_BYTES;
    /** RELAY-OFFER: the two length fields and the expiry. */
    static final int RELAY_OFFER_FIXED_BYTES = 2 + 2 + 8;
    static final int MIN_RELAY_OFFER_BYTES = XOR_ADDRESS_V4_BYTES + RELAY_OFFER_FIXED_BYTES + 2;

    private static final int FAMILY_OFFSET = 1;
    private static final int PORT_OFFSET = 2;
    private static final int ADDRESS_OFFSET = 4;
    private static final int COOKIE = StunHeader.MAGIC_COOKIE;

    private RendezvousAttributes() {
    }

    /** Bytes of the XOR address of {@code address}. */
    static int xorAddressLength(InetSocketAddress address) {
        return address.getAddress() instanceof Inet4Address ? XOR_ADDRESS_V4_BYTES : XOR_ADDRESS_V6_BYTES;
    }

    /** Writes the XOR address of {@code address} into {@code out} at {@code offset}; returns the bytes written. */
    static int writeXorAddress(byte[] out, int offset, InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("an unresolved address cannot be sent: " + address);
        }
        byte[] raw = ip.getAddress();
        int port = address.getPort() ^ (COOKIE >>> 16);
        out[offset] = 0;
        out[offset + FAMILY_OFFSET] = (byte) (raw.length == 4 ? StunAttributeType.FAMILY_IPV4 : StunAttributeType.FAMILY_IPV6);
        out[offset + PORT_OFFSET] = (byte) (port >>> 8);
        out[offset + PORT_OFFSET + 1] = (byte) port;
        for (int i = 0; i < raw.length; i++) {
            out[offset + ADDRESS_OFFSET + i] = (byte) (raw[i] ^ (COOKIE >>> (24 - 8 * (i & 3))));
        }
        return ADDRESS_OFFSET + raw.length;
    }

    /** Whether {@code [index, index + length)} of {@code buf} is a well-formed XOR address. */
    static boolean isXorAddress(ByteBuf buf, int index, int length) {
        if (length != XOR_ADDRESS_V4_BYTES && length != XOR_ADDRESS_V6_BYTES) {
            return false;
        }
        int family = buf.getUnsignedByte(index + FAMILY_OFFSET);
        return length == XOR_ADDRESS_V4_BYTES ? family == StunAttributeType.FAMILY_IPV4
            : family == StunAttributeType.FAMILY_IPV6;
    }

    /** Decodes an XOR address, or returns null if it is not well formed. */
    static InetSocketAddress readXorAddress(ByteBuf buf, int index, int length) {
        if (!isXorAddress(buf, index, length)) {
            return null;
        }
        int port = buf.getUnsignedShort(index + PORT_OFFSET) ^ (COOKIE >>> 16);
        byte[] raw = new byte[length - ADDRESS_OFFSET];
        buf.getBytes(index + ADDRESS_OFFSET, raw);
        for (int i = 0; i < raw.length; i++) {
            raw[i] ^= (byte) (COOKIE >>> (24 - 8 * (i & 3)));
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(raw), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 or 16 bytes are always an IP address", e);
        }
    }

    /** Encodes a HOST-CANDIDATE value; returns its length. */
    public static int writeHostCandidate(byte[] out, int offset, long priority, InetSocketAddress address) {
        writeInt(out, offset, (int) priority);
        return PRIORITY_BYTES + writeXorAddress(out, offset + PRIORITY_BYTES, address);
    }

    /** Whether a HOST-CANDIDATE value is well formed: a non-zero priority and an XOR address with a non-zero port. */
    public static boolean isHostCandidate(ByteBuf buf, int index, int length) {
        if (length != HOST_CANDIDATE_V4_BYTES && length != HOST_CANDIDATE_V6_BYTES) {
            return false;
        }
        return buf.getInt(index) != 0
            && isXorAddress(buf, index + PRIORITY_BYTES, length - PRIORITY_BYTES)
            && (buf.getUnsignedShort(index + PRIORITY_BYTES + PORT_OFFSET) ^ (COOKIE >>> 16)) != 0;
    }

    /**
     * A decoded PEER-CANDIDATE, or null if the value is not well formed.
     *
     * @param index  buffer index of the value
     * @param length value length
     */
    public static WireCandidate readPeerCandidate(ByteBuf buf, int index, int length) {
        if (length != PEER_CANDIDATE_PREFIX_BYTES + HOST_CANDIDATE_V4_BYTES
            && length != PEER_CANDIDATE_PREFIX_BYTES + HOST_CANDIDATE_V6_BYTES) {
            return null;
        }
        int type = buf.getUnsignedByte(index);
        long priority = buf.getUnsignedInt(index + PEER_CANDIDATE_PREFIX_BYTES);
        if (type > RendezvousProtocol.CANDIDATE_RELAYED || priority == 0) {
            return null;
        }
        int addressIndex = index + PEER_CANDIDATE_PREFIX_BYTES + PRIORITY_BYTES;
        InetSocketAddress address = readXorAddress(buf, addressIndex, length - PEER_CANDIDATE_PREFIX_BYTES - PRIORITY_BYTES);
        if (address == null || address.getPort() == 0) {
            return null;
        }
        return new WireCandidate(type, priority, address);
    }

    /** Decodes a HOST-CANDIDATE value, or returns null if it is not well formed. */
    public static WireCandidate readHostCandidate(ByteBuf buf, int index, int length) {
        if (!isHostCandidate(buf, index, length)) {
            return null;
        }
        InetSocketAddress address = readXorAddress(buf, index + PRIORITY_BYTES, length - PRIORITY_BYTES);
        return new WireCandidate(RendezvousProtocol.CANDIDATE_HOST, buf.getUnsignedInt(index), address);
    }

    /** Encodes a PEER-CANDIDATE value of {@code candidate}'s type, priority and address. */
    public static byte[] peerCandidate(Candidate candidate) {
        byte[] value = new byte[MAX_PEER_CANDIDATE_BYTES];
        value[0] = (byte) candidateCode(candidate.type());
        int length = PEER_CANDIDATE_PREFIX_BYTES
            + writeHostCandidate(value, PEER_CANDIDATE_PREFIX_BYTES, candidate.priority(), candidate.address());
        return Arrays.copyOf(value, length);
    }

    /** The wire code of a candidate type ({@code RendezvousProtocol.CANDIDATE_*}). */
    static int candidateCode(CandidateType type) {
        return switch (type) {
            case HOST -> RendezvousProtocol.CANDIDATE_HOST;
            case SERVER_REFLEXIVE -> RendezvousProtocol.CANDIDATE_SERVER_REFLEXIVE;
            case PEER_REFLEXIVE -> RendezvousProtocol.CANDIDATE_PEER_REFLEXIVE;
            case RELAYED -> RendezvousProtocol.CANDIDATE_RELAYED;
        };
    }

    /** The candidate type of a wire code already checked by {@link #readPeerCandidate}. */
    static CandidateType candidateType(int code) {
        return switch (code) {
            case RendezvousProtocol.CANDIDATE_HOST -> CandidateType.HOST;
            case RendezvousProtocol.CANDIDATE_SERVER_REFLEXIVE -> CandidateType.SERVER_REFLEXIVE;
            case RendezvousProtocol.CANDIDATE_PEER_REFLEXIVE -> CandidateType.PEER_REFLEXIVE;
            default -> CandidateType.RELAYED;
        };
    }

    /** A peer's candidate as the recipient uses it: its base is unknown, so it is the address itself. */
    public static Candidate toCandidate(WireCandidate wire) {
        return new Candidate(candidateType(wire.type()), wire.address(), wire.priority(), wire.address());
    }

    /** Encodes a RELAY-OFFER value. */
    public static byte[] relayOffer(RelayOffer offer) {
        byte[] username = offer.username().getBytes(StandardCharsets.UTF_8);
        byte[] password = offer.password().getBytes(StandardCharsets.UTF_8);
        int addressLength = xorAddressLength(offer.server());
        byte[] value = new byte[addressLength + RELAY_OFFER_FIXED_BYTES + username.length + password.length];
        int at = writeXorAddress(value, 0, offer.server());
        at = writeLengthPrefixed(value, at, username);
        at = writeLengthPrefixed(value, at, password);
        writeLong(value, at, offer.expiresUnixSeconds());
        return value;
    }

    private static int writeLengthPrefixed(byte[] out, int at, byte[] field) {
        out[at] = (byte) (field.length >>> 8);
        out[at + 1] = (byte) field.length;
        System.arraycopy(field, 0, out, at + 2, field.length);
        return at + 2 + field.length;
    }

    /**
     * Decodes a RELAY-OFFER value, or returns null if it is not well formed: a bad address family, port 0,
     * a length field that runs past the value or leaves bytes over, an empty or oversized field, invalid
     * UTF-8, or a negative expiry.
     */
    public static RelayOffer readRelayOffer(ByteBuf buf, int index, int length) {
        if (length < MIN_RELAY_OFFER_BYTES) {
            return null;
        }
        int family = buf.getUnsignedByte(index + FAMILY_OFFSET);
        int addressLength = family == StunAttributeType.FAMILY_IPV4 ? XOR_ADDRESS_V4_BYTES
            : family == StunAttributeType.FAMILY_IPV6 ? XOR_ADDRESS_V6_BYTES : -1;
        if (addressLength < 0 || length < addressLength + RELAY_OFFER_FIXED_BYTES + 2) {
            return null;
        }
        InetSocketAddress server = readXorAddress(buf, index, addressLength);
        if (server == null || server.getPort() == 0) {
            return null;
        }
        int end = index + length;
        int at = index + addressLength;
        int usernameLength = buf.getUnsignedShort(at);
        at += 2;
        if (usernameLength == 0 || usernameLength > RelayOffer.MAX_CREDENTIAL_BYTES || at + usernameLength + 2 > end) {
            return null;
        }
        String username = utf8(buf, at, usernameLength);
        at += usernameLength;
        int passwordLength = buf.getUnsignedShort(at);
        at += 2;
        if (passwordLength == 0 || passwordLength > RelayOffer.MAX_CREDENTIAL_BYTES
            || at + passwordLength + 8 != end) {
            return null;
        }
        String password = utf8(buf, at, passwordLength);
        at += passwordLength;
        long expiry = buf.getLong(at);
        if (username == null || password == null || expiry < 0) {
            return null;
        }
        return new RelayOffer(server, username, password, expiry);
    }

    /** Strictly decoded UTF-8, or null if the bytes are not valid UTF-8. */
    private static String utf8(ByteBuf buf, int index, int length) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(buf.nioBuffer(index, length)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    static void writeInt(byte[] out, int offset, int value) {
        out[offset] = (byte) (value >>> 24);
        out[offset + 1] = (byte) (value >>> 16);
        out[offset + 2] = (byte) (value >>> 8);
        out[offset + 3] = (byte) value;
    }

    public static void writeLong(byte[] out, int offset, long value) {
        writeInt(out, offset, (int) (value >>> 32));
        writeInt(out, offset + 4, (int) value);
    }

    /**
     * A candidate as the protocol carries it.
     *
     * @param type     a {@code RendezvousProtocol.CANDIDATE_*} code
     * @param priority RFC 8445 §5.1.2 priority, 1 to 2^32 - 1
     * @param address  the transport address
     */
    public record WireCandidate(int type, long priority, InetSocketAddress address) {
    }
}
