package dev.pinhole.protocol.nat;


import java.net.InetSocketAddress;

/**
 * What RFC 5780 behaviour discovery found out about the path between one local endpoint and a
 * STUN server.
 *
 * @param server             the server's primary address that was tested against
 * @param localAddress       the endpoint's own address
 * @param udpBlocked         test I got no answer at all: UDP is blocked on the way, or the server is down
 * @param mappedAddress      the address the server saw (XOR-MAPPED-ADDRESS of test I); null if test I failed
 * @param behindNat          whether the mapped address differs from the local one
 * @param mapping            RFC 4787 mapping behaviour (RFC 5780 §4.3)
 * @param filtering          RFC 4787 filtering behaviour (RFC 5780 §4.4)
 * @param hairpinning        whether the NAT hairpins (RFC 5780 §4.5)
 * @param serverOtherAddress the server's OTHER-ADDRESS, or null when the server does not implement RFC 5780
 * @param elapsedNs          how long discovery took
 */
public record NatBehavior(InetSocketAddress server, InetSocketAddress localAddress, boolean udpBlocked,
                          InetSocketAddress mappedAddress,
                          boolean behindNat, NatMapping mapping, NatFiltering filtering, Hairpinning hairpinning,
                          InetSocketAddress serverOtherAddress, long elapsedNs) {

    /** The classic name (full cone, symmetric, ...) these behaviours amount to. */
    public NatType natType() {
        return NatType.classify(udpBlocked, behindNat, mapping, filtering);
    }

    /** A one-line summary for logs and the CLI. */
    public String describe() {
        if (udpBlocked) {
            return "UDP blocked: no answer from " + server;
        }
        if (mappedAddress == null) {
            return "unknown: " + server + " answered test I without a mapped address";
        }
        return natType() + " (mapping " + mapping + ", filtering " + filtering + ", hairpinning " + hairpinning
            + "); local " + localAddress + ", mapped " + mappedAddress + (behindNat ? "" : ", no NAT");
    }
}
