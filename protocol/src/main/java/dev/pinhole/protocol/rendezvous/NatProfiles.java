package dev.pinhole.protocol.rendezvous;

import dev.pinhole.protocol.nat.NatProfile;
import io.netty.buffer.ByteBuf;

/**
 * The NAT-PROFILE attribute value as Pinhole clients write it (the server stores and forwards it
 * without looking inside):
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Version (1)  |    Mapping    |   Filtering   | Port allocation|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   Port step (signed 32 bits)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * Codes are the positions in the tables below, fixed here so that adding a constant to an enum cannot
 * change the wire format. Anything a reader does not recognise (another version, an unknown code, an
 * inconsistent step) reads as {@link NatProfile#UNKNOWN}: the profile is advice, never a reason to fail.
 */
public final class NatProfiles {
    static final int VERSION = 1;
    static final int LENGTH = 8;

    private static final NatProfile.Mapping[] MAPPINGS = {
        NatProfile.Mapping.UNKNOWN, NatProfile.Mapping.NO_NAT, NatProfile.Mapping.ENDPOINT_INDEPENDENT,
        NatProfile.Mapping.ADDRESS_DEPENDENT, NatProfile.Mapping.ADDRESS_AND_PORT_DEPENDENT};
    private static final NatProfile.Filtering[] FILTERINGS = {
        NatProfile.Filtering.UNKNOWN, NatProfile.Filtering.ENDPOINT_INDEPENDENT,
        NatProfile.Filtering.ADDRESS_DEPENDENT, NatProfile.Filtering.ADDRESS_AND_PORT_DEPENDENT};
    private static final NatProfile.PortAllocation[] ALLOCATIONS = {
        NatProfile.PortAllocation.UNKNOWN, NatProfile.PortAllocation.PRESERVING,
        NatProfile.PortAllocation.SEQUENTIAL, NatProfile.PortAllocation.RANDOM};

    private NatProfiles() {
    }

    public static byte[] encode(NatProfile profile) {
        byte[] value = new byte[LENGTH];
        value[0] = VERSION;
        value[1] = (byte) indexOf(MAPPINGS, profile.mapping());
        value[2] = (byte) indexOf(FILTERINGS, profile.filtering());
        value[3] = (byte) indexOf(ALLOCATIONS, profile.portAllocation());
        RendezvousAttributes.writeInt(value, 4, profile.portStep());
        return value;
    }

    public static NatProfile decode(ByteBuf buf, int index, int length) {
        if (length != LENGTH || buf.getUnsignedByte(index) != VERSION) {
            return NatProfile.UNKNOWN;
        }
        int mapping = buf.getUnsignedByte(index + 1);
        int filtering = buf.getUnsignedByte(index + 2);
        int allocation = buf.getUnsignedByte(index + 3);
        int step = buf.getInt(index + 4);
        if (mapping >= MAPPINGS.length || filtering >= FILTERINGS.length || allocation >= ALLOCATIONS.length
            || Math.abs((long) step) > 65_535
            || (step != 0 && ALLOCATIONS[allocation] != NatProfile.PortAllocation.SEQUENTIAL)) {
            return NatProfile.UNKNOWN;
        }
        return new NatProfile(MAPPINGS[mapping], FILTERINGS[filtering], ALLOCATIONS[allocation], step);
    }

    private static <T> int indexOf(T[] table, T value) {
        for (int i = 0; i < table.length; i++) {
            if (table[i] == value) {
                return i;
            }
        }
        throw new IllegalArgumentException("no wire code for " + value);
    }
}
