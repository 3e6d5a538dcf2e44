package dev.pinhole.protocol.stun;

/**
 * STUN attribute types and what the codec knows about each.
 *
 * <p>Types 0x0000–0x7FFF are comprehension-required: an agent that does not understand one must
 * reject the message (a server answers 420 with UNKNOWN-ATTRIBUTES). Types 0x8000–0xFFFF are
 * comprehension-optional and are ignored when unknown (RFC 8489 §14). Pinhole's own protocols
 * define their attributes in the optional range, so older peers skip them.
 */
public final class StunAttributeType {
    // RFC 8489 §18.3.1, comprehension-required.
    public static final int MAPPED_ADDRESS = 0x0001;
    public static final int USERNAME = 0x0006;
    public static final int MESSAGE_INTEGRITY = 0x0008;
    public static final int ERROR_CODE = 0x0009;
    public static final int UNKNOWN_ATTRIBUTES = 0x000A;
    public static final int REALM = 0x0014;
    public static final int NONCE = 0x0015;
    public static final int MESSAGE_INTEGRITY_SHA256 = 0x001C;
    public static final int PASSWORD_ALGORITHM = 0x001D;
    public static final int USERHASH = 0x001E;
    public static final int XOR_MAPPED_ADDRESS = 0x0020;
    // RFC 8489 §18.3.2, comprehension-optional.
    public static final int PASSWORD_ALGORITHMS = 0x8002;
    public static final int ALTERNATE_DOMAIN = 0x8003;
    public static final int SOFTWARE = 0x8022;
    public static final int ALTERNATE_SERVER = 0x8023;
    public static final int FINGERPRINT = 0x8028;
    // RFC 5780 §7 (NAT behaviour discovery).
    public static final int CHANGE_REQUEST = 0x0003;
    public static final int PADDING = 0x0026;
    public static final int RESPONSE_PORT = 0x0027;
    public static final int RESPONSE_ORIGIN = 0x802B;
    public static final int OTHER_ADDRESS = 0x802C;
    // RFC 8445 §16.1 (ICE).
    public static final int PRIORITY = 0x0024;
    public static final int USE_CANDIDATE = 0x0025;
    public static final int ICE_CONTROLLED = 0x8029;
    public static final int ICE_CONTROLLING = 0x802A;
    // RFC 8656 §18 (TURN), so the TURN client parses with the same reader.
    public static final int CHANNEL_NUMBER = 0x000C;
    public static final int LIFETIME = 0x000D;
    public static final int XOR_PEER_ADDRESS = 0x0012;
    public static final int DATA = 0x0013;
    public static final int XOR_RELAYED_ADDRESS = 0x0016;
    public static final int REQUESTED_ADDRESS_FAMILY = 0x0017;
    public static final int EVEN_PORT = 0x0018;
    public static final int REQUESTED_TRANSPORT = 0x0019;
    public static final int DONT_FRAGMENT = 0x001A;
    public static final int RESERVATION_TOKEN = 0x0022;
    public static final int ADDITIONAL_ADDRESS_FAMILY = 0x8000;
    public static final int ADDRESS_ERROR_CODE = 0x8001;
    public static final int ICMP = 0x8004;

    /**
     * RFC 5780 §7.2: CHANGE-REQUEST is a 32-bit value whose bit A (0x4) asks for the response
     * from the alternate IP address and bit B (0x2) from the alternate port.
     */
    public static final int CHANGE_IP_FLAG = 0x04;
    public static final int CHANGE_PORT_FLAG = 0x02;

    /** Address families of the (XOR-)MAPPED-ADDRESS value (RFC 8489 §14.1). */
    public static final int FAMILY_IPV4 = 0x01;
    public static final int FAMILY_IPV6 = 0x02;

    /** First comprehension-optional type (RFC 8489 §14). */
    public static final int FIRST_COMPREHENSION_OPTIONAL = 0x8000;

    /** RFC 8489 §14.3: USERNAME is shorter than 513 bytes. */
    public static final int MAX_USERNAME_BYTES = 512;
    /**
     * RFC 8489 §14.9, §14.10, §14.12, §14.8: REALM, NONCE, SOFTWARE and the ERROR-CODE reason
     * phrase are fewer than 128 characters and at most 763 bytes of UTF-8.
     */
    public static final int MAX_TEXT_BYTES = 763;

    private StunAttributeType() {
    }

    public static boolean isComprehensionRequired(int type) {
        return type < FIRST_COMPREHENSION_OPTIONAL;
    }

    /**
     * Whether this codec understands a comprehension-required type: those of RFC 8489, RFC 5780,
     * RFC 8445 and RFC 8656 above. A reader can be told about more (see {@link StunReader}).
     */
    public static boolean isKnownComprehensionRequired(int type) {
        switch (type) {
            case MAPPED_ADDRESS, USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, UNKNOWN_ATTRIBUTES, REALM, NONCE,
                MESSAGE_INTEGRITY_SHA256, PASSWORD_ALGORITHM, USERHASH, XOR_MAPPED_ADDRESS,
                CHANGE_REQUEST, PADDING, RESPONSE_PORT,
                PRIORITY, USE_CANDIDATE,
                CHANNEL_NUMBER, LIFETIME, XOR_PEER_ADDRESS, DATA, XOR_RELAYED_ADDRESS, REQUESTED_ADDRESS_FAMILY,
                EVEN_PORT, REQUESTED_TRANSPORT, DONT_FRAGMENT, RESERVATION_TOKEN:
                return true;
            default:
                return false;
        }
    }

    /** The RFC name of a type, or its hex value; for logs and error messages, not the hot path. */
    public static String name(int type) {
        return switch (type) {
            case MAPPED_ADDRESS -> "MAPPED-ADDRESS";
            case USERNAME -> "USERNAME";
            case MESSAGE_INTEGRITY -> "MESSAGE-INTEGRITY";
            case ERROR_CODE -> "ERROR-CODE";
            case UNKNOWN_ATTRIBUTES -> "UNKNOWN-ATTRIBUTES";
            case REALM -> "REALM";
            case NONCE -> "NONCE";
            case MESSAGE_INTEGRITY_SHA256 -> "MESSAGE-INTEGRITY-SHA256";
            case PASSWORD_ALGORITHM -> "PASSWORD-ALGORITHM";
            case USERHASH -> "USERHASH";
            case XOR_MAPPED_ADDRESS -> "XOR-MAPPED-ADDRESS";
            case PASSWORD_ALGORITHMS -> "PASSWORD-ALGORITHMS";
            case ALTERNATE_DOMAIN -> "ALTERNATE-DOMAIN";
            case SOFTWARE -> "SOFTWARE";
            case ALTERNATE_SERVER -> "ALTERNATE-SERVER";
            case FINGERPRINT -> "FINGERPRINT";
            case CHANGE_REQUEST -> "CHANGE-REQUEST";
            case PADDING -> "PADDING";
            case RESPONSE_PORT -> "RESPONSE-PORT";
            case RESPONSE_ORIGIN -> "RESPONSE-ORIGIN";
            case OTHER_ADDRESS -> "OTHER-ADDRESS";
            case PRIORITY -> "PRIORITY";
            case USE_CANDIDATE -> "USE-CANDIDATE";
            case ICE_CONTROLLED -> "ICE-CONTROLLED";
            case ICE_CONTROLLING -> "ICE-CONTROLLING";
            case CHANNEL_NUMBER -> "CHANNEL-NUMBER";
            case LIFETIME -> "LIFETIME";
            case XOR_PEER_ADDRESS -> "XOR-PEER-ADDRESS";
            case DATA -> "DATA";
            case XOR_RELAYED_ADDRESS -> "XOR-RELAYED-ADDRESS";
            case REQUESTED_ADDRESS_FAMILY -> "REQUESTED-ADDRESS-FAMILY";
            case EVEN_PORT -> "EVEN-PORT";
            case REQUESTED_TRANSPORT -> "REQUESTED-TRANSPORT";
            case DONT_FRAGMENT -> "DONT-FRAGMENT";
            case RESERVATION_TOKEN -> "RESERVATION-TOKEN";
            case ADDITIONAL_ADDRESS_FAMILY -> "ADDITIONAL-ADDRESS-FAMILY";
            case ADDRESS_ERROR_CODE -> "ADDRESS-ERROR-CODE";
            case ICMP -> "ICMP";
            default -> String.format("0x%04X", type);
        };
    }

    /** Whether a known {@code type} carries a transport address (plain or XOR-ed). */
    public static boolean isAddress(int type) {
        return type == MAPPED_ADDRESS || type == ALTERNATE_SERVER || type == RESPONSE_ORIGIN
            || type == OTHER_ADDRESS || isXorAddress(type);
    }

    /** Whether a known {@code type} carries an XOR-ed transport address (RFC 8489 §14.2, RFC 8656 §18). */
    public static boolean isXorAddress(int type) {
        return type == XOR_MAPPED_ADDRESS || type == XOR_PEER_ADDRESS || type == XOR_RELAYED_ADDRESS;
    }
}
