package dev.pinhole.punch.rendezvous;

import java.net.InetSocketAddress;

/**
 * A registration the server accepted.
 *
 * @param name              the registered name (NFC-normalised as sent)
 * @param observedAddress   this client's address as the server saw it: its server-reflexive candidate
 *                          (RFC 8445 §5.1.1.2), the NAT's mapping of the socket
 * @param refreshIntervalNs how often the client refreshes (the smaller of its own setting and the server's)
 * @param lifetimeNs        how long the server keeps the registration without a refresh
 */
public record Registration(String name, InetSocketAddress observedAddress, long refreshIntervalNs, long lifetimeNs) {
}
