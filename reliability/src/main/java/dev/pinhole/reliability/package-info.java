/**
 * Reliable, ordered byte streams over UDP: the public API of the transport.
 *
 * <ul>
 *   <li>{@link dev.pinhole.reliability.ReliableTransport}: one UDP socket; {@code connect} to a known
 *       address, {@code accept} connections from peers. {@code bind} creates the socket and its event
 *       loop; {@code on(...)} reuses a socket hole punching already owns.</li>
 *   <li>{@link dev.pinhole.reliability.ReliableConnection}: blocking {@code InputStream} and
 *       {@code OutputStream}, {@code shutdownOutput} (FIN), {@code abort(code)}, {@code close},
 *       {@code stats}.</li>
 *   <li>{@link dev.pinhole.reliability.TransportConfig}: the settings and their documented defaults.</li>
 *   <li>{@link dev.pinhole.reliability.Identity}: a node's long-term keys (X25519, RFC 7748; Ed25519,
 *       RFC 8032), its printable id and its key file, for the handshake.</li>
 *   <li>Failures are {@link dev.pinhole.reliability.ConnectionException}s: timeouts, resets, handshake
 *       failures, idle timeouts, each with a message a user can act on.</li>
 * </ul>
 *
 * <p>The protocol itself is a sans-IO state machine in {@code dev.pinhole.reliability.connection},
 * which simulations drive directly; this package only moves bytes between application threads and the
 * event loop.
 */
package dev.pinhole.reliability;
