package dev.pinhole.protocol.stun;

/**
 * Writes the attributes of a request into a {@link StunWriter} whose header the client has
 * already begun (message type and transaction id); it may end with MESSAGE-INTEGRITY and
 * FINGERPRINT. Called once per transaction: retransmissions resend the same bytes.
 */
@FunctionalInterface
public interface StunRequestBody {
    StunRequestBody EMPTY = writer -> { };

    void write(StunWriter writer);
}
