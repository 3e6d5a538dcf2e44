package dev.pinhole.punch.relay;

import dev.pinhole.protocol.turn.ChannelData;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.net.PacketKind;
import dev.pinhole.protocol.stun.StunClient;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.random.RandomGenerator;

/**
 * The TURN client of one node (RFC 8656): makes {@link TurnAllocation}s on TURN servers over the
 * node's single socket and routes what those servers send back to them.
 *
 * <p>It shares the socket with everything else: requests go through the node's {@link StunClient}
 * (whose transactions also match the responses), and the node's {@link DatagramDemultiplexer} hands
 * it the rest, by the sender's address:
 * <pre>{@code
 * DatagramDemultiplexer demux = new DatagramDemultiplexer();
 * endpoint.receiver(demux);
 * StunClient stun = new StunClient(endpoint);
 * TurnClient turn = new TurnClient(stun);
 * turn.routeOn(demux, connectivityCheckResponder);   // STUN: responses, then Data indications, then the rest
 * turn.allocate(TurnConfig.of(server, "alice", "secret")).thenAccept(allocation -> ...);
 * }</pre>
 *
 * <p>A 5-tuple can hold one allocation (RFC 8656 §2.2), so there is at most one allocation per
 * server. Every method must be called on the endpoint's event loop. Nothing thrown out of the
 * receive paths: malformed or unexpected datagrams are counted and dropped.
 */
public final class TurnClient implements DatagramReceiver {
    private final StunClient stun;
    private final RandomGenerator random;
    private final Map<InetSocketAddress, TurnAllocation> byServer = new HashMap<>();
    private long channelDataFromUnknownSenders;

    /** A client whose indication transaction ids come from a {@link SecureRandom}. */
    public TurnClient(StunClient stun) {
        this(stun, new SecureRandom());
    }

    /**
     * @param random source of the transaction ids of Send indications: a seeded generator in simulations,
     *               so that runs replay
     */
    public TurnClient(StunClient stun, RandomGenerator random) {
        this.stun = Objects.requireNonNull(stun, "stun");
        this.random = Objects.requireNonNull(random, "random");
    }

    public StunClient stunClient() {
        return stun;
    }

    /**
     * Installs the TURN routes on the node's demultiplexer: STUN datagrams go to the STUN client
     * first (responses), then to this client (Data indications from a TURN server), then to
     * {@code otherStun} (null: dropped); ChannelData goes to this client.
     */
    public void routeOn(DatagramDemultiplexer demux, DatagramReceiver otherStun) {
        demux.route(PacketKind.STUN, (datagram, sender) -> {
            if (!stun.handle(datagram, sender) && !handleStun(datagram, sender) && otherStun != null) {
                otherStun.onDatagram(datagram, sender);
            }
        });
        demux.route(PacketKind.CHANNEL_DATA, this);
    }

    /**
     * Starts an allocation on {@code config.server()} (RFC 8656 §7). The returned allocation's
     * {@link TurnAllocation#allocated()} completes once the server granted it.
     *
     * @throws IllegalStateException if this node already has an allocation on that server
     */
    public TurnAllocation allocate(TurnConfig config) {
        Objects.requireNonNull(config, "config");
        if (byServer.containsKey(config.server())) {
            throw new IllegalStateException("this socket already has an allocation on " + config.server()
                + " and a 5-tuple holds only one (RFC 8656 §2.2); close it first");
        }
        TurnAllocation allocation = new TurnAllocation(this, stun, config, random.nextLong(), random.nextInt());
        byServer.put(config.server(), allocation);
        allocation.start();
        return allocation;
    }

    /** The allocation on {@code server}, or null. */
    public TurnAllocation allocation(InetSocketAddress server) {
        return byServer.get(server);
    }

    /** The allocations that are being made, active or closing. */
    public List<TurnAllocation> allocations() {
        return List.copyOf(byServer.values());
    }

    /**
     * Offers a well-formed STUN datagram no STUN transaction claimed (see {@link #routeOn}).
     *
     * @return true if it was a Data indication from one of our servers (delivered, or counted and
     *     dropped); false if it is someone else's
     */
    public boolean handleStun(ByteBuf datagram, InetSocketAddress sender) {
        TurnAllocation allocation = byServer.get(sender);
        return allocation != null && allocation.onStun(datagram);
    }

    /** A ChannelData datagram (first byte 64–79) from the demultiplexer. Never throws for any content. */
    @Override
    public void onDatagram(ByteBuf datagram, InetSocketAddress sender) {
        TurnAllocation allocation = byServer.get(sender);
        if (allocation == null) {
            channelDataFromUnknownSenders++;
            return;
        }
        allocation.onChannelData(datagram);
    }

    /** ChannelData dropped because it came from no server we have an allocation on. */
    public long channelDataFromUnknownSendersCount() {
        return channelDataFromUnknownSenders;
    }

    /** Closes every allocation (deallocating those that are active); completes when all have answered or failed. */
    public CompletableFuture<Void> close() {
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (TurnAllocation allocation : List.copyOf(byServer.values())) {
            closing.add(allocation.close().exceptionally(failure -> null));
        }
        return CompletableFuture.allOf(closing.toArray(new CompletableFuture<?>[0]));
    }

    void remove(TurnAllocation allocation) {
        byServer.remove(allocation.server(), allocation);
    }
}
