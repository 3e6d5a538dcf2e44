package dev.pinhole.punch.node;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.net.PacketKind;
import dev.pinhole.punch.relay.TurnAllocation;
import dev.pinhole.punch.relay.TurnClient;
import dev.pinhole.punch.relay.TurnConfig;
import dev.pinhole.punch.relay.TurnException;
import dev.pinhole.punch.relay.TurnListener;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * The node's TURN allocations (RFC 8656): at most one per server, since a 5-tuple holds one allocation
 * (§2.2), shared by every traversal that relays through that server and kept while one of them uses it.
 * What a peer sends through an allocation is handed to the transport with the peer's relayed address as
 * its source; anything but transport packets is counted and dropped (connectivity checks do not run over
 * the relay: the relayed address reached us through the authenticated rendezvous server, and the
 * transport's handshake cookie proves the peer's side of it). Confined to the node's event loop.
 */
final class NodeRelays {
    private final TurnClient turn;
    private final PathRouter router;
    private final DatagramReceiver transport;
    private final BiConsumer<TurnAllocation, TurnException> onLost;
    private final Map<InetSocketAddress, TurnAllocation> byServer = new HashMap<>();
    private final Map<TurnAllocation, Integer> users = new IdentityHashMap<>();
    private long nonTransportDropped;

    /**
     * @param onLost told when an allocation in use is gone (refresh failed, or the server forgot it);
     *               its routes are already removed
     */
    NodeRelays(TurnClient turn, PathRouter router, DatagramReceiver transport,
            BiConsumer<TurnAllocation, TurnException> onLost) {
        this.turn = Objects.requireNonNull(turn, "turn");
        this.router = Objects.requireNonNull(router, "router");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.onLost = Objects.requireNonNull(onLost, "onLost");
    }

    /**
     * The allocation on {@code config.server()} for one more user: the existing one if it is being made
     * or active, otherwise a new one. Its {@link TurnAllocation#allocated()} says when it is usable.
     */
    TurnAllocation acquire(TurnConfig config) {
        TurnAllocation existing = byServer.get(config.server());
        if (existing != null && (existing.state() == TurnAllocation.State.ALLOCATING
                || existing.state() == TurnAllocation.State.ACTIVE)) {
            users.merge(existing, 1, Integer::sum);
            return existing;
        }
        if (existing != null) {
            forget(existing);
        }
        TurnAllocation allocation = turn.allocate(config);
        allocation.receiver((datagram, peer) -> {
            if (DatagramDemultiplexer.classify(datagram) == PacketKind.TRANSPORT) {
                transport.onDatagram(datagram, peer);
            } else {
                nonTransportDropped++;
            }
        });
        allocation.listener(new TurnListener() {
            @Override
            public void onAllocationLost(TurnAllocation lost, TurnException cause) {
                if (byServer.get(lost.server()) == lost) {
                    forget(lost);
                    onLost.accept(lost, cause);
                }
            }
        });
        allocation.allocated().whenComplete((done, failure) -> {
            if (failure != null && byServer.get(allocation.server()) == allocation) {
                forget(allocation);
            }
        });
        byServer.put(config.server(), allocation);
        users.put(allocation, 1);
        return allocation;
    }

    /** One user is done with {@code allocation}; the last one's release deletes it on the server. */
    void release(TurnAllocation allocation) {
        Integer left = users.computeIfPresent(allocation, (a, n) -> n - 1);
        if (left != null && left <= 0) {
            forget(allocation);
            allocation.close();
        }
    }

    private void forget(TurnAllocation allocation) {
        users.remove(allocation);
        byServer.remove(allocation.server(), allocation);
        router.forgetAll(allocation);
    }

    /** Allocations being made or in use. */
    List<TurnAllocation> allocations() {
        return List.copyOf(byServer.values());
    }

    /** Datagrams peers sent through a relay that were not transport packets. */
    long nonTransportDropped() {
        return nonTransportDropped;
    }

    /** Deletes every allocation (best effort: the node is closing). */
    void close() {
        byServer.clear();
        users.clear();
        turn.close();
    }
}
