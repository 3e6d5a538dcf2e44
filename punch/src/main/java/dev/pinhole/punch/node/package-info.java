/**
 * Internal: the orchestration behind {@link dev.pinhole.punch.PinholeNode}.
 *
 * <ul>
 *   <li>{@link dev.pinhole.punch.node.NodeCore}: sans-IO on one
 *       {@link dev.pinhole.core.net.DatagramEndpoint}. Demultiplexes the socket (STUN kinds to traversal
 *       sessions, the STUN client and the rendezvous client; Pinhole kinds to the transport), registers,
 *       connects by name (introduction, traversal, transport handshake on the nominated pair), and matches
 *       accepted connections to introductions by the nominated remote address. Runs unchanged on the
 *       simulator.</li>
 *   <li>{@link dev.pinhole.punch.node.ConnectedPeer}: one connection with its peer's name and path, confined to
 *       the loop.</li>
 *   <li>{@link dev.pinhole.punch.node.RealPeerConnection}: blocking streams over a link for application
 *       threads: reliability's {@code ReliableConnection} attached to the link, with the peer's name and path.</li>
 * </ul>
 * Nothing here is API: names and signatures may change.
 */
package dev.pinhole.punch.node;
