package dev.pinhole.punch.rendezvous;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;

import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import dev.pinhole.punch.PunchSim.Peer;
import dev.pinhole.protocol.stun.BindingOutcome;
import dev.pinhole.protocol.stun.BindingRequest;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** With alternate addresses the rendezvous server is an RFC 5780 server as well, on the same primary port. */
class RendezvousRfc5780Test {
    private static final long SEED = 0xEE05L;
    private final PunchSim net = PunchSim.withRendezvousHost(SEED);

    @AfterEach
    void close() {
        net.close();
    }

    @Test
    void changeRequestsAreAnsweredFromTheAlternatesWhileRendezvousRunsOnThePrimary() {
        SimHost alternateHost = net.sim.internet().addHost("198.51.100.11");
        net.serverEndpoint = net.serverHost.bind(3478);
        SimEndpoint alternatePort = net.serverHost.bind(3479);
        SimEndpoint alternateIp = alternateHost.bind(3478);
        SimEndpoint alternateBoth = alternateHost.bind(3479);
        net.server = RendezvousServer.listenRfc5780(net.tracked(net.serverEndpoint), net.tracked(alternatePort),
            net.tracked(alternateIp), net.tracked(alternateBoth),
            RendezvousServerConfig.builder().random(net.sim.random("server")).build());
        SimEndpoint probe = net.sim.internet().addHost("192.0.2.30").bind(5000);
        StunClient stun = new StunClient(net.tracked(probe), StunTransactionConfig.DEFAULT, net.sim.random("probe"));
        probe.receiver(stun);
        Peer alice = net.peerBehindNat("alice");

        BindingOutcome.Success plain = assertInstanceOf(BindingOutcome.Success.class,
            net.await(stun.binding(net.serverAddress, BindingRequest.DEFAULT.withSoftware("rfc5780 probe")), 5 * SECOND));
        BindingOutcome.Success changed = assertInstanceOf(BindingOutcome.Success.class, net.await(stun.binding(
            net.serverAddress, BindingRequest.DEFAULT.withSoftware("rfc5780 probe").withChangeRequest(true, true)),
            5 * SECOND));
        net.register(alice);

        assertEquals(probe.localAddress(), plain.mappedAddress(), "mapped address of a public host");
        assertEquals(PunchSim.address("198.51.100.11", 3479), plain.otherAddress(), "OTHER-ADDRESS");
        assertEquals(PunchSim.address("198.51.100.11", 3479), changed.source(),
            "CHANGE-REQUEST(ip, port) answered from the other IP and port");
        assertEquals(changed.source(), changed.responseOrigin(), "RESPONSE-ORIGIN says so");
        assertTrue(net.server.isRegistered("alice"), "rendezvous on the primary port as usual");
        assertEquals(2, net.server.stats().bindingResponses(), "both Binding requests answered");
        stun.close();
    }
}
