package dev.pinhole.protocol.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.SimFixture;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class CandidateTest {

    @Test
    void priorityFollowsTheRfc8445Formula() {
        // RFC 8445 §5.1.2.1: 2^24 * type preference + 2^8 * local preference + (256 - component ID).
        assertEquals(126L * (1 << 24) + 65_535L * 256 + 255, Candidate.priority(CandidateType.HOST, 65_535, 1),
                "host, full local preference, component 1");
        assertEquals(2_130_706_431L, Candidate.priority(CandidateType.HOST, 65_535, 1),
                "the well-known value of the best host candidate");
        assertEquals(1_694_498_815L, Candidate.priority(CandidateType.SERVER_REFLEXIVE, 65_535, 1),
                "server-reflexive, full local preference");
        assertEquals(110L * (1 << 24) + 10L * 256 + 254, Candidate.priority(CandidateType.PEER_REFLEXIVE, 10, 2),
                "peer-reflexive, local preference 10, component 2");
        assertEquals(255, Candidate.priority(CandidateType.RELAYED, 0, 1), "relayed, lowest local preference");
    }

    @Test
    void typePreferencesAreTheRecommendedValues() {
        assertEquals(126, CandidateType.HOST.typePreference());
        assertEquals(110, CandidateType.PEER_REFLEXIVE.typePreference());
        assertEquals(100, CandidateType.SERVER_REFLEXIVE.typePreference());
        assertEquals(0, CandidateType.RELAYED.typePreference());
    }

    @Test
    void priorityRejectsOutOfRangeInputs() {
        assertThrows(IllegalArgumentException.class, () -> Candidate.priority(CandidateType.HOST, 65_536, 1));
        assertThrows(IllegalArgumentException.class, () -> Candidate.priority(CandidateType.HOST, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> Candidate.priority(CandidateType.HOST, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Candidate.priority(CandidateType.HOST, 1, 257));
    }

    @Test
    void candidateRejectsUnresolvedAddressesAndZeroPriority() {
        InetSocketAddress unresolved = InetSocketAddress.createUnresolved("example.invalid", 1);
        assertThrows(IllegalArgumentException.class, () -> Candidate.of(CandidateType.HOST, unresolved));
        InetSocketAddress a = SimFixture.address("10.0.0.1", 1);
        assertThrows(IllegalArgumentException.class, () -> new Candidate(CandidateType.HOST, a, 0, a));
    }

    @Test
    void onlyCandidatesOfOneAddressFamilyPairUp() {
        Candidate v4 = Candidate.of(CandidateType.HOST, SimFixture.address("10.0.0.1", 1));
        Candidate v4b = Candidate.of(CandidateType.HOST, SimFixture.address("192.0.2.1", 2));
        Candidate v6 = Candidate.of(CandidateType.HOST, SimFixture.address("2001:db8::1", 1));
        assertTrue(v4.sameFamilyAs(v4b));
        assertFalse(v4.sameFamilyAs(v6));
    }
}
