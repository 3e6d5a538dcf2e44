package dev.pinhole.protocol.stun;

/**
 * What a Binding request carries and how it is retried; also the {@link StunRequestBody} that
 * writes it. Immutable: derive variants with the {@code with...} methods.
 *
 * @param changeRequestFlags {@link StunAttributeType#CHANGE_IP_FLAG} and/or
 *                           {@link StunAttributeType#CHANGE_PORT_FLAG} to send CHANGE-REQUEST
 *                           (RFC 5780 §7.2); 0 sends none
 * @param software           SOFTWARE text, or null for none
 * @param fingerprint        whether to end with FINGERPRINT (RFC 8489 §7.1: recommended when STUN
 *                           shares a port with other protocols, as it does in Pinhole)
 * @param username           USERNAME, or null for none
 * @param integrityKey       key for MESSAGE-INTEGRITY, also required of the response; null for none
 * @param timing             retransmission timing, or null for the client's default
 * @param acceptOwnRequest   whether our own request arriving back at us ends the transaction as
 *                           {@link BindingOutcome.OwnRequestReceived} (RFC 5780 §4.5 hairpinning test)
 */
public record BindingRequest(int changeRequestFlags, String software, boolean fingerprint, String username,
                             StunKey integrityKey, StunTransactionConfig timing, boolean acceptOwnRequest)
    implements StunRequestBody {

    /** A Binding request with FINGERPRINT and nothing else, on the client's default timing. */
    public static final BindingRequest DEFAULT = new BindingRequest(0, null, true, null, null, null, false);

    public BindingRequest {
        if ((changeRequestFlags & ~(StunAttributeType.CHANGE_IP_FLAG | StunAttributeType.CHANGE_PORT_FLAG)) != 0) {
            throw new IllegalArgumentException("CHANGE-REQUEST flags are 0x4 and 0x2, got 0x" + Integer.toHexString(changeRequestFlags));
        }
    }

    public BindingRequest withChangeRequest(boolean changeIp, boolean changePort) {
        int flags = (changeIp ? StunAttributeType.CHANGE_IP_FLAG : 0) | (changePort ? StunAttributeType.CHANGE_PORT_FLAG : 0);
        return new BindingRequest(flags, software, fingerprint, username, integrityKey, timing, acceptOwnRequest);
    }

    public BindingRequest withSoftware(String software) {
        return new BindingRequest(changeRequestFlags, software, fingerprint, username, integrityKey, timing, acceptOwnRequest);
    }

    public BindingRequest withFingerprint(boolean fingerprint) {
        return new BindingRequest(changeRequestFlags, software, fingerprint, username, integrityKey, timing, acceptOwnRequest);
    }

    /** Short-term credentials: USERNAME plus MESSAGE-INTEGRITY under {@code key}, checked on the response too. */
    public BindingRequest withCredentials(String username, StunKey key) {
        return new BindingRequest(changeRequestFlags, software, fingerprint, username, key, timing, acceptOwnRequest);
    }

    public BindingRequest withTiming(StunTransactionConfig timing) {
        return new BindingRequest(changeRequestFlags, software, fingerprint, username, integrityKey, timing, acceptOwnRequest);
    }

    public BindingRequest withAcceptOwnRequest(boolean acceptOwnRequest) {
        return new BindingRequest(changeRequestFlags, software, fingerprint, username, integrityKey, timing, acceptOwnRequest);
    }

    @Override
    public void write(StunWriter writer) {
        if (changeRequestFlags != 0) {
            writer.addUInt32(StunAttributeType.CHANGE_REQUEST, changeRequestFlags);
        }
        if (username != null) {
            writer.addString(StunAttributeType.USERNAME, username);
        }
        if (software != null) {
            writer.addString(StunAttributeType.SOFTWARE, software);
        }
        if (integrityKey != null) {
            writer.addMessageIntegrity(integrityKey);
        }
        if (fingerprint) {
            writer.addFingerprint();
        }
    }
}
