package dev.pinhole.server.stun;

import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunHeader;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.server.common.StunResponder;
import io.netty.buffer.ByteBuf;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A sans-IO STUN Binding responder (RFC 8489 §6.3) with the RFC 5780 §6 behaviour-discovery
 * extensions, on one or four {@link DatagramEndpoint}s.
 *
 * <p>With one endpoint it answers Binding requests with XOR-MAPPED-ADDRESS (and MAPPED-ADDRESS
 * for RFC 3489-era clients that read only that). With four, on two IP addresses × two ports
 * (primary IP and port, primary IP and alternate port, alternate IP and primary port, alternate
 * IP and port), it also honours CHANGE-REQUEST by answering from the endpoint whose IP and/or
 * port differ from the one the request arrived on, adds OTHER-ADDRESS (the endpoint differing
 * in both) and RESPONSE-ORIGIN (the endpoint the response leaves from), and honours RESPONSE-PORT
 * (RFC 5780 §7.5, used to measure binding lifetimes) by answering to that port of the request's
 * source IP. A request it cannot serve (unknown comprehension-required attributes, or
 * CHANGE-REQUEST or RESPONSE-PORT without alternate addresses) gets 420 with UNKNOWN-ATTRIBUTES.
 *
 * <p><b>Amplification bound.</b> A spoofed request makes a STUN server send to a victim, and RFC
 * 5780 responses (up to four addresses) are larger than the smallest request (20 bytes). This
 * server therefore sends, whatever the request, the core answer of any RFC 8489 server
 * (XOR-MAPPED-ADDRESS, plus FINGERPRINT if the request had one: at most 52 bytes), and adds the
 * optional attributes — OTHER-ADDRESS, RESPONSE-ORIGIN, MAPPED-ADDRESS, SOFTWARE, in that order —
 * only while the response stays within {@link #AMPLIFICATION_FACTOR} times the request's size,
 * the 3× limit QUIC applies to unvalidated addresses (RFC 9000 §8.1). A request with FINGERPRINT
 * (28 bytes) thus receives every IPv4 attribute (76 bytes); Pinhole's discovery client adds
 * SOFTWARE so that IPv6 responses fit the RFC 5780 attributes too. Error responses obey the same
 * bound. Responses always go to the request's source IP address (RESPONSE-PORT can only change the
 * port), so the server reflects at most 3× towards any address.
 *
 * <p>All endpoints must belong to the same event loop; every method runs on it. Malformed
 * datagrams are counted and dropped, nothing is thrown out of {@link #handle}.
 */
public final class StunBindingServer {
    /** Largest response size as a multiple of the request size, for the optional attributes (RFC 9000 §8.1's factor). */
    public static final int AMPLIFICATION_FACTOR = 3;
    private static final int PRIMARY = 0;
    private static final int ALTERNATE = 1;
    /** Initial buffer capacities: every answer of this server fits. */
    private static final int SUCCESS_CAPACITY = 128;
    private static final int ERROR_CAPACITY = 96;
    private static final int FINGERPRINT_BYTES = 8;

    /** {@code [ip][port]}: index 0 primary, 1 alternate. Only [0][0] exists without RFC 5780. */
    private final DatagramEndpoint[][] endpoints = new DatagramEndpoint[2][2];
    private final InetSocketAddress[][] addresses = new InetSocketAddress[2][2];
    private final boolean rfc5780;
    private final byte[] software;
    private final StunReader reader;
    private final StunResponder responder = new StunResponder();
    private final StunWriter writer = responder.writer();
    private final long[] malformed = new long[StunParseResult.values().length];
    private long responses;
    private long changedOriginResponses;
    private long errorResponses;
    private long trimmedResponses;
    private long sendFailures;

    private StunBindingServer(DatagramEndpoint primary, DatagramEndpoint alternatePort, DatagramEndpoint alternateIp,
                              DatagramEndpoint alternateBoth, String software) {
        endpoints[PRIMARY][PRIMARY] = Objects.requireNonNull(primary, "primary");
        endpoints[PRIMARY][ALTERNATE] = alternatePort;
        endpoints[ALTERNATE][PRIMARY] = alternateIp;
        endpoints[ALTERNATE][ALTERNATE] = alternateBoth;
        this.rfc5780 = alternatePort != null;
        // Without alternate addresses RESPONSE-PORT is unsupported, so it is answered like any unknown attribute.
        this.reader = rfc5780 ? new StunReader() : new StunReader(
            type -> type != StunAttributeType.RESPONSE_PORT && StunAttributeType.isKnownComprehensionRequired(type));
        this.software = software == null ? null : software.getBytes(StandardCharsets.UTF_8);
        if (this.software != null && this.software.length > StunAttributeType.MAX_TEXT_BYTES) {
            throw new IllegalArgumentException("SOFTWARE is limited to 763 bytes");
        }
        for (int ip = 0; ip < 2; ip++) {
            for (int port = 0; port < 2; port++) {
                if (endpoints[ip][port] != null) {
                    addresses[ip][port] = endpoints[ip][port].localAddress();
                }
            }
        }
        if (rfc5780) {
            InetSocketAddress p = addresses[PRIMARY][PRIMARY];
            InetSocketAddress o = addresses[ALTERNATE][ALTERNATE];
            if (!addresses[PRIMARY][ALTERNATE].getAddress().equals(p.getAddress())
                || !addresses[ALTERNATE][PRIMARY].getAddress().equals(o.getAddress())
                || addresses[PRIMARY][ALTERNATE].getPort() != o.getPort()
                || addresses[ALTERNATE][PRIMARY].getPort() != p.getPort()
                || p.getAddress().equals(o.getAddress()) || p.getPort() == o.getPort()) {
                throw new IllegalArgumentException("RFC 5780 needs endpoints on two IPs x two ports, got "
                    + p + ", " + addresses[PRIMARY][ALTERNATE] + ", " + addresses[ALTERNATE][PRIMARY] + ", " + o);
            }
        }
    }

    /** A plain RFC 8489 Binding server on one endpoint. */
    public static StunBindingServer basic(DatagramEndpoint endpoint, String software) {
        return new StunBindingServer(endpoint, null, null, null, software);
    }

    /**
     * An RFC 5780 server on four endpoints: {@code primary} (IP1:port1), {@code alternatePort}
     * (IP1:port2), {@code alternateIp} (IP2:port1) and {@code alternateBoth} (IP2:port2).
     *
     * @throws IllegalArgumentException if the four do not form that square
     */
    public static StunBindingServer rfc5780(DatagramEndpoint primary, DatagramEndpoint alternatePort,
                                            DatagramEndpoint alternateIp, DatagramEndpoint alternateBoth,
                                            String software) {
        return new StunBindingServer(primary, Objects.requireNonNull(alternatePort, "alternatePort"),
            Objects.requireNonNull(alternateIp, "alternateIp"), Objects.requireNonNull(alternateBoth, "alternateBoth"),
            software);
    }

    /** Installs this server as the receiver of each of its endpoints, for a server that owns them. */
    public StunBindingServer listen() {
        for (DatagramEndpoint[] row : endpoints) {
            for (DatagramEndpoint endpoint : row) {
                if (endpoint != null) {
                    endpoint.receiver((datagram, sender) -> handle(datagram, sender, endpoint));
                }
            }
        }
        return this;
    }

    /** The primary endpoint's address: where clients send. */
    public InetSocketAddress primaryAddress() {
        return addresses[PRIMARY][PRIMARY];
    }

    /** The alternate IP and port (OTHER-ADDRESS of requests to the primary), or null without RFC 5780. */
    public InetSocketAddress otherAddress() {
        return addresses[ALTERNATE][ALTERNATE];
    }

    /**
     * Offers a datagram that arrived on {@code receivedOn} (one of this server's endpoints).
     *
     * @return true if it was consumed (answered, or counted and dropped as malformed, or a Binding
     *     indication); false if it is well-formed STUN of another method or class, for another handler
     */
    public boolean handle(ByteBuf datagram, InetSocketAddress sender, DatagramEndpoint receivedOn) {
        int ipIndex = -1;
        int portIndex = -1;
        for (int ip = 0; ip < 2 && ipIndex < 0; ip++) {
            for (int port = 0; port < 2; port++) {
                if (endpoints[ip][port] == receivedOn) {
                    ipIndex = ip;
                    portIndex = port;
                    break;
                }
            }
        }
        if (ipIndex < 0) {
            throw new IllegalArgumentException(receivedOn + " is not an endpoint of this server");
        }
        StunParseResult result = reader.wrap(datagram);
        if (result != StunParseResult.OK && result != StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED) {
            malformed[result.ordinal()]++;
            return true;
        }
        if (reader.method() != StunMessageType.METHOD_BINDING) {
            return false;
        }
        StunClass messageClass = reader.messageClass();
        if (messageClass == StunClass.INDICATION) {
            // RFC 8489 §6.3.2: a Binding indication is a keepalive; nothing to answer.
            return true;
        }
        if (messageClass != StunClass.REQUEST) {
            return false;
        }
        int requestLength = reader.messageLength();
        boolean fingerprint = reader.hasFingerprint();
        if (result == StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED) {
            responder.beginUnknownAttributes(receivedOn.allocator(), ERROR_CAPACITY, reader,
                AMPLIFICATION_FACTOR * requestLength, fingerprint ? FINGERPRINT_BYTES : 0);
            sendUnknownAttributes(receivedOn, sender, fingerprint);
            return true;
        }
        int change = reader.changeRequestFlags();
        if (change != 0 && !rfc5780) {
            responder.beginUnknownAttribute(receivedOn.allocator(), ERROR_CAPACITY, reader,
                StunAttributeType.CHANGE_REQUEST);
            sendUnknownAttributes(receivedOn, sender, fingerprint);
            return true;
        }
        InetSocketAddress destination = sender;
        int responsePortAt = reader.findAttribute(StunAttributeType.RESPONSE_PORT);
        if (responsePortAt != StunReader.NO_ATTRIBUTE) {
            // RFC 5780 §7.5: a 16-bit port, then two bytes of padding.
            int port = reader.buffer().getUnsignedShort(reader.attributeValueIndex(responsePortAt));
            if (port == 0) {
                malformed[StunParseResult.BAD_ATTRIBUTE_VALUE.ordinal()]++;
                return true;
            }
            destination = new InetSocketAddress(sender.getAddress(), port);
        }
        int fromIp = (change & StunAttributeType.CHANGE_IP_FLAG) != 0 ? ipIndex ^ 1 : ipIndex;
        int fromPort = (change & StunAttributeType.CHANGE_PORT_FLAG) != 0 ? portIndex ^ 1 : portIndex;
        DatagramEndpoint from = endpoints[fromIp][fromPort];
        int budget = AMPLIFICATION_FACTOR * requestLength;
        int addressSize = addressAttributeSize(sender);
        int size = StunHeader.HEADER_LENGTH + addressSize + (fingerprint ? 8 : 0);

        ByteBuf response;
        try {
            responder.beginBindingSuccess(from.allocator(), SUCCESS_CAPACITY, reader, sender);
            boolean trimmed = false;
            if (rfc5780) {
                InetSocketAddress other = addresses[ipIndex ^ 1][portIndex ^ 1];
                if (size + addressAttributeSize(other) <= budget) {
                    writer.addAddress(StunAttributeType.OTHER_ADDRESS, other);
                    size += addressAttributeSize(other);
                } else {
                    trimmed = true;
                }
                InetSocketAddress origin = addresses[fromIp][fromPort];
                if (size + addressAttributeSize(origin) <= budget) {
                    writer.addAddress(StunAttributeType.RESPONSE_ORIGIN, origin);
                    size += addressAttributeSize(origin);
                } else {
                    trimmed = true;
                }
            }
            if (size + addressSize <= budget) {
                writer.addAddress(StunAttributeType.MAPPED_ADDRESS, sender);
                size += addressSize;
            } else {
                trimmed = true;
            }
            if (software != null) {
                int softwareSize = 4 + StunHeader.padded(software.length);
                if (size + softwareSize <= budget) {
                    writer.addBytes(StunAttributeType.SOFTWARE, software);
                } else {
                    trimmed = true;
                }
            }
            response = responder.finish(StunResponder.Integrity.NONE, null, fingerprint);
            if (trimmed) {
                trimmedResponses++;
            }
        } catch (RuntimeException e) {
            responder.abandon();
            throw e;
        }
        responses++;
        if (from != receivedOn) {
            changedOriginResponses++;
        }
        if (!from.send(response, destination)) {
            sendFailures++;
        }
        return true;
    }

    /** RFC 8489 §6.3.1.1: the 420 begun, from the endpoint the request came to. */
    private void sendUnknownAttributes(DatagramEndpoint on, InetSocketAddress to, boolean fingerprint) {
        ByteBuf response = responder.finish(StunResponder.Integrity.NONE, null, fingerprint);
        errorResponses++;
        if (!on.send(response, to)) {
            sendFailures++;
        }
    }

    private static int addressAttributeSize(InetSocketAddress address) {
        return address.getAddress() instanceof Inet4Address ? 4 + 8 : 4 + 20;
    }

    /** Success responses sent. */
    public long responseCount() {
        return responses;
    }

    /** Success responses sent from another endpoint than the request arrived on (CHANGE-REQUEST). */
    public long changedOriginResponseCount() {
        return changedOriginResponses;
    }

    /** 420 responses sent. */
    public long errorResponseCount() {
        return errorResponses;
    }

    /** Responses that left out optional attributes to stay within the amplification bound. */
    public long trimmedResponseCount() {
        return trimmedResponses;
    }

    /** Datagrams dropped as malformed, by reason. */
    public long malformedCount(StunParseResult reason) {
        return malformed[reason.ordinal()];
    }

    /** Responses an endpoint refused to send. */
    public long sendFailureCount() {
        return sendFailures;
    }
}
