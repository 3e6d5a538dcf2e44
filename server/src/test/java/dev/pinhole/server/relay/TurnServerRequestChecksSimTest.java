package dev.pinhole.server.relay;

import dev.pinhole.server.RelayCounter;


import static dev.pinhole.server.relay.TurnServerSim.PASSWORD;
import static dev.pinhole.server.relay.TurnServerSim.SECOND;
import static dev.pinhole.server.relay.TurnServerSim.USER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimFixture;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Requests the server must refuse, and the limits on permissions, channels and unauthenticated answers. */
class TurnServerRequestChecksSimTest {
    private static final long SEED = 9;
    private static final InetSocketAddress PEER_1 = new InetSocketAddress("192.0.2.201", 6001);
    private static final InetSocketAddress PEER_2 = new InetSocketAddress("192.0.2.202", 6002);
    private static final InetSocketAddress PEER_3 = new InetSocketAddress("192.0.2.203", 6003);

    private static RawTurnClient allocated(TurnServerSim f) {
        RawTurnClient client = new RawTurnClient(f, f.sim.internet().addHost("192.0.2.50", TurnServerSim.LINK).bind(7000));
        client.challenge();
        assertEquals(0, RawTurnClient.code(client.allocate(client.newId(), USER, PASSWORD), USER, client.realm, PASSWORD),
            "Allocate");
        return client;
    }

    private static int ask(RawTurnClient client, int method, Consumer<StunWriter> attributes) {
        StunReader answer = client.exchange(client.request(method, client.newId(), attributes, USER, PASSWORD));
        return RawTurnClient.code(answer, USER, client.realm, PASSWORD);
    }

    private static Consumer<StunWriter> bind(int channel, InetSocketAddress peer) {
        return w -> w.addUInt32(StunAttributeType.CHANNEL_NUMBER, channel << 16)
            .addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer);
    }

    @Test
    void allocateWithUnsupportedTransportOrDontFragmentOrNoTransportIsRefused() {
        try (TurnServerSim f = new TurnServerSim(SEED, TurnServerConfig.defaults())) {
            RawTurnClient client = new RawTurnClient(f, f.sim.internet().addHost("192.0.2.50", TurnServerSim.LINK).bind(7000));
            client.challenge();
            assertEquals(442, ask(client, StunMessageType.METHOD_ALLOCATE,
                w -> w.addUInt32(StunAttributeType.REQUESTED_TRANSPORT, 6 << 24)), "TCP relaying");
            assertEquals(420, ask(client, StunMessageType.METHOD_ALLOCATE,
                w -> w.addUInt32(StunAttributeType.REQUESTED_TRANSPORT, RawTurnClient.REQUESTED_TRANSPORT_UDP)
                    .addEmpty(StunAttributeType.DONT_FRAGMENT)), "DONT-FRAGMENT");
            assertEquals(400, ask(client, StunMessageType.METHOD_ALLOCATE, w -> { }), "no REQUESTED-TRANSPORT");
            assertEquals(440, ask(client, StunMessageType.METHOD_ALLOCATE,
                w -> w.addUInt32(StunAttributeType.REQUESTED_TRANSPORT, RawTurnClient.REQUESTED_TRANSPORT_UDP)
                    .addUInt32(StunAttributeType.REQUESTED_ADDRESS_FAMILY, 2 << 24)), "an IPv6 relayed address");
            assertEquals(0, f.turnServer.allocationCount(), "nothing allocated");
        }
    }

    @Test
    void channelNumberAndPeerStayPairedAndOutOfRangeNumbersAreBadRequests() {
        try (TurnServerSim f = new TurnServerSim(SEED, TurnServerConfig.defaults())) {
            RawTurnClient client = allocated(f);
            assertEquals(0, ask(client, StunMessageType.METHOD_CHANNEL_BIND, bind(0x4000, PEER_1)), "first binding");
            assertEquals(0, ask(client, StunMessageType.METHOD_CHANNEL_BIND, bind(0x4000, PEER_1)), "refresh of it");
            assertEquals(400, ask(client, StunMessageType.METHOD_CHANNEL_BIND, bind(0x4000, PEER_2)), "number to another peer");
            assertEquals(400, ask(client, StunMessageType.METHOD_CHANNEL_BIND, bind(0x4001, PEER_1)), "peer on another number");
            assertEquals(400, ask(client, StunMessageType.METHOD_CHANNEL_BIND, bind(0x3FFF, PEER_2)), "below 0x4000");
            assertEquals(400, ask(client, StunMessageType.METHOD_CHANNEL_BIND, bind(0x8000, PEER_2)), "above 0x7FFF");
            assertEquals(400, ask(client, StunMessageType.METHOD_CHANNEL_BIND,
                w -> w.addUInt32(StunAttributeType.CHANNEL_NUMBER, 0x4002 << 16)), "no XOR-PEER-ADDRESS");
            assertEquals(1, f.turnServer.channelCount(), "channels");
            assertEquals(1, f.turnServer.permissionCount(), "the binding installed a permission for its peer");
        }
    }

    @Test
    void permissionAndChannelCapsAnswer508() {
        TurnServerConfig config = TurnServerConfig.builder().maxPermissionsAndChannels(2, 1).build();
        try (TurnServerSim f = new TurnServerSim(SEED, config)) {
            RawTurnClient client = allocated(f);
            assertEquals(0, ask(client, StunMessageType.METHOD_CHANNEL_BIND, bind(0x4000, PEER_1)), "one channel");
            assertEquals(508, ask(client, StunMessageType.METHOD_CHANNEL_BIND, bind(0x4001, PEER_2)), "a second channel");
            assertEquals(0, ask(client, StunMessageType.METHOD_CREATE_PERMISSION,
                w -> w.addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, PEER_2)), "second permission");
            assertEquals(508, ask(client, StunMessageType.METHOD_CREATE_PERMISSION,
                w -> w.addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, PEER_3)), "a third permission");
            assertEquals(0, ask(client, StunMessageType.METHOD_CREATE_PERMISSION,
                w -> w.addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, PEER_1)
                    .addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, PEER_2)), "refreshing both in one request");
            assertEquals(2, f.turnServer.permissionCount(), "permissions");
            assertEquals(2, f.count(RelayCounter.CAPACITY_REJECTIONS), "508s");
        }
    }

    @Test
    void channelDataOnAnUnboundChannelOrWithoutAllocationIsDropped() {
        try (TurnServerSim f = new TurnServerSim(SEED, TurnServerConfig.defaults())) {
            RawTurnClient client = allocated(f);
            byte[] channelData = {0x40, 0x05, 0, 2, 9, 9};
            assertNull(client.exchange(channelData), "no answer to ChannelData");
            assertEquals(1, f.count(RelayCounter.DROPPED_UNBOUND_CHANNEL), "unbound channel");
            SimEndpoint stranger = f.sim.internet().addHost("192.0.2.66", TurnServerSim.LINK).bind(7001);
            stranger.send(f.buffer(channelData), f.turnServer.address());
            f.sim.runFor(SECOND);
            assertEquals(1, f.count(RelayCounter.DROPPED_NO_ALLOCATION), "ChannelData from a 5-tuple without allocation");
        }
    }

    @Test
    void unauthenticatedAnswersAreLimitedServerWide() {
        TurnServerConfig config = TurnServerConfig.builder().unauthenticatedRate(100, 50).build();
        try (TurnServerSim f = new TurnServerSim(SEED, config)) {
            List<byte[]> answers = new ArrayList<>();
            List<SimEndpoint> senders = new ArrayList<>();
            for (int i = 0; i < 80; i++) {
                SimEndpoint sender = f.sim.internet().addHost("192.0.2." + (100 + i), TurnServerSim.LINK).bind(7000);
                sender.receiver((datagram, from) -> answers.add(SimFixture.bytes(datagram)));
                senders.add(sender);
            }
            RawTurnClient builder = new RawTurnClient(f, senders.get(0));
            byte[] allocate = builder.request(StunMessageType.METHOD_ALLOCATE, 1,
                w -> w.addUInt32(StunAttributeType.REQUESTED_TRANSPORT, RawTurnClient.REQUESTED_TRANSPORT_UDP), null, null);
            senders.get(0).receiver((datagram, from) -> answers.add(SimFixture.bytes(datagram)));
            for (SimEndpoint sender : senders) {
                sender.send(f.buffer(allocate), f.turnServer.address());
            }
            f.sim.runFor(SECOND / 10);
            assertEquals(50, answers.size(), "a burst of 50 challenges, then none");
            assertEquals(30, f.count(RelayCounter.DROPPED_UNAUTHENTICATED_RATE), "challenges not sent");
            f.sim.runFor(SECOND);
            senders.get(0).send(f.buffer(allocate), f.turnServer.address());
            f.sim.runFor(SECOND / 10);
            assertTrue(answers.size() == 51, "challenges resume as the bucket refills, got " + answers.size());
        }
    }
}
