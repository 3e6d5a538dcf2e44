package dev.pinhole.reliability.connection;

import static dev.pinhole.reliability.connection.SimTransfer.MS;
import static dev.pinhole.reliability.connection.SimTransfer.SECOND;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.CountingAllocator;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimFixture;
import dev.pinhole.sim.SimHost;
import dev.pinhole.sim.Simulator;
import dev.pinhole.reliability.HandshakeFailedException;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.noise.NoiseKeyPair;
import dev.pinhole.reliability.wire.ConfirmPrefix;
import dev.pinhole.reliability.wire.FrameReader;
import dev.pinhole.reliability.wire.FrameScanner;
import dev.pinhole.reliability.wire.Frames;
import dev.pinhole.reliability.wire.PacketHeader;
import dev.pinhole.reliability.wire.TransportParameters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The stateless handshake against a hand-driven peer: what a server keeps (nothing) for INITIALs, and
 * which CONFIRMs create a connection.
 */
class HandshakeSimTest {
    private static final TransportParameters CLIENT_PARAMS = new TransportParameters(1200, 1 << 20, 30_000, 25);

    private final SimFixture world = new SimFixture(7);
    private final Simulator sim = world.sim;
    private final CountingAllocator allocator = world.countedAllocator();
    private final SimHost serverHost = world.publicHost("203.0.113.7",
            LinkConfig.builder().delay(10 * MS).build());
    private final SimEndpoint serverSocket = serverHost.bind(4433);
    private final TransportEndpoint server = TransportEndpoint.attach(
            new TestEndpoint(serverSocket, allocator, null, "S=>"), TransportConfig.DEFAULT, sim.random("server"));
    private final List<Connection> accepted = new ArrayList<>();
    private final InetSocketAddress serverAddress = new InetSocketAddress(serverHost.address(), 4433);

    {
        serverSocket.receiver(server);
        server.listen(connection -> {
            accepted.add(connection);
            return (c, events) -> { };
        });
    }

    @AfterEach
    void close() {
        server.close();
        world.close();
    }

    /**
     * A raw peer that sends hand-made packets: a real Noise XX initiator ({@link ClientHandshake}) whose
     * HELLO_REPLY it keeps, and CONFIRM packets it builds and seals itself.
     */
    private final class RawPeer {
        final SimEndpoint socket;
        final NoiseKeyPair key = NoiseKeyPair.generate(HandshakeProtocol.secureRandom(sim.random("raw peer key")));
        ClientHandshake handshake;
        long serverCid;
        byte[] cookie;
        byte[] finalMessage;
        PacketKeys keys;
        long nextPacketNumber;
        int replies;

        RawPeer(String ip, int port) {
            socket = sim.internet().addHost(ip, LinkConfig.builder().delay(10 * MS).build()).bind(port);
            socket.receiver((datagram, from) -> {
                PacketHeader header = new PacketHeader().wrap(datagram, datagram.readerIndex());
                if (!PacketHeader.isValid(datagram) || header.type() != PacketHeader.TYPE_HANDSHAKE) {
                    return;
                }
                ByteBuf payload = datagram.slice(datagram.readerIndex() + PacketHeader.HEADER_LENGTH,
                        datagram.readableBytes() - PacketHeader.HEADER_LENGTH);
                new FrameReader().read(payload, new FrameScanner() {
                    @Override
                    public void onHelloReply(long cid, TransportParameters params, ByteBuf cookieBytes,
                                             ByteBuf noiseMessage) {
                        replies++;
                        byte[] presented = ByteBufUtil.getBytes(cookieBytes);
                        if (handshake != null && handshake.onReply(cid, params, presented, noiseMessage)) {
                            serverCid = cid;
                            cookie = presented;
                            finalMessage = handshake.finalMessage();
                            byte[][] secrets = handshake.takeSecrets();
                            keys = new PacketKeys(secrets[0], secrets[1]);
                            handshake = null;
                        }
                    }
                });
            });
        }

        void sendInitial(long clientCid) {
            handshake = new ClientHandshake(key, null, clientCid, CLIENT_PARAMS,
                    HandshakeProtocol.secureRandom(sim.random("raw peer " + clientCid)));
            ByteBuf packet = Unpooled.buffer(1200);
            PacketHeader.write(packet, PacketHeader.TYPE_INITIAL, 0, 0);
            Frames.writeHello(packet, clientCid, CLIENT_PARAMS, handshake.pattern(), handshake.firstMessage());
            Frames.writePadding(packet, 1200 - packet.writerIndex());
            socket.send(packet, serverAddress);
        }

        /** A CONFIRM packet with a PING, sealed with this peer's keys. */
        ByteBuf confirm(long toServerCid, byte[] cookieBytes, byte[] noiseMessage) {
            ByteBuf packet = Unpooled.buffer(1200);
            long packetNumber = nextPacketNumber++;
            PacketHeader.write(packet, PacketHeader.TYPE_CONFIRM, toServerCid, packetNumber);
            ConfirmPrefix.write(packet, cookieBytes, noiseMessage);
            int headerLength = packet.writerIndex();
            Frames.writePing(packet);
            keys.seal(packet, headerLength, packetNumber);
            return packet;
        }

        void sendConfirm(long toServerCid, byte[] cookieBytes) {
            socket.send(confirm(toServerCid, cookieBytes, finalMessage), serverAddress);
        }
    }

    @Test
    void initialsCreateNoServerState() {
        RawPeer peer = new RawPeer("198.51.100.1", 5000);
        for (int i = 0; i < 200; i++) {
            long cid = 1000 + i;
            sim.schedule(i * MS, () -> peer.sendInitial(cid));
        }
        sim.runFor(2 * SECOND);
        assertEquals(200, peer.replies, "every INITIAL answered");
        assertEquals(200, server.counters().initialsAnswered(), "server counted the answers");
        assertEquals(0, server.connectionCount(), "server holds no connection for INITIALs alone");
        assertTrue(accepted.isEmpty(), "nothing accepted");
    }

    @Test
    void initialSmallerThan1200BytesIsNotAnswered() {
        RawPeer peer = new RawPeer("198.51.100.1", 5000);
        ByteBuf packet = Unpooled.buffer(100);
        PacketHeader.write(packet, PacketHeader.TYPE_INITIAL, 0, 0);
        Frames.writeHello(packet, 42, CLIENT_PARAMS, Frames.PATTERN_XX, new byte[32]);
        peer.socket.send(packet, serverAddress);
        sim.runFor(SECOND);
        assertEquals(0, peer.replies, "a short INITIAL could make the server amplify; no answer");
        assertEquals(1, server.counters().initialsIgnored(), "counted as ignored");
    }

    @Test
    void validConfirmCreatesConnection() {
        RawPeer peer = new RawPeer("198.51.100.1", 5000);
        peer.sendInitial(77);
        sim.runFor(100 * MS);
        assertEquals(1, peer.replies, "HELLO_REPLY received");
        peer.sendConfirm(peer.serverCid, peer.cookie);
        sim.runFor(100 * MS);
        assertEquals(1, accepted.size(), "the CONFIRM with the cookie created one connection");
        assertEquals(77, accepted.get(0).remoteCid(), "connection sends to the client's id");
    }

    @Test
    void forgedCookieIsDroppedAndCounted() {
        RawPeer peer = new RawPeer("198.51.100.1", 5000);
        peer.sendInitial(77);
        sim.runFor(100 * MS);
        byte[] forged = peer.cookie.clone();
        forged[3] ^= 1;
        peer.sendConfirm(peer.serverCid, forged);
        peer.sendConfirm(0x1234_5678L, peer.cookie);
        forged = peer.cookie.clone();
        forged[forged.length - 1] ^= 1;
        peer.sendConfirm(peer.serverCid, forged);
        sim.runFor(100 * MS);
        assertTrue(accepted.isEmpty(), "no connection from a flipped bit (bucket, tag) or another server id");
        assertEquals(3, server.counters().invalidCookie(), "three invalid cookies counted");
        assertEquals(0, server.connectionCount(), "no state");
    }

    @Test
    void cookieFromAnotherAddressIsDropped() {
        RawPeer peer = new RawPeer("198.51.100.1", 5000);
        RawPeer thief = new RawPeer("198.51.100.2", 5000);
        peer.sendInitial(77);
        sim.runFor(100 * MS);
        thief.socket.send(peer.confirm(peer.serverCid, peer.cookie, peer.finalMessage), serverAddress);
        sim.runFor(100 * MS);
        assertTrue(accepted.isEmpty(), "a cookie proves only the address it was sent to");
        assertEquals(1, server.counters().invalidCookie(), "counted");
    }

    @Test
    void expiredCookieIsDropped() {
        RawPeer peer = new RawPeer("198.51.100.1", 5000);
        peer.sendInitial(77);
        sim.runFor(100 * MS);
        // Valid in its own 10 s bucket and the next: 20 s later it has expired whatever the phase.
        sim.runFor(20 * SECOND);
        peer.sendConfirm(peer.serverCid, peer.cookie);
        sim.runFor(100 * MS);
        assertTrue(accepted.isEmpty(), "an expired cookie creates nothing");
        assertEquals(1, server.counters().invalidCookie(), "counted");
    }

    @Test
    void malformedDatagramsAreCountedNotThrown() {
        RawPeer peer = new RawPeer("198.51.100.1", 5000);
        byte[][] garbage = {
            {}, {(byte) 0x80}, {(byte) 0x88, 1, 2, 3}, new byte[13], new byte[1500],
        };
        garbage[3][0] = (byte) 0x88;
        garbage[4][0] = (byte) 0x88;
        for (int i = 5; i < 1500; i++) {
            garbage[4][i] = (byte) (i * 31);
        }
        for (byte[] bytes : garbage) {
            peer.socket.send(Unpooled.wrappedBuffer(bytes), serverAddress);
        }
        sim.runFor(SECOND);
        assertEquals(0, server.connectionCount(), "no state from garbage");
        long counted = server.counters().malformed() + server.counters().unknownConnection();
        assertEquals(serverHost.counters().delivered(), counted, "every datagram delivered counted as malformed or"
                + " unknown: " + server.counters().malformed() + " malformed, " + server.counters().unknownConnection()
                + " unknown, " + serverHost.counters().delivered() + " delivered");
    }

    @Test
    void clientGivesUpWithHandshakeFailedWhenNobodyAnswers() {
        SimEndpoint clientSocket = sim.internet().addHost("198.51.100.1").bind(0);
        TransportEndpoint client = TransportEndpoint.attach(new TestEndpoint(clientSocket, allocator, null, "C=>"),
                TransportConfig.DEFAULT, sim.random("client"));
        clientSocket.receiver(client);
        CloseReason[] reason = new CloseReason[1];
        long[] closedAt = new long[1];
        Connection connection = client.connect(new InetSocketAddress(serverHost.address(), 9999), (c, events) -> {
            if ((events & Connection.EVENT_CLOSED) != 0) {
                reason[0] = c.closeReason();
                closedAt[0] = sim.nowNs();
            }
        });
        sim.runFor(20 * SECOND);
        assertNotNull(reason[0], "client connection ended");
        assertEquals(10 * SECOND, closedAt[0], "ends exactly at the 10 s handshake timeout");
        HandshakeFailedException e = assertInstanceOf(HandshakeFailedException.class,
                reason[0].toException(connection.remoteAddress()));
        assertTrue(e.getMessage().contains("no handshake reply from /203.0.113.7:9999 within 10.0 s after 4 attempts"),
                "message names the address, the time and the attempts: " + e.getMessage());
        client.close();
    }

    @Test
    void refusedConnectionFailsTheClientWithHandshakeFailed() {
        server.listen(connection -> null);
        SimEndpoint clientSocket = sim.internet().addHost("198.51.100.1").bind(0);
        TransportEndpoint client = TransportEndpoint.attach(new TestEndpoint(clientSocket, allocator, null, "C=>"),
                TransportConfig.DEFAULT, sim.random("client"));
        clientSocket.receiver(client);
        CloseReason[] reason = new CloseReason[1];
        Connection connection = client.connect(serverAddress, (c, events) -> {
            if ((events & Connection.EVENT_CLOSED) != 0) {
                reason[0] = c.closeReason();
            }
        });
        sim.runFor(5 * SECOND);
        assertNotNull(reason[0], "client connection ended");
        HandshakeFailedException e = assertInstanceOf(HandshakeFailedException.class,
                reason[0].toException(connection.remoteAddress()));
        assertTrue(e.getMessage().contains("refused the connection"), "message says refused: " + e.getMessage());
        assertEquals(1, server.counters().refused(), "server counted the refusal");
        client.close();
    }

    @Test
    void garbageForALiveConnectionIsDroppedWithoutHarm() {
        RawPeer peer = new RawPeer("198.51.100.1", 5000);
        peer.sendInitial(77);
        sim.runFor(100 * MS);
        peer.sendConfirm(peer.serverCid, peer.cookie);
        sim.runFor(100 * MS);
        assertEquals(1, accepted.size(), "connection created");
        java.util.random.RandomGenerator random = sim.random("test/garbage");
        for (int i = 0; i < 2000; i++) {
            int length = PacketHeader.HEADER_LENGTH + random.nextInt(1200);
            byte[] bytes = new byte[length];
            random.nextBytes(bytes);
            ByteBuf packet = Unpooled.wrappedBuffer(bytes);
            packet.setByte(0, PacketHeader.firstByte(PacketHeader.TYPE_SHORT));
            packet.setLong(PacketHeader.DESTINATION_CID_OFFSET, peer.serverCid);
            // Mostly garbage frames; a first byte of PADDING or PING sometimes makes a valid packet.
            peer.socket.send(packet, serverAddress);
        }
        sim.runFor(SECOND);
        // Nothing escaped the event loop (the simulator would have rethrown it), and since every packet
        // is authenticated, no random packet can close the connection or reach its stream.
        Connection connection = accepted.get(0);
        assertNull(connection.closeReason(), "garbage changes nothing: " + connection);
        assertEquals(2000, connection.authenticationFailures() + connection.undecryptablePackets(),
                "every garbage packet failed to open and was counted");
    }

    @Test
    void replayedConfirmCreatesNothingAfterItsConnectionEnded() {
        RawPeer peer = new RawPeer("198.51.100.1", 5000);
        peer.sendInitial(77);
        sim.runFor(100 * MS);
        ByteBuf first = peer.confirm(peer.serverCid, peer.cookie, peer.finalMessage);
        ByteBuf replay = first.copy();
        peer.socket.send(first, serverAddress);
        sim.runFor(100 * MS);
        assertEquals(1, accepted.size(), "connection created");
        accepted.get(0).abort(sim.nowNs(), 1);
        server.wake(accepted.get(0));
        // Closing lasts the 10 s connection timeout; the cookie lives 10 to 20 s, so it is still fresh.
        sim.runFor(11 * SECOND);
        assertEquals(0, server.connectionCount(), "the connection ended: " + accepted.get(0));
        peer.socket.send(replay, serverAddress);
        sim.runFor(100 * MS);
        assertEquals(1, accepted.size(), "the replayed CONFIRM (cookie still fresh) created no second connection");
        assertEquals(1, server.counters().replayedConfirms(), "counted as a replay");
    }

    @Test
    void confirmWithoutTheFinalNoiseMessageIsRefused() {
        RawPeer peer = new RawPeer("198.51.100.1", 5000);
        peer.sendInitial(77);
        sim.runFor(100 * MS);
        byte[] damaged = peer.finalMessage.clone();
        damaged[10] ^= 1;
        peer.socket.send(peer.confirm(peer.serverCid, peer.cookie, new byte[0]), serverAddress);
        peer.socket.send(peer.confirm(peer.serverCid, peer.cookie, damaged), serverAddress);
        sim.runFor(100 * MS);
        assertTrue(accepted.isEmpty(), "XX's third message authenticates the client; without it, nothing");
        assertEquals(2, server.counters().handshakeFailures(), "both counted as handshake failures");
        peer.sendConfirm(peer.serverCid, peer.cookie);
        sim.runFor(100 * MS);
        assertEquals(1, accepted.size(), "the genuine CONFIRM still works after the failed ones");
        assertArrayEquals(peer.key.publicKey(), accepted.get(0).peerStaticKey(), "the server learned the client's key");
    }

    /** A copy of {@code genuine} with 1 to 8 random bytes changed and its length moved by up to 20 either way. */
    private static byte[] mutate(byte[] genuine, java.util.random.RandomGenerator random) {
        int length = Math.max(0, genuine.length + random.nextInt(41) - 20);
        byte[] bytes = java.util.Arrays.copyOf(genuine, length);
        if (length > genuine.length) {
            byte[] tail = new byte[length - genuine.length];
            random.nextBytes(tail);
            System.arraycopy(tail, 0, bytes, genuine.length, tail.length);
        }
        for (int i = 1 + random.nextInt(8); i > 0 && length > 0; i--) {
            bytes[random.nextInt(length)] ^= (byte) (1 + random.nextInt(255));
        }
        return bytes;
    }

    @Test
    void fuzzedInitialsAndConfirmsCreateNothing() {
        RawPeer peer = new RawPeer("198.51.100.1", 5000);
        java.util.random.RandomGenerator random = sim.random("test/fuzz");
        ByteBuf initial = Unpooled.buffer(1200);
        peer.handshake = new ClientHandshake(peer.key, null, 77, CLIENT_PARAMS,
                HandshakeProtocol.secureRandom(sim.random("fuzz client")));
        PacketHeader.write(initial, PacketHeader.TYPE_INITIAL, 0, 0);
        Frames.writeHello(initial, 77, CLIENT_PARAMS, peer.handshake.pattern(), peer.handshake.firstMessage());
        Frames.writePadding(initial, 1200 - initial.writerIndex());
        byte[] genuineInitial = ByteBufUtil.getBytes(initial);
        peer.socket.send(Unpooled.wrappedBuffer(genuineInitial), serverAddress);
        sim.runFor(100 * MS);
        byte[] genuineConfirm = ByteBufUtil.getBytes(peer.confirm(peer.serverCid, peer.cookie, peer.finalMessage));
        for (int i = 0; i < 1000; i++) {
            peer.socket.send(Unpooled.wrappedBuffer(mutate(genuineInitial, random)), serverAddress);
            peer.socket.send(Unpooled.wrappedBuffer(mutate(genuineConfirm, random)), serverAddress);
        }
        sim.runFor(SECOND);
        // Nothing escaped the event loop (the simulator rethrows). A mutation confined to the padding of an
        // INITIAL is still a valid INITIAL and is answered; a CONFIRM is accepted only with its cookie and
        // Noise message intact, and then only once.
        assertTrue(accepted.size() <= 1, "at most the genuine handshake made a connection: " + accepted.size());
        TransportEndpoint.Counters c = server.counters();
        assertTrue(c.malformed() + c.invalidCookie() + c.handshakeFailures() + c.replayedConfirms()
                + c.unknownConnection() + c.initialsIgnored() > 1000, "the mutations were counted as dropped");
        peer.socket.send(Unpooled.wrappedBuffer(genuineConfirm), serverAddress);
        sim.runFor(100 * MS);
        assertEquals(1, accepted.size(), "the genuine CONFIRM still makes exactly one connection");
    }

    @Test
    void fuzzedRepliesDoNotStopTheGenuineHandshake() {
        SimEndpoint clientSocket = sim.internet().addHost("198.51.100.1", LinkConfig.builder().delay(10 * MS).build())
                .bind(0);
        TransportEndpoint client = TransportEndpoint.create(new TestEndpoint(clientSocket, allocator, null, "C=>"),
                TransportConfig.DEFAULT, sim.random("client"));
        java.util.random.RandomGenerator random = sim.random("test/fuzz replies");
        clientSocket.receiver((datagram, from) -> {
            PacketHeader header = new PacketHeader().wrap(datagram, datagram.readerIndex());
            if (PacketHeader.isValid(datagram) && header.type() == PacketHeader.TYPE_HANDSHAKE) {
                byte[] genuine = ByteBufUtil.getBytes(datagram);
                for (int i = 0; i < 200; i++) {
                    client.onDatagram(Unpooled.wrappedBuffer(mutate(genuine, random)), from);
                }
            }
            client.onDatagram(datagram, from);
        });
        Connection[] established = new Connection[4];
        for (int i = 0; i < established.length; i++) {
            int index = i;
            client.connect(serverAddress, (c, events) -> {
                if ((events & Connection.EVENT_ESTABLISHED) != 0) {
                    established[index] = c;
                }
            });
        }
        sim.runFor(2 * SECOND);
        for (Connection c : established) {
            assertNotNull(c, "every connection established despite 200 damaged replies before the genuine one");
            assertArrayEquals(server.identity().x25519PublicKey(), c.peerStaticKey(), "and reached the server's key");
        }
        client.close();
    }
}
