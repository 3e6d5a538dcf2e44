package dev.pinhole.punch.traversal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CandidatePairTest {
    @Test
    void pairPriorityFollowsTheRfc8445Formula() {
        long g = 2_130_706_431L;
        long d = 1_694_498_815L;
        // RFC 8445 §6.1.2.3: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0).
        assertEquals((d << 32) + 2 * g + 1, CandidatePair.pairPriority(g, d));
        assertEquals((d << 32) + 2 * g, CandidatePair.pairPriority(d, g),
                "swapping roles drops only the last bit");
    }
}
