/**
 * The transport connection as a sans-IO state machine, and the endpoint that runs many of them on one
 * datagram socket.
 *
 * <ul>
 *   <li>{@link dev.pinhole.reliability.connection.Connection}: one connection; fed packets, timer
 *       expiries and application calls with the current time, it answers with datagrams, its next
 *       deadline and events. Handshake with the stateless cookie, packet assembly within the congestion
 *       window and the pacing rate, acknowledgements, retransmission of lost frames, flow control, path
 *       validation, keep-alive, idle timeout, closing.</li>
 *   <li>{@link dev.pinhole.reliability.connection.TransportEndpoint}: routes packets by connection id,
 *       answers INITIALs without keeping state ({@code HandshakeCookies}), creates server connections
 *       from valid CONFIRMs, keeps one timer per connection, and drops what is malformed, unknown or
 *       forged, counting it.</li>
 *   <li>{@link dev.pinhole.reliability.connection.CloseReason}: why a connection ended, and the
 *       exception applications see for it.</li>
 * </ul>
 *
 * <p>Everything runs on one event loop (the real {@code UdpEventLoop} or the simulator) and is not
 * thread-safe. The wire format is in docs/protocol.md.
 */
package dev.pinhole.reliability.connection;
