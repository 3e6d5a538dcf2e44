/**
 * A TURN client (RFC 8656, Traversal Using Relays around NAT) for Pinhole's last-resort path: when
 * no direct path between two nodes can be punched, one of them relays through a TURN server such as
 * coturn.
 *
 * <p>{@link dev.pinhole.punch.relay.TurnClient} is the node's TURN client on its single socket;
 * {@link dev.pinhole.punch.relay.TurnClient#allocate} makes a
 * {@link dev.pinhole.punch.relay.TurnAllocation}, which authenticates with long-term credentials,
 * keeps itself, its permissions and its channels refreshed, and carries datagrams to and from peers as
 * Send/Data indications or {@link dev.pinhole.protocol.turn.ChannelData}.
 * {@link dev.pinhole.punch.relay.RelayedEndpoint} presents an allocation as a
 * {@link dev.pinhole.core.net.DatagramEndpoint}, so the reliable transport runs over the relay unchanged.
 * Failures are {@link dev.pinhole.punch.relay.TurnException}s with the server's error code.
 */
package dev.pinhole.punch.relay;
