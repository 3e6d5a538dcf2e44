package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.wire.PacketHeader;
import dev.pinhole.sim.Simulator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.random.RandomGenerator;

/**
 * An attacker on the path of a {@link SimTransfer}: it sees every datagram either side receives and, for a
 * share of them, injects into the receiving endpoint, a little later, one of
 * <ul>
 *   <li>a replay of the genuine datagram from the genuine source (a spoofed source address);</li>
 *   <li>the same replay from a third address (which must not move the connection there);</li>
 *   <li>a copy with one random bit flipped, from the genuine source;</li>
 *   <li>a copy truncated to a random length, from the genuine source;</li>
 *   <li>random bytes behind a valid header with the sniffed connection id and packet type.</li>
 * </ul>
 * Seeded from the simulation; the injected datagrams are counted per kind.
 */
final class Adversary {
    static final InetSocketAddress THIRD_PARTY = new InetSocketAddress("192.0.2.66", 40_000);
    private static final long MAX_DELAY_NS = 30_000_000L;

    private final Simulator sim;
    private final RandomGenerator random;
    private final double share;
    long replayedSpoofed;
    long replayedFromThirdParty;
    long bitFlipped;
    long truncated;
    long forged;

    /** @param share the fraction of observed datagrams that are attacked, 0..1 */
    Adversary(Simulator sim, RandomGenerator random, double share) {
        this.sim = sim;
        this.random = random;
        this.share = share;
    }

    /** Called with each datagram before {@code target} receives it from {@code from}. */
    void observe(ByteBuf datagram, InetSocketAddress from, TransportEndpoint target) {
        if (random.nextDouble() >= share || !PacketHeader.isValid(datagram)) {
            return;
        }
        byte[] bytes = ByteBufUtil.getBytes(datagram);
        InetSocketAddress source = from;
        switch (random.nextInt(5)) {
            case 0 -> replayedSpoofed++;
            case 1 -> {
                source = THIRD_PARTY;
                replayedFromThirdParty++;
            }
            case 2 -> {
                int bit = random.nextInt(bytes.length * 8);
                bytes[bit / 8] ^= (byte) (1 << (bit % 8));
                bitFlipped++;
            }
            case 3 -> {
                bytes = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length));
                truncated++;
            }
            default -> {
                byte[] garbage = new byte[PacketHeader.HEADER_LENGTH + random.nextInt(1200)];
                random.nextBytes(garbage);
                System.arraycopy(bytes, 0, garbage, 0, PacketHeader.HEADER_LENGTH);
                bytes = garbage;
                forged++;
            }
        }
        byte[] injected = bytes;
        InetSocketAddress sender = source;
        sim.scheduleAfter(random.nextLong(MAX_DELAY_NS),
                () -> target.onDatagram(Unpooled.wrappedBuffer(injected), sender));
    }

    long injected() {
        return replayedSpoofed + replayedFromThirdParty + bitFlipped + truncated + forged;
    }

    @Override
    public String toString() {
        return "Adversary{replayed " + replayedSpoofed + " spoofed + " + replayedFromThirdParty
                + " from a third address, " + bitFlipped + " bit-flipped, " + truncated + " truncated, " + forged
                + " forged}";
    }
}
