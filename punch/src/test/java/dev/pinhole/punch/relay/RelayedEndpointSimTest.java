package dev.pinhole.punch.relay;

import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.punch.PunchSim.Text;
import dev.pinhole.protocol.stun.BindingOutcome;
import dev.pinhole.server.stun.StunBindingServer;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link RelayedEndpoint}: an allocation behaves as a socket whose address is the relayed one. */
class RelayedEndpointSimTest {
    private static final long SEED = 0xE4D9L;

    private final PunchSim f = PunchSim.withScriptedTurnServer(SEED);

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void sendAndReceiveGoThroughTheRelayWithPeersAsSenders() {
        SimEndpoint echo = f.sim.internet().addHost("203.0.113.20", PunchSim.LINK).bind(7000);
        List<InetSocketAddress> echoSaw = new ArrayList<>();
        echo.receiver((datagram, sender) -> {
            echoSaw.add(sender);
            echo.send(datagram.retainedDuplicate(), sender);
        });
        TurnAllocation allocation = f.turn.allocate(f.config());
        RelayedEndpoint endpoint = allocation.asEndpoint();
        assertNull(endpoint.localAddress(), "no address before the allocation is made");
        f.awaitDone(allocation.allocated(), 10 * SECOND).join();
        List<Text> got = new ArrayList<>();
        endpoint.receiver((datagram, sender) -> got.add(new Text(datagram.toString(StandardCharsets.UTF_8), sender)));

        // The first waits for the peer's permission; the rest go at once.
        assertTrue(endpoint.send(f.text("datagram 0"), echo.localAddress()), "accepted 0");
        f.sim.runFor(SECOND);
        for (int i = 1; i < 50; i++) {
            assertTrue(endpoint.send(f.text("datagram " + i), echo.localAddress()), "accepted " + i);
        }
        f.sim.runFor(2 * SECOND);

        assertEquals(allocation.relayedAddress(), endpoint.localAddress(), "the endpoint's address is the relayed one");
        assertEquals(50, got.size(), "every echo came back: " + got.size());
        for (int i = 0; i < 50; i++) {
            assertEquals(new Text("datagram " + i, echo.localAddress()), got.get(i), "echo " + i + " from the peer");
        }
        assertTrue(echoSaw.stream().allMatch(allocation.relayedAddress()::equals), "the peer saw only the relayed address");
        assertSame(f.node.clock(), endpoint.clock(), "the socket's clock");
        assertSame(f.node.timers(), endpoint.timers(), "the socket's timers");
        assertSame(f.node.allocator(), endpoint.allocator(), "the socket's allocator");
    }

    @Test
    void protocolCodeRunsOverTheRelayUnchanged() {
        // A STUN client on the relayed endpoint asks a STUN server what address it sees: the relayed one.
        SimEndpoint stunServer = f.sim.internet().addHost("203.0.113.30", PunchSim.LINK).bind(3478);
        StunBindingServer.basic(stunServer, null).listen();
        TurnAllocation allocation = f.allocate(f.config());
        RelayedEndpoint endpoint = allocation.asEndpoint();
        StunClient overRelay = new StunClient(endpoint, StunTransactionConfig.DEFAULT, f.sim.random("over-relay"));
        endpoint.receiver(overRelay);

        BindingOutcome outcome = f.awaitDone(overRelay.binding(stunServer.localAddress()), 10 * SECOND).join();

        BindingOutcome.Success success = assertInstanceOf(BindingOutcome.Success.class, outcome, "outcome");
        assertEquals(allocation.relayedAddress(), success.mappedAddress(), "the server saw the relayed address");
        assertEquals(stunServer.localAddress(), success.source(), "the answer came from the server, as the peer");
    }

    @Test
    void sendOnAClosedAllocationFailsAndReleasesTheDatagram() {
        TurnAllocation allocation = f.allocate(f.config());
        RelayedEndpoint endpoint = allocation.asEndpoint();
        f.awaitDone(allocation.close(), 5 * SECOND).join();

        assertFalse(endpoint.send(f.text("too late"), f.peer.localAddress()), "refused");
        assertEquals(1, allocation.stats().droppedNotActive(), "counted");
    }
}
