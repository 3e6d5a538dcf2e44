package dev.pinhole.protocol.nat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.protocol.nat.NatProfile.Filtering;
import dev.pinhole.protocol.nat.NatProfile.Mapping;
import dev.pinhole.protocol.nat.NatProfile.PortAllocation;
import dev.pinhole.sim.SimFixture;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class NatProfileTest {
    private static final InetSocketAddress SERVER = SimFixture.address("198.51.100.1", 3478);
    private static final InetSocketAddress LOCAL = SimFixture.address("10.0.0.2", 4000);
    private static final InetSocketAddress MAPPED = SimFixture.address("203.0.113.1", 4000);

    @Test
    void onlyEndpointDependentSequentialMappingWithAStepIsPredictable() {
        NatProfile symmetricSequential = new NatProfile(Mapping.ADDRESS_AND_PORT_DEPENDENT,
                Filtering.ADDRESS_AND_PORT_DEPENDENT, PortAllocation.SEQUENTIAL, 2);
        assertTrue(symmetricSequential.predictable());
        assertTrue(symmetricSequential.endpointDependentMapping());
        assertFalse(symmetricSequential.withPortAllocation(PortAllocation.RANDOM, 0).predictable());
        assertFalse(symmetricSequential.withMapping(Mapping.ENDPOINT_INDEPENDENT).predictable());
        assertFalse(NatProfile.NO_NAT.endpointDependentMapping());
        assertFalse(NatProfile.UNKNOWN.predictable());
    }

    @Test
    void aStepIsMeaningfulOnlyForSequentialAllocation() {
        assertThrows(IllegalArgumentException.class,
                () -> new NatProfile(Mapping.ADDRESS_DEPENDENT, Filtering.UNKNOWN, PortAllocation.RANDOM, 3));
    }

    @Test
    void convertsRfc5780DiscoveryResults() {
        NatBehavior behavior = new NatBehavior(SERVER, LOCAL, false, MAPPED, true,
                NatMapping.ADDRESS_AND_PORT_DEPENDENT, NatFiltering.ADDRESS_DEPENDENT, Hairpinning.UNKNOWN, null, 0);
        NatProfile profile = NatProfile.from(behavior);
        assertEquals(Mapping.ADDRESS_AND_PORT_DEPENDENT, profile.mapping());
        assertEquals(Filtering.ADDRESS_DEPENDENT, profile.filtering());
        assertEquals(PortAllocation.UNKNOWN, profile.portAllocation(), "RFC 5780 does not measure allocation");

        NatBehavior noNat = new NatBehavior(SERVER, LOCAL, false, LOCAL, false, NatMapping.ENDPOINT_INDEPENDENT,
                NatFiltering.ENDPOINT_INDEPENDENT, Hairpinning.UNKNOWN, null, 0);
        assertEquals(NatProfile.NO_NAT, NatProfile.from(noNat));

        NatBehavior blocked = new NatBehavior(SERVER, LOCAL, true, null, false, NatMapping.UNKNOWN,
                NatFiltering.UNKNOWN, Hairpinning.UNKNOWN, null, 0);
        assertEquals(NatProfile.UNKNOWN, NatProfile.from(blocked));
    }

    @Test
    void describeNamesTheBehaviours() {
        NatProfile p = new NatProfile(Mapping.ADDRESS_DEPENDENT, Filtering.ADDRESS_AND_PORT_DEPENDENT,
                PortAllocation.SEQUENTIAL, 1);
        assertEquals("mapping ADDRESS_DEPENDENT, filtering ADDRESS_AND_PORT_DEPENDENT, ports SEQUENTIAL (step 1)",
                p.describe());
        assertEquals("no NAT", NatProfile.NO_NAT.describe());
    }
}
