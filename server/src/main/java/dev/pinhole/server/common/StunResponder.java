package dev.pinhole.server.common;

import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunHeader;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;

/**
 * Writes the STUN responses of every server in this module (RFC 8489 §6.3): a response to the request a
 * {@link StunReader} holds (same method, same transaction id), success or error, with the attributes they
 * all share: ERROR-CODE, the 401/438 challenge's REALM and NONCE (§9.2.4), UNKNOWN-ATTRIBUTES (§6.3.1.1)
 * trimmed to a size budget, XOR-MAPPED-ADDRESS for Binding (§14.2), then MESSAGE-INTEGRITY or
 * MESSAGE-INTEGRITY-SHA256 (§14.5, §14.6) and FINGERPRINT (§14.7). What else goes in between, the caller
 * adds through {@link #writer()}; when and where the response is sent, and whether it may be sent at all
 * (amplification budgets, counters), stays with the caller.
 *
 * <p>One response at a time: {@code begin…} starts it in a buffer from the caller's allocator,
 * {@link #finish} hands it over. Nothing is allocated besides that buffer. One thread.
 */
public final class StunResponder {
    /** RFC 8489 §15.7: the request had a comprehension-required attribute the server does not understand. */
    public static final int ERROR_UNKNOWN_ATTRIBUTE = 420;
    /** RFC 8489 §15.7's reason phrase for 420. */
    public static final String UNKNOWN_ATTRIBUTE_REASON = "Unknown Attribute";

    /** Which MESSAGE-INTEGRITY {@link #finish} adds. */
    public enum Integrity {
        NONE,
        /** MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1, the TURN server's long-term credentials. */
        HMAC_SHA1,
        /** MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6): the rendezvous server's shared secret. */
        HMAC_SHA256
    }

    private final StunWriter writer = new StunWriter();
    private final int[] unknown = new int[StunReader.MAX_UNKNOWN_RECORDED];
    private ByteBuf out;

    /** The writer of the response being built, for the attributes only its server knows. */
    public StunWriter writer() {
        return writer;
    }

    /** Bytes an attribute with a value of {@code valueLength} bytes takes: header and padded value. */
    public static int attributeSize(int valueLength) {
        return StunHeader.ATTRIBUTE_HEADER_LENGTH + StunHeader.padded(valueLength);
    }

    /** Starts a response of {@code messageClass} to {@code request}'s method and transaction. */
    public StunWriter begin(ByteBufAllocator allocator, int capacity, StunReader request, StunClass messageClass) {
        return begin(allocator, capacity, request, StunMessageType.of(request.method(), messageClass));
    }

    /** Starts a response of type {@code messageType} to {@code request}'s transaction. */
    public StunWriter begin(ByteBufAllocator allocator, int capacity, StunReader request, int messageType) {
        if (out != null) {
            // The previous response was abandoned half-written (an exception while adding to it).
            out.release();
        }
        out = allocator.buffer(capacity);
        return writer.begin(out, messageType, request.transactionIdHigh(), request.transactionIdLow());
    }

    /** Starts an error response with ERROR-CODE {@code code} and {@code reason}. */
    public StunWriter beginError(ByteBufAllocator allocator, int capacity, StunReader request, int code,
                                 String reason) {
        return begin(allocator, capacity, request, StunClass.ERROR_RESPONSE).addErrorCode(code, reason);
    }

    /**
     * Starts a 401 or 438 challenge (RFC 8489 §9.2.4): ERROR-CODE, REALM and a fresh NONCE, to be finished
     * without MESSAGE-INTEGRITY.
     */
    public StunWriter beginChallenge(ByteBufAllocator allocator, int capacity, StunReader request, int code,
                                     String reason, byte[] realm, byte[] nonce) {
        return beginError(allocator, capacity, request, code, reason).addBytes(StunAttributeType.REALM, realm)
            .addBytes(StunAttributeType.NONCE, nonce);
    }

    /** Starts a Binding success response (RFC 8489 §6.3.1.2) with XOR-MAPPED-ADDRESS {@code source}. */
    public StunWriter beginBindingSuccess(ByteBufAllocator allocator, int capacity, StunReader request,
                                          InetSocketAddress source) {
        return begin(allocator, capacity, request, StunClass.SUCCESS_RESPONSE)
            .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, source);
    }

    /**
     * Starts a 420 (RFC 8489 §6.3.1.1) listing the request's unknown comprehension-required attributes: as
     * many as keep the response within {@code budget} bytes with {@code trailerBytes} still to be added
     * (integrity, fingerprint), and at least one.
     */
    public StunWriter beginUnknownAttributes(ByteBufAllocator allocator, int capacity, StunReader request,
                                             int budget, int trailerBytes) {
        int count = Math.min(request.unknownComprehensionRequiredCount(), StunReader.MAX_UNKNOWN_RECORDED);
        for (int i = 0; i < count; i++) {
            unknown[i] = request.unknownComprehensionRequired(i);
        }
        int fixed = StunHeader.HEADER_LENGTH + attributeSize(4 + UNKNOWN_ATTRIBUTE_REASON.length()) + trailerBytes;
        int listed = count;
        while (listed > 1 && fixed + attributeSize(2 * listed) > budget) {
            listed--;
        }
        return beginError(allocator, capacity, request, ERROR_UNKNOWN_ATTRIBUTE, UNKNOWN_ATTRIBUTE_REASON)
            .addUnknownAttributes(unknown, listed);
    }

    /** Starts a 420 listing {@code type} only: an attribute the server knows but will not honour here. */
    public StunWriter beginUnknownAttribute(ByteBufAllocator allocator, int capacity, StunReader request, int type) {
        unknown[0] = type;
        return beginError(allocator, capacity, request, ERROR_UNKNOWN_ATTRIBUTE, UNKNOWN_ATTRIBUTE_REASON)
            .addUnknownAttributes(unknown, 1);
    }

    /** Drops the response being built (the caller failed while adding to it) and releases its buffer. */
    public void abandon() {
        if (out != null) {
            out.release();
            out = null;
        }
    }

    /**
     * Adds MESSAGE-INTEGRITY of the given kind under {@code key} (none for {@link Integrity#NONE} or a null
     * key), FINGERPRINT if asked, and hands the finished response over; on failure the buffer is released.
     */
    public ByteBuf finish(Integrity integrity, StunKey key, boolean fingerprint) {
        ByteBuf response = out;
        out = null;
        try {
            if (key != null && integrity == Integrity.HMAC_SHA1) {
                writer.addMessageIntegrity(key);
            } else if (key != null && integrity == Integrity.HMAC_SHA256) {
                writer.addMessageIntegritySha256(key);
            }
            if (fingerprint) {
                writer.addFingerprint();
            }
            writer.finish();
        } catch (RuntimeException e) {
            response.release();
            throw e;
        }
        return response;
    }
}
