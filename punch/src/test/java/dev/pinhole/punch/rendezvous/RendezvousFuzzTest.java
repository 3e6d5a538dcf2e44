package dev.pinhole.punch.rendezvous;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.protocol.rendezvous.RendezvousAttributes;
import dev.pinhole.protocol.rendezvous.RendezvousProtocol;
import dev.pinhole.server.RendezvousServerStats;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.punch.PunchSim.Peer;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.protocol.stun.TransactionId;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.punch.traversal.Introduction;
import dev.pinhole.protocol.rendezvous.RelayOffer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Bad input is normal input: seeded batteries of random, truncated, bit-flipped and structurally
 * plausible-but-wrong datagrams thrown at a running server, over the simulated network and directly.
 * The server must never throw (the simulator would propagate it), must count what it drops, must keep
 * every table within its cap, must release every buffer, and must still serve real peers afterwards.
 */
class RendezvousFuzzTest {
    private static final int SEEDS = Integer.getInteger("pinhole.scenarios", 1000) / 50;
    private static final int DATAGRAMS_PER_SEED = 2000;
    private static final int MAX_REGISTRATIONS = 12;
    private static final int MAX_SOURCES = 24;
    private static final int MAX_OUTBOUND = 6;
    private static final byte[] REST_SECRET = "fuzz-rest-secret-0123456789".getBytes(StandardCharsets.US_ASCII);
    private static final int[] METHODS = {RendezvousProtocol.METHOD_REGISTER, RendezvousProtocol.METHOD_LIST_PEERS,
        RendezvousProtocol.METHOD_CONNECT, RendezvousProtocol.METHOD_MESSAGE, RendezvousProtocol.METHOD_CANDIDATE,
        RendezvousProtocol.METHOD_INTRODUCTION, StunMessageType.METHOD_BINDING, 0x0EF};
    /** The methods clients send, which {@link #structured} builds plausible requests of. */
    private static final int CLIENT_METHODS = 5;
    private static final int[] ATTRIBUTES = {RendezvousProtocol.ATTR_PEER_NAME, RendezvousProtocol.ATTR_NODE_KEY,
        RendezvousProtocol.ATTR_SERVER_KEY, RendezvousProtocol.ATTR_PEER_KEY,
        RendezvousProtocol.ATTR_HOST_CANDIDATE, RendezvousProtocol.ATTR_NAT_PROFILE, RendezvousProtocol.ATTR_LIST_AFTER,
        RendezvousProtocol.ATTR_MESSAGE_TEXT, RendezvousProtocol.ATTR_INTRODUCTION_ID, RendezvousProtocol.ATTR_PEER_CANDIDATE,
        RendezvousProtocol.ATTR_RELAY_OFFER, StunAttributeType.PADDING,
        StunAttributeType.SOFTWARE, StunAttributeType.CHANGE_REQUEST, 0x0042, 0xC0DE};

    @Test
    void theServerSurvivesSeededFuzzingOverTheNetworkAndStillServesRealPeers() {
        long[] reached = new long[5];
        for (long seed = 1; seed <= Math.max(1, SEEDS); seed++) {
            fuzzOverTheNetwork(seed, reached);
        }
        assertTrue(reached[0] > 0 && reached[1] > 0 && reached[2] > 0 && reached[3] > 0 && reached[4] > 0,
            "the fuzzing reached registration, introduction, listing, their refusals and trickled candidates: "
                + Arrays.toString(reached));
    }

    private void fuzzOverTheNetwork(long seed, long[] reached) {
        try (PunchSim net = PunchSim.withRendezvousHost(seed)) {
            net.startServer(b -> b.maxRegistrations(MAX_REGISTRATIONS).maxTrackedSources(MAX_SOURCES)
                .maxOutboundRequests(MAX_OUTBOUND).rateLimit(200, 400).maxNamesPerPage(5)
                .relay(PunchSim.address("198.51.100.10", 3479), REST_SECRET).allowList(true));
            Peer alice = net.peerBehindNat("alice");
            Peer bob = net.peerBehindNat("bob");
            net.register(alice);
            net.register(bob);
            SplittableRandom random = new SplittableRandom(seed);
            List<RawPeer> fuzzers = new ArrayList<>();
            List<byte[]> nonces = new ArrayList<>();
            for (int i = 0; i < 2 * MAX_SOURCES; i++) {
                RawPeer fuzzer = new RawPeer(net.sim.internet().addHost("192.0.2." + (10 + i)).bind(7000 + i),
                    net.serverAddress, net.sim.random("fuzzer" + i)).identity(RawPeer.identity("fuzzer" + i));
                fuzzer.send(fuzzer.request(RendezvousProtocol.METHOD_LIST_PEERS,
                    w -> w.addBytes(StunAttributeType.PADDING, new byte[128]), null, null, true));
                fuzzers.add(fuzzer);
            }
            net.runFor(100 * MS);
            for (RawPeer fuzzer : fuzzers) {
                nonces.add(fuzzer.lastNonce());
                fuzzer.learn();
            }
            for (int i = 0; i < DATAGRAMS_PER_SEED; i++) {
                int who = random.nextInt(fuzzers.size());
                RawPeer fuzzer = fuzzers.get(who);
                byte[] datagram = fuzzDatagram(random, nonces.get(who), fuzzer);
                net.sim.schedule(net.sim.nowNs() + random.nextLong(10 * SECOND), () -> fuzzer.send(datagram));
            }
            net.runFor(30 * SECOND);

            RendezvousServerStats stats = net.server.stats();
            String context = " (seed " + seed + ", " + stats + ")";
            assertTrue(stats.malformed() > 0, "malformed datagrams were counted" + context);
            assertTrue(stats.badRequests() + stats.unknownMethods() > 0, "bad requests were answered" + context);
            assertTrue(stats.registrations() <= MAX_REGISTRATIONS, "registrations within the cap" + context);
            assertTrue(stats.trackedSources() <= MAX_SOURCES, "sources within the cap" + context);
            assertTrue(stats.sourceEvictions() > 0, "more sources than the cap were seen" + context);
            assertTrue(stats.outboundPending() <= MAX_OUTBOUND, "outbound requests within the cap" + context);
            reached[0] += stats.registered() - 2;
            reached[1] += stats.connects();
            reached[2] += stats.lists();
            reached[3] += stats.nameConflicts() + stats.serverFull() + stats.peerNotFound();
            reached[4] += stats.candidatesForwarded();

            // Still serving: alice and bob kept refreshing through all of it and can still be introduced.
            net.runFor(60 * SECOND);
            assertTrue(net.server.isRegistered("alice") && net.server.isRegistered("bob"), "refreshed throughout" + context);
            Introduction introduction = net.await(alice.client().connect("bob"), 20 * SECOND);
            assertEquals("bob", introduction.peerName(), "introduced after the fuzzing" + context);
            assertEquals(PunchSim.address("198.51.100.10", 3479), introduction.relay().server(),
                "with a relay offer" + context);
        }
    }

    @Test
    void theServerSurvivesArbitraryBuffersHandedToItDirectly() {
        for (long seed = 1; seed <= Math.max(1, SEEDS); seed++) {
            try (PunchSim net = PunchSim.withRendezvousHost(seed)) {
                net.startServer(b -> b.rateLimit(1_000_000, 1_000_000).maxRegistrations(MAX_REGISTRATIONS));
                SplittableRandom random = new SplittableRandom(seed);
                byte[] validNonce = null;
                for (int i = 0; i < DATAGRAMS_PER_SEED; i++) {
                    byte[] bytes = random.nextInt(4) == 0 ? randomBytes(random, random.nextInt(2000))
                        : fuzzDatagram(random, validNonce);
                    ByteBuf buf = net.allocator.buffer(bytes.length + 16);
                    // Sometimes not at index 0, so the server must honour the reader index.
                    int offset = random.nextInt(3) == 0 ? random.nextInt(16) : 0;
                    buf.writerIndex(offset);
                    buf.readerIndex(offset);
                    buf.writeBytes(bytes);
                    try {
                        net.server.onDatagram(buf, PunchSim.address("192.0.2." + (1 + random.nextInt(200)),
                            1024 + random.nextInt(60000)));
                    } finally {
                        buf.release();
                    }
                    if (i % 100 == 0) {
                        net.runFor(50 * MS);
                    }
                }
                net.runFor(20 * SECOND);
                RendezvousServerStats stats = net.server.stats();
                assertTrue(stats.malformed() > 0, "malformed counted (seed " + seed + ", " + stats + ")");
                assertTrue(stats.registrations() <= MAX_REGISTRATIONS, "cap held (seed " + seed + ")");
            }
        }
    }

    /**
     * Half structurally valid requests of the rendezvous methods with random content (names from a small
     * pool, so that conflicts, renames and introductions happen), half soups of random attributes under a
     * random method and class; then a third of them truncated, bit-flipped, extended or lying about a length.
     */
    static byte[] fuzzDatagram(SplittableRandom random, byte[] nonce) {
        return fuzzDatagram(random, nonce, null);
    }

    /**
     * {@link #fuzzDatagram(SplittableRandom, byte[])}; with a {@code signer} (a raw peer that knows its nonce
     * and the server's key), three quarters of the structured requests carry its NODE-KEY and are signed with
     * its session key, so that registrations, introductions and forwarding happen too.
     */
    static byte[] fuzzDatagram(SplittableRandom random, byte[] nonce, RawPeer signer) {
        byte[] message = random.nextBoolean() ? structured(random, nonce, signer != null && random.nextInt(4) != 0
            ? signer : null) : soup(random, nonce);
        return switch (random.nextInt(9)) {
            case 0 -> Arrays.copyOf(message, random.nextInt(message.length + 1));
            case 1 -> flipBits(random, message);
            case 2 -> Arrays.copyOf(message, message.length + 1 + random.nextInt(8));
            case 3 -> {
                byte[] lying = message.clone();
                if (lying.length > 24) {
                    int at = 22 + 4 * random.nextInt((lying.length - 22) / 4);
                    lying[Math.min(at, lying.length - 1)] = (byte) random.nextInt(256);
                }
                yield lying;
            }
            default -> message;
        };
    }

    private static byte[] structured(SplittableRandom random, byte[] nonce, RawPeer signer) {
        int method = METHODS[random.nextInt(CLIENT_METHODS)];
        Consumer<StunWriter> body = w -> {
            switch (method) {
                case RendezvousProtocol.METHOD_REGISTER -> {
                    w.addBytes(RendezvousProtocol.ATTR_PEER_NAME, poolName(random));
                    // A key from a pool of four (so fuzzed REGISTERs collide on keys), sometimes of a wrong
                    // length; without the session key's integrity every one is refused (401).
                    if (signer == null) {
                        byte[] nodeKey = new byte[random.nextInt(10) == 0 ? random.nextInt(40) : 32];
                        if (nodeKey.length > 0) {
                            nodeKey[0] = (byte) (9 + random.nextInt(4));
                        }
                        w.addBytes(RendezvousProtocol.ATTR_NODE_KEY, nodeKey);
                    }
                    int hosts = random.nextInt(11);
                    for (int i = 0; i < hosts; i++) {
                        w.addBytes(RendezvousProtocol.ATTR_HOST_CANDIDATE, plausibleValue(random, RendezvousProtocol.ATTR_HOST_CANDIDATE));
                    }
                    if (random.nextBoolean()) {
                        w.addBytes(RendezvousProtocol.ATTR_NAT_PROFILE, randomBytes(random, random.nextInt(40)));
                    }
                }
                case RendezvousProtocol.METHOD_LIST_PEERS -> {
                    if (random.nextBoolean()) {
                        w.addBytes(RendezvousProtocol.ATTR_LIST_AFTER, poolName(random));
                    }
                }
                case RendezvousProtocol.METHOD_CONNECT -> w.addBytes(RendezvousProtocol.ATTR_PEER_NAME, poolName(random));
                case RendezvousProtocol.METHOD_CANDIDATE -> {
                    w.addBytes(RendezvousProtocol.ATTR_PEER_NAME, poolName(random));
                    int candidates = random.nextInt(10) == 0 ? random.nextInt(3) : 1;
                    for (int i = 0; i < candidates; i++) {
                        w.addBytes(RendezvousProtocol.ATTR_PEER_CANDIDATE,
                            plausibleValue(random, RendezvousProtocol.ATTR_PEER_CANDIDATE));
                    }
                }
                default -> {
                    w.addBytes(RendezvousProtocol.ATTR_PEER_NAME, poolName(random));
                    w.addBytes(RendezvousProtocol.ATTR_MESSAGE_TEXT, randomBytes(random, random.nextInt(600)));
                }
            }
        };
        if (signer != null) {
            return signer.signed(method, body);
        }
        return RawPeer.message(StunMessageType.of(method, StunClass.REQUEST),
            new TransactionId(random.nextLong(), random.nextInt()), body, random.nextInt(8) != 0 ? nonce : null, null,
            random.nextBoolean());
    }

    private static byte[] soup(SplittableRandom random, byte[] nonce) {
        int type = StunMessageType.of(METHODS[random.nextInt(METHODS.length)],
            StunClass.values()[random.nextInt(10) < 7 ? 0 : random.nextInt(4)]);
        Consumer<StunWriter> body = w -> {
            int attributes = random.nextInt(7);
            for (int a = 0; a < attributes; a++) {
                int attribute = ATTRIBUTES[random.nextInt(ATTRIBUTES.length)];
                w.addBytes(attribute, plausibleValue(random, attribute));
            }
        };
        return RawPeer.message(type, new TransactionId(random.nextLong(), random.nextInt()), body,
            random.nextInt(4) != 0 ? nonce : null, null, random.nextInt(3) == 0);
    }

    private static final String[] NAMES = {"alice", "bob", "carol", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7",
        "f8", "f9", "bad name", "\u00e9t\u00e9", "e\u0301"};

    private static byte[] poolName(SplittableRandom random) {
        if (random.nextInt(20) == 0) {
            return new byte[] {(byte) 0xC3, 0x28};
        }
        if (random.nextInt(20) == 0) {
            return randomBytes(random, random.nextInt(70));
        }
        return NAMES[random.nextInt(NAMES.length)].getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] plausibleValue(SplittableRandom random, int attribute) {
        if (attribute == RendezvousProtocol.ATTR_PEER_CANDIDATE && random.nextBoolean()) {
            return mangle(random, RendezvousAttributes.peerCandidate(new Candidate(
                CandidateType.values()[random.nextInt(CandidateType.values().length)],
                PunchSim.address("198.51.100." + random.nextInt(256), 1 + random.nextInt(65535)),
                1 + random.nextInt(Integer.MAX_VALUE), PunchSim.address("10.0.0.1", 1))));
        }
        if (attribute == RendezvousProtocol.ATTR_RELAY_OFFER && random.nextBoolean()) {
            return mangle(random, validRelayOffer(random));
        }
        return switch (random.nextInt(4)) {
            case 0 -> randomBytes(random, random.nextInt(80));
            case 1 -> "alice".getBytes(StandardCharsets.UTF_8);
            case 2 -> {
                byte[] candidate = new byte[RendezvousAttributes.HOST_CANDIDATE_V4_BYTES];
                RendezvousAttributes.writeHostCandidate(candidate, 0, 1 + random.nextInt(1000),
                    PunchSim.address("10.0.0." + random.nextInt(256), random.nextInt(65536)));
                yield candidate;
            }
            default -> randomBytes(random, attribute == RendezvousProtocol.ATTR_NODE_KEY
                || attribute == RendezvousProtocol.ATTR_SERVER_KEY || attribute == RendezvousProtocol.ATTR_PEER_KEY
                ? RendezvousProtocol.KEY_BYTES : random.nextInt(12));
        };
    }

    /** A well-formed RELAY-OFFER value with random fields. */
    private static byte[] validRelayOffer(SplittableRandom random) {
        byte[] username = new byte[1 + random.nextInt(120)];
        byte[] password = new byte[1 + random.nextInt(40)];
        for (byte[] field : new byte[][] {username, password}) {
            for (int i = 0; i < field.length; i++) {
                field[i] = (byte) ('!' + random.nextInt(94));
            }
        }
        return RendezvousAttributes.relayOffer(new RelayOffer(
            PunchSim.address(random.nextBoolean() ? "198.51.100.10" : "2001:db8::" + Integer.toHexString(random.nextInt(65536)),
                1 + random.nextInt(65535)),
            new String(username, StandardCharsets.US_ASCII), new String(password, StandardCharsets.US_ASCII),
            random.nextLong(Long.MAX_VALUE)));
    }

    /** Half the time unchanged; else truncated, extended, bit-flipped or with a length field overwritten. */
    private static byte[] mangle(SplittableRandom random, byte[] value) {
        if (value.length == 0) {
            return value;
        }
        return switch (random.nextInt(8)) {
            case 0 -> Arrays.copyOf(value, random.nextInt(value.length + 1));
            case 1 -> Arrays.copyOf(value, value.length + 1 + random.nextInt(4));
            case 2 -> flipBits(random, value);
            case 3 -> {
                byte[] lying = value.clone();
                lying[random.nextInt(lying.length)] = (byte) random.nextInt(256);
                yield lying;
            }
            default -> value;
        };
    }

    @Test
    void theClientSurvivesSeededIntroductionsAndCandidatesWithMangledRelayOffersAndCandidates() {
        for (long seed = 1; seed <= Math.max(1, SEEDS); seed++) {
            try (PunchSim net = PunchSim.withRendezvousHost(seed)) {
                Peer bob = net.publicPeer("bob", b -> b);
                // A raw server on the rendezvous address gives bob a session, whose key signs what follows.
                RawPeer server = new RawPeer(net.serverHost.bind(PunchSim.SERVER_PORT), null, net.sim.random("raw"));
                bob.client().register("bob", List.of());
                StunKey session = server.acceptRegistration(RawPeer.identity("raw server"), null,
                    () -> net.runFor(100 * MS));
                byte[] aliceKey = RawPeer.identity("alice").x25519PublicKey();
                SplittableRandom random = new SplittableRandom(seed);
                long delivered = 0;
                long expectedOffers = 0;
                for (int i = 0; i < DATAGRAMS_PER_SEED / 4; i++) {
                    boolean introduction = random.nextBoolean();
                    byte[] value = introduction ? validRelayOffer(random) : plausibleValue(random,
                        RendezvousProtocol.ATTR_PEER_CANDIDATE);
                    byte[] sent = mangle(random, value);
                    long id = i + 1;
                    Consumer<StunWriter> body = introduction ? w -> {
                        byte[] idBytes = new byte[RendezvousProtocol.ID_BYTES];
                        RendezvousAttributes.writeLong(idBytes, 0, id);
                        w.addBytes(RendezvousProtocol.ATTR_INTRODUCTION_ID, idBytes);
                        w.addString(RendezvousProtocol.ATTR_PEER_NAME, "alice");
                        w.addBytes(RendezvousProtocol.ATTR_PEER_KEY, aliceKey);
                        w.addString(RendezvousProtocol.ATTR_LOCAL_CREDENTIALS, "abcd:0123456789abcdefghijkl");
                        w.addString(RendezvousProtocol.ATTR_REMOTE_CREDENTIALS, "efgh:0123456789abcdefghijkl");
                        w.addUInt32(RendezvousProtocol.ATTR_ROLE, RendezvousProtocol.ROLE_CONTROLLED);
                        w.addBytes(RendezvousProtocol.ATTR_RELAY_OFFER, sent);
                    } : w -> {
                        w.addString(RendezvousProtocol.ATTR_PEER_NAME, "alice");
                        w.addBytes(RendezvousProtocol.ATTR_PEER_KEY, aliceKey);
                        w.addBytes(RendezvousProtocol.ATTR_PEER_CANDIDATE, sent);
                    };
                    int method = introduction ? RendezvousProtocol.METHOD_INTRODUCTION : RendezvousProtocol.METHOD_CANDIDATE;
                    byte[] datagram = RawPeer.message(StunMessageType.of(method, StunClass.REQUEST),
                        new TransactionId(random.nextLong(), random.nextInt()), body, null, session, true);
                    ByteBuf buf = net.allocator.buffer(datagram.length);
                    buf.writeBytes(datagram);
                    boolean decodable = introduction
                        ? RendezvousAttributes.readRelayOffer(Unpooled.wrappedBuffer(sent), 0, sent.length) != null
                        : RendezvousAttributes.readPeerCandidate(Unpooled.wrappedBuffer(sent), 0, sent.length) != null;
                    try {
                        assertTrue(bob.client().handle(buf, net.serverAddress),
                            "a request from the server is consumed (seed " + seed + ", #" + i + ")");
                    } finally {
                        buf.release();
                    }
                    if (decodable) {
                        delivered++;
                        expectedOffers += introduction ? 1 : 0;
                    }
                }
                net.runFor(1 * SECOND);
                RendezvousClientStats stats = bob.client().stats();
                String context = " (seed " + seed + ", " + stats + ")";
                assertEquals(delivered, stats.introductionsReceived() + stats.candidatesReceived(),
                    "every decodable request was delivered" + context);
                assertEquals(expectedOffers, bob.listener().introductions.stream().filter(x -> x.relay() != null).count(),
                    "every delivered introduction has its offer" + context);
                assertEquals(DATAGRAMS_PER_SEED / 4 - delivered, stats.invalidIntroductions(),
                    "every other one was refused and counted" + context);
                assertTrue(stats.invalidIntroductions() > 0 && delivered > 0, "both outcomes happened" + context);
            }
        }
    }

    @Test
    void relayOfferDecodingNeverThrowsAndRejectsEveryTruncation() {
        SplittableRandom random = new SplittableRandom(0xE10EL);
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = random.nextBoolean() ? randomBytes(random, random.nextInt(80))
                : mangle(random, validRelayOffer(random));
            RelayOffer offer = RendezvousAttributes.readRelayOffer(Unpooled.wrappedBuffer(bytes), 0, bytes.length);
            if (offer != null) {
                // RFC 8489 §14.1: the address's first byte is reserved, ignored on receipt, sent as 0.
                byte[] expected = bytes.clone();
                expected[0] = 0;
                assertArrayEquals(expected, RendezvousAttributes.relayOffer(offer),
                    "an accepted value re-encodes to the same bytes (case " + i + ")");
            }
        }
        byte[] valid = validRelayOffer(random);
        for (int length = 0; length < valid.length; length++) {
            assertNull(RendezvousAttributes.readRelayOffer(Unpooled.wrappedBuffer(valid), 0, length),
                "a truncation to " + length + " of " + valid.length + " bytes is malformed");
        }
    }

    private static byte[] flipBits(SplittableRandom random, byte[] message) {
        byte[] flipped = message.clone();
        int flips = 1 + random.nextInt(4);
        for (int i = 0; i < flips && flipped.length > 0; i++) {
            int at = random.nextInt(flipped.length);
            flipped[at] ^= (byte) (1 << random.nextInt(8));
        }
        return flipped;
    }

    private static byte[] randomBytes(SplittableRandom random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }
}
