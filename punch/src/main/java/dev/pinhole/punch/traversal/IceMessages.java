package dev.pinhole.punch.traversal;

import dev.pinhole.protocol.ice.Credentials;

import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Writes the STUN messages of ICE connectivity checks (RFC 8445 §7) for one session: the credentials'
 * USERNAME bytes and HMAC keys are prepared once, and one {@link StunWriter} is reused, so a check costs
 * one pooled buffer and nothing else.
 *
 * <ul>
 *   <li>Request (§7.2.2): USERNAME {@code remoteUfrag:localUfrag}, PRIORITY, ICE-CONTROLLING or
 *       ICE-CONTROLLED with the tie-breaker, USE-CANDIDATE when nominating, MESSAGE-INTEGRITY with the
 *       remote password, FINGERPRINT (§7.2.2 requires it).</li>
 *   <li>Success response (§7.3.1, RFC 8489 §6.3.3): XOR-MAPPED-ADDRESS of the request's source,
 *       MESSAGE-INTEGRITY with the local password, FINGERPRINT.</li>
 *   <li>487 IceRole Conflict (§7.3.1.1), signed the same way.</li>
 *   <li>Keepalive (§11): a Binding indication with FINGERPRINT only.</li>
 * </ul>
 */
final class IceMessages {
    /** RFC 8445 §7.3.1.1: the error code of a role conflict. */
    static final int ROLE_CONFLICT = 487;
    /** Room for the largest message written here: header plus attributes with a 256-char USERNAME. */
    private static final int INITIAL_CAPACITY = 160;

    private final StunWriter writer = new StunWriter();
    private final ByteBufAllocator allocator;
    /** USERNAME of outgoing requests: "remoteUfrag:localUfrag". */
    private final byte[] outgoingUsername;
    /** USERNAME incoming requests must carry: "localUfrag:remoteUfrag". */
    private final byte[] incomingUsername;
    /** The first part of an incoming USERNAME that identifies this session on a shared socket: "localUfrag:". */
    private final byte[] localUfragPrefix;
    private final StunKey localKey;
    private final StunKey remoteKey;

    IceMessages(ByteBufAllocator allocator, Credentials local, Credentials remote) {
        this.allocator = allocator;
        this.outgoingUsername = (remote.ufrag() + ":" + local.ufrag()).getBytes(StandardCharsets.US_ASCII);
        this.incomingUsername = (local.ufrag() + ":" + remote.ufrag()).getBytes(StandardCharsets.US_ASCII);
        this.localUfragPrefix = (local.ufrag() + ":").getBytes(StandardCharsets.US_ASCII);
        this.localKey = StunKey.shortTerm(local.password());
        this.remoteKey = StunKey.shortTerm(remote.password());
    }

    StunKey localKey() {
        return localKey;
    }

    StunKey remoteKey() {
        return remoteKey;
    }

    byte[] incomingUsername() {
        return incomingUsername;
    }

    byte[] localUfragPrefix() {
        return localUfragPrefix;
    }

    /** A connectivity check (RFC 8445 §7.2.2). */
    ByteBuf check(long txHigh, int txLow, long priority, IceRole role, long tieBreaker, boolean useCandidate) {
        ByteBuf out = allocator.buffer(INITIAL_CAPACITY);
        writer.begin(out, StunMessageType.BINDING_REQUEST, txHigh, txLow)
                .addBytes(StunAttributeType.USERNAME, outgoingUsername)
                .addUInt32(StunAttributeType.PRIORITY, (int) priority)
                .addUInt64(role == IceRole.CONTROLLING ? StunAttributeType.ICE_CONTROLLING
                        : StunAttributeType.ICE_CONTROLLED, tieBreaker);
        if (useCandidate) {
            writer.addEmpty(StunAttributeType.USE_CANDIDATE);
        }
        writer.addMessageIntegrity(remoteKey).addFingerprint().finish();
        return out;
    }

    /** The success response to a check from {@code source} (RFC 8445 §7.3.1, RFC 8489 §14.2). */
    ByteBuf success(long txHigh, int txLow, InetSocketAddress source) {
        ByteBuf out = allocator.buffer(INITIAL_CAPACITY);
        writer.begin(out, StunMessageType.BINDING_SUCCESS_RESPONSE, txHigh, txLow)
                .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, source)
                .addMessageIntegrity(localKey)
                .addFingerprint()
                .finish();
        return out;
    }

    /** 487 IceRole Conflict (RFC 8445 §7.3.1.1). */
    ByteBuf roleConflict(long txHigh, int txLow) {
        ByteBuf out = allocator.buffer(INITIAL_CAPACITY);
        writer.begin(out, StunMessageType.BINDING_ERROR_RESPONSE, txHigh, txLow)
                .addErrorCode(ROLE_CONFLICT, "IceRole Conflict")
                .addMessageIntegrity(localKey)
                .addFingerprint()
                .finish();
        return out;
    }

    /** A keepalive or priming datagram: a Binding indication (RFC 8445 §11), which no one answers. */
    ByteBuf indication(long txHigh, int txLow) {
        ByteBuf out = allocator.buffer(HEADER_AND_FINGERPRINT);
        writer.begin(out, StunMessageType.BINDING_INDICATION, txHigh, txLow).addFingerprint().finish();
        return out;
    }

    /** 20-byte header plus the 8-byte FINGERPRINT attribute. */
    private static final int HEADER_AND_FINGERPRINT = 28;
}
