package dev.pinhole.punch;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import dev.pinhole.punch.relay.TurnClient;
import dev.pinhole.punch.relay.TurnException;
import dev.pinhole.sim.TrackedEndpoint;
import dev.pinhole.punch.traversal.ProbeSockets;
import dev.pinhole.sim.CountingAllocator;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimFixture;
import dev.pinhole.sim.SimHost;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The punch tests' layer on {@link SimFixture}: the parts of a simulated world that need the peer
 * library (TURN clients, probe sockets, endpoints whose buffers are counted apart from the simulator's).
 * Each test package's world extends it with its servers and peers, closing them before
 * {@code super.close()}.
 */
public class PunchSim extends SimFixture {
    /** What protocol code allocates through {@link #tracked} endpoints; {@link #close()} requires it all released. */
    public final CountingAllocator protocolAllocator = countedAllocator();

    public PunchSim(long seed) {
        super(seed);
    }

    /** {@code endpoint} with {@link #protocolAllocator} as its allocator, so protocol code's buffers are counted. */
    public TrackedEndpoint tracked(DatagramEndpoint endpoint) {
        return new TrackedEndpoint(endpoint, protocolAllocator);
    }

    /**
     * Probe sockets for birthday probing: ephemeral ports on {@code host}, each also added to {@code opened}
     * unless it is null.
     */
    public static ProbeSockets probeSockets(SimHost host, List<DatagramEndpoint> opened) {
        return new ProbeSockets() {
            @Override
            public DatagramEndpoint open() {
                SimEndpoint extra = host.bind(0);
                if (opened != null) {
                    opened.add(extra);
                }
                return extra;
            }

            @Override
            public void close(DatagramEndpoint socket) {
                ((SimEndpoint) socket).close();
            }
        };
    }

    /** The {@link TurnException} a completed future failed with. */
    public static TurnException turnFailure(CompletableFuture<?> future) {
        assertTrue(future.isCompletedExceptionally(), "expected a failure, got " + future);
        try {
            future.join();
            throw new AssertionError("unreachable");
        } catch (CompletionException e) {
            return assertInstanceOf(TurnException.class, e.getCause(), "cause");
        }
    }

    /**
     * A Pinhole node's TURN side on one socket: a demultiplexer receiving on it, a STUN client and a TURN
     * client routed on the demultiplexer, with the simulator's random streams of the given names.
     */
    public final class TurnNode {
        public final SimEndpoint endpoint;
        public final DatagramDemultiplexer demux = new DatagramDemultiplexer();
        public final StunClient stun;
        public final TurnClient turn;

        public TurnNode(SimEndpoint endpoint, String stunStream, String turnStream) {
            this.endpoint = endpoint;
            endpoint.receiver(demux);
            stun = new StunClient(endpoint, StunTransactionConfig.DEFAULT, sim.random(stunStream));
            turn = new TurnClient(stun, sim.random(turnStream));
            turn.routeOn(demux, null);
        }

        /** Closes the TURN client (releasing queued data) and the STUN client (pending requests). */
        public void close() {
            turn.close();
            stun.close();
        }
    }
}
