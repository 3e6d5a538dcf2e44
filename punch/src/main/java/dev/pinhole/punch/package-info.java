/**
 * Pinhole's public API: a {@link dev.pinhole.punch.PinholeNode} registers a name at a rendezvous server and
 * opens {@link dev.pinhole.punch.PeerConnection}s, reliable ordered byte streams, to other nodes by name,
 * punching through the NATs between them.
 *
 * <pre>{@code
 * try (PinholeNode node = PinholeNode.builder().name("alice").rendezvous(server).build();
 *      PeerConnection bob = node.connect("bob")) {
 *     bob.outputStream().write("hello, bob".getBytes(UTF_8));
 *     bob.shutdownOutput();
 *     String reply = new String(bob.inputStream().readAllBytes(), UTF_8);
 * }
 * }</pre>
 *
 * The pieces underneath, each usable on its own: {@code punch.stun} (STUN codec and client),
 * {@code punch.nat} (RFC 5780 behaviour discovery), {@code punch.rendezvous} (names and introductions),
 * {@code punch.traversal} (candidates and RFC 8445-style connectivity checks), and the {@code reliability}
 * module (the transport). {@code punch.node} is the internal orchestration that ties them to one socket.
 */
package dev.pinhole.punch;
