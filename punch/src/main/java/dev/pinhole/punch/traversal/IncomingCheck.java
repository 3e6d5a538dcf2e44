package dev.pinhole.punch.traversal;

import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import io.netty.buffer.ByteBuf;

/**
 * Reads a Binding request a session's socket received and checks what RFC 8445 §7.3 requires before it is
 * answered: USERNAME {@code localUfrag:remoteUfrag} (§7.2.2; a request for another local ufrag is another
 * session's or another protocol's on the shared socket), FINGERPRINT and MESSAGE-INTEGRITY with the local
 * password, and PRIORITY (§7.1.1) and one role attribute (§7.1.3). One instance per session, reused: the
 * fields hold the last valid request until the next {@link #read}.
 */
final class IncomingCheck {
    /** What {@link #read} made of the request. */
    enum Verdict {
        /** Not addressed to this session: the caller passes it on. */
        NOT_OURS,
        /** Ours, but a required attribute is missing or wrong: dropped and counted. */
        MALFORMED,
        /** Ours, but MESSAGE-INTEGRITY does not verify: dropped and counted. */
        BAD_INTEGRITY,
        /** A check to answer; the fields hold its values. */
        VALID
    }

    private final StunReader reader;
    private final IceMessages messages;

    long priority;
    long tieBreaker;
    boolean peerControlling;
    boolean useCandidate;
    long txHigh;
    int txLow;

    IncomingCheck(StunReader reader, IceMessages messages) {
        this.reader = reader;
        this.messages = messages;
    }

    /** Reads the request the reader holds. */
    Verdict read() {
        int username = reader.findAttribute(StunAttributeType.USERNAME);
        if (username == StunReader.NO_ATTRIBUTE || !startsWith(username, messages.localUfragPrefix())) {
            return Verdict.NOT_OURS;
        }
        if (!reader.attributeValueEquals(username, messages.incomingUsername())
                || !reader.hasFingerprint() || !reader.hasMessageIntegrity()) {
            return Verdict.MALFORMED;
        }
        if (reader.verifyMessageIntegrity(messages.localKey()) != StunParseResult.OK) {
            return Verdict.BAD_INTEGRITY;
        }
        int priorityAt = reader.findAttribute(StunAttributeType.PRIORITY);
        int controllingAt = reader.findAttribute(StunAttributeType.ICE_CONTROLLING);
        int controlledAt = reader.findAttribute(StunAttributeType.ICE_CONTROLLED);
        int roleAt = controllingAt != StunReader.NO_ATTRIBUTE ? controllingAt : controlledAt;
        if (priorityAt == StunReader.NO_ATTRIBUTE || reader.attributeLength(priorityAt) != 4
                || roleAt == StunReader.NO_ATTRIBUTE || reader.attributeLength(roleAt) != 8) {
            return Verdict.MALFORMED;
        }
        priority = reader.uint32(priorityAt);
        tieBreaker = reader.uint64(roleAt);
        peerControlling = controllingAt != StunReader.NO_ATTRIBUTE;
        useCandidate = reader.hasAttribute(StunAttributeType.USE_CANDIDATE);
        txHigh = reader.transactionIdHigh();
        txLow = reader.transactionIdLow();
        return Verdict.VALID;
    }

    private boolean startsWith(int at, byte[] prefix) {
        if (reader.attributeLength(at) < prefix.length) {
            return false;
        }
        ByteBuf buffer = reader.buffer();
        int value = reader.attributeValueIndex(at);
        for (int i = 0; i < prefix.length; i++) {
            if (buffer.getByte(value + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
