/**
 * The rendezvous server and its client: how two peers behind NATs find each other by name.
 *
 * <p>A peer {@link dev.pinhole.punch.rendezvous.RendezvousClient#register registers} a name on its one UDP
 * socket; the {@code RendezvousServer} records the name with the
 * peer's host candidates and the source address it observed (the server-reflexive candidate), and the
 * client refreshes the registration every 15 s, which keeps its NAT mapping open. A peer that wants to
 * talk to another {@link dev.pinhole.punch.rendezvous.RendezvousClient#connect connects} by name; the server
 * then sends both peers, in the same instant, an {@link dev.pinhole.punch.traversal.Introduction} with the
 * other's candidates, fresh ICE credentials and roles, and both start connectivity checks
 * ({@link dev.pinhole.punch.traversal.TraversalSession}). Peers can also
 * {@link dev.pinhole.punch.rendezvous.RendezvousClient#listPeers list} the registered names (where the
 * server allows listing) and relay short texts through the server.
 *
 * <p>A name is bound to the node's X25519 key ({@link dev.pinhole.punch.rendezvous.RendezvousClientConfig#identity}):
 * every request proves possession of it with a session key derived from it and the server's key, the
 * server signs what it sends the node with the same key, and introductions carry the peer's key
 * ({@link dev.pinhole.punch.traversal.Introduction#peerKey()}).
 *
 * <p>The protocol is STUN (RFC 8489) with methods and attributes of our own
 * ({@link dev.pinhole.protocol.rendezvous.RendezvousProtocol}), so the server also answers plain Binding
 * requests and shares its port with them. Both sides are sans-IO on a
 * {@link dev.pinhole.core.net.DatagramEndpoint}: the same code runs on the real UDP event loop and in the
 * simulator.
 *
 * <p>Public API: {@code RendezvousServer} + {@code RendezvousServerConfig} (+ {@code RendezvousServerStats});
 * {@code RendezvousClient} + {@code RendezvousClientConfig} + {@code RendezvousListener}
 * (+ {@code RendezvousClientStats}); the results {@code Registration} and {@code PeerList}; the failures
 * {@code RendezvousException} and its subclasses {@code PeerNotFoundException}, {@code NameTakenException},
 * {@code RendezvousAuthenticationException} and {@code RendezvousUnreachableException}; and
 * {@code PeerNames}, the rules for names.
 */
package dev.pinhole.punch.rendezvous;
