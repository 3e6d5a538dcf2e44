package dev.pinhole.protocol.rendezvous;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.protocol.rendezvous.RendezvousAttributes.WireCandidate;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.nat.NatProfile;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The small parts: names, attribute and NAT profile codecs, method numbers. */
class RendezvousPartsTest {
    @Test
    void peerNamesAreBoundedNormalisedAndFreeOfWhitespaceAndControls() {
        assertEquals("Zo\u00eb", PeerNames.normalize("Zoe\u0308"), "NFC");
        assertNull(PeerNames.problem("\u5f20\u4f1f"), "any script");
        assertNull(PeerNames.problem("a".repeat(64)), "64 bytes");
        assertNotNull(PeerNames.problem("a".repeat(65)), "65 bytes");
        assertNotNull(PeerNames.problem("\u00e9".repeat(33)), "66 bytes of UTF-8 in 33 characters");
        assertNotNull(PeerNames.problem("a b"), "space");
        assertNotNull(PeerNames.problem("a\u00a0b"), "no-break space");
        assertNotNull(PeerNames.problem("a\tb"), "tab");
        assertNotNull(PeerNames.problem("a\u200bb"), "zero-width space (format)");
        assertNotNull(PeerNames.problem("a\u0000"), "NUL");
        assertNotNull(PeerNames.problem("Zoe\u0308"), "not NFC");
        assertNotNull(PeerNames.problem(""), "empty");
        assertThrows(IllegalArgumentException.class, () -> PeerNames.normalize("bob smith"));
        byte[] malformed = {'b', (byte) 0xC3, 0x28};
        assertNull(PeerNames.decode(malformed, 0, malformed.length), "invalid UTF-8 is not a name");
        byte[] ok = "b\u00f6b".getBytes(StandardCharsets.UTF_8);
        assertEquals("b\u00f6b", PeerNames.decode(ok, 0, ok.length), "valid UTF-8 is");
    }

    @Test
    void candidateAttributesRoundTripForIpv4AndIpv6() throws Exception {
        for (String ip : new String[] {"10.0.0.2", "2001:db8::17"}) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(ip), 4000);
            byte[] value = new byte[RendezvousAttributes.MAX_HOST_CANDIDATE_BYTES];
            int length = RendezvousAttributes.writeHostCandidate(value, 0, 0x7EFFFFFFL, address);
            ByteBuf buf = Unpooled.wrappedBuffer(value, 0, length);
            assertTrue(RendezvousAttributes.isHostCandidate(buf, 0, length), ip + " is well formed");
            WireCandidate host = RendezvousAttributes.readHostCandidate(buf, 0, length);
            assertEquals(new WireCandidate(RendezvousProtocol.CANDIDATE_HOST, 0x7EFFFFFFL, address), host, ip);
            assertFalse(value[6] == address.getAddress().getAddress()[0] && value[7] == address.getAddress().getAddress()[1],
                "the address is XOR-ed, not in the clear");

            byte[] peer = new byte[4 + length];
            peer[0] = (byte) RendezvousProtocol.CANDIDATE_SERVER_REFLEXIVE;
            System.arraycopy(value, 0, peer, 4, length);
            assertEquals(new WireCandidate(RendezvousProtocol.CANDIDATE_SERVER_REFLEXIVE, 0x7EFFFFFFL, address),
                RendezvousAttributes.readPeerCandidate(Unpooled.wrappedBuffer(peer), 0, peer.length), ip);
            assertNull(RendezvousAttributes.readPeerCandidate(Unpooled.wrappedBuffer(peer), 0, peer.length - 1),
                "a truncated one is refused");
        }
        byte[] zeroPort = new byte[12];
        RendezvousAttributes.writeHostCandidate(zeroPort, 0, 1, new InetSocketAddress(InetAddress.getByName("10.0.0.1"), 0));
        assertFalse(RendezvousAttributes.isHostCandidate(Unpooled.wrappedBuffer(zeroPort), 0, 12), "port 0 is refused");
    }

    @Test
    void natProfilesRoundTripAndUnknownCodesReadAsUnknown() {
        NatProfile sequential = new NatProfile(NatProfile.Mapping.ADDRESS_AND_PORT_DEPENDENT,
            NatProfile.Filtering.ADDRESS_AND_PORT_DEPENDENT, NatProfile.PortAllocation.SEQUENTIAL, -2);
        for (NatProfile profile : new NatProfile[] {NatProfile.UNKNOWN, NatProfile.NO_NAT, sequential}) {
            byte[] value = NatProfiles.encode(profile);
            assertEquals(profile, NatProfiles.decode(Unpooled.wrappedBuffer(value), 0, value.length), "round trip");
        }
        byte[] future = NatProfiles.encode(sequential);
        future[0] = 2;
        assertEquals(NatProfile.UNKNOWN, NatProfiles.decode(Unpooled.wrappedBuffer(future), 0, 8), "another version");
        byte[] badCode = NatProfiles.encode(sequential);
        badCode[1] = 99;
        assertEquals(NatProfile.UNKNOWN, NatProfiles.decode(Unpooled.wrappedBuffer(badCode), 0, 8), "unknown mapping");
        byte[] inconsistent = NatProfiles.encode(NatProfile.NO_NAT);
        inconsistent[7] = 5;
        assertEquals(NatProfile.UNKNOWN, NatProfiles.decode(Unpooled.wrappedBuffer(inconsistent), 0, 8),
            "a step without sequential allocation");
        assertArrayEquals(new byte[] {1, 4, 3, 2, -1, -1, -1, -2}, NatProfiles.encode(sequential), "documented layout");
    }

    @Test
    void everyMethodKeepsTheFirstByteOfItsMessagesInTheStunRange() {
        int[] methods = {RendezvousProtocol.METHOD_REGISTER, RendezvousProtocol.METHOD_LIST_PEERS,
            RendezvousProtocol.METHOD_CONNECT, RendezvousProtocol.METHOD_INTRODUCTION, RendezvousProtocol.METHOD_MESSAGE};
        for (int method : methods) {
            assertTrue(method >= 0x081 && method <= 0x0FF, "RFC 8489 §18.2 expert-review range, unassigned above 0x080");
            for (StunClass messageClass : StunClass.values()) {
                int firstByte = StunMessageType.of(method, messageClass) >>> 8;
                assertTrue(firstByte <= 3, RendezvousProtocol.methodName(method) + " " + messageClass
                    + " starts with byte " + firstByte + ", outside RFC 7983's 0-3");
            }
        }
    }
}
