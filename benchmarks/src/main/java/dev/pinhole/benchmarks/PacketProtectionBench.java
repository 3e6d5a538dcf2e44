package dev.pinhole.benchmarks;

import dev.pinhole.reliability.crypto.PacketOpener;
import dev.pinhole.reliability.crypto.PacketProtection;
import dev.pinhole.reliability.crypto.PacketSealer;
import dev.pinhole.reliability.wire.PacketHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.security.GeneralSecurityException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of packet protection (dev.pinhole.reliability.crypto, RFC 9001 §5 with AES-256-GCM) on a
 * 1200-byte packet: 13-byte header, 1171 bytes of payload, 16-byte tag.
 *
 * <ul>
 *   <li>{@code sealOpen}: seal then open the same packet in place, one packet number per operation, the
 *       round trip a packet costs its two ends; opening restores the plaintext, so nothing is copied.</li>
 *   <li>{@code seal}: seal alone (the payload is whatever the buffer holds, ciphertext from the last round).</li>
 *   <li>{@code open}: copy a sealed packet into the buffer and open it; the 1200-byte copy is part of the
 *       figure.</li>
 *   <li>{@code openForged}: the same with one bit of the tag flipped: what a flood of forged packets costs
 *       the receiver (the JCE reports the failure with an exception).</li>
 *   <li>{@code jceEncryptDecrypt}: the same AES-256-GCM encryption and decryption straight through the JCE,
 *       without header protection, key phase or buffers: the floor under {@code sealOpen}.</li>
 * </ul>
 * The sealer updates its keys every {@link PacketProtection#KEY_UPDATE_THRESHOLD} packets, as the transport
 * will. Gbit/s = ops/s × 1200 × 8 / 10^9. Run with {@code -prof gc} for the allocation per operation.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Thread)
public class PacketProtectionBench {
    private static final int PACKET = 1200;
    private static final int HEADER = PacketHeader.HEADER_LENGTH;
    private static final int PAYLOAD = PACKET - HEADER - PacketProtection.TAG_LENGTH;

    /** Where the packet lives: a pooled heap buffer (processed in its array) or a pooled direct one (copied). */
    @Param({"heap", "direct"})
    public String buffer;

    private PacketSealer sealer;
    private PacketOpener opener;
    private ByteBuf packet;
    private long packetNumber;
    private byte[] sealedCopy;
    private byte[] forgedCopy;
    private long sealedNumber;

    private Cipher jce;
    private SecretKeySpec jceKey;
    private final byte[] jceNonce = new byte[12];
    private final byte[] jceBuffer = new byte[PACKET];

    @Setup(Level.Trial)
    public void setUp() throws GeneralSecurityException {
        final SplittableRandom random = new SplittableRandom(42);
        final byte[] secret = new byte[PacketProtection.SECRET_LENGTH];
        random.nextBytes(secret);
        sealer = PacketProtection.sealer(secret);
        opener = PacketProtection.opener(secret);
        packet = "direct".equals(buffer) ? PooledByteBufAllocator.DEFAULT.directBuffer(PACKET)
                : PooledByteBufAllocator.DEFAULT.heapBuffer(PACKET);
        final byte[] payload = new byte[PAYLOAD];
        random.nextBytes(payload);
        PacketHeader.write(packet, PacketHeader.TYPE_SHORT, 0x0102030405060708L, 0);
        packet.writeBytes(payload);

        // One sealed packet for open(), from a sealer of its own so that the measured one's numbers stay fresh.
        final ByteBuf sealed = PooledByteBufAllocator.DEFAULT.heapBuffer(PACKET);
        PacketHeader.write(sealed, PacketHeader.TYPE_SHORT, 0x0102030405060708L, 1L << 40);
        sealed.writeBytes(payload);
        PacketProtection.sealer(secret).seal(sealed, HEADER, 1L << 40);
        sealedCopy = new byte[sealed.readableBytes()];
        sealed.readBytes(sealedCopy);
        sealed.release();
        sealedNumber = 1L << 40;
        forgedCopy = sealedCopy.clone();
        forgedCopy[forgedCopy.length - 1] ^= 1;

        jce = Cipher.getInstance("AES/GCM/NoPadding");
        final byte[] key = new byte[32];
        random.nextBytes(key);
        jceKey = new SecretKeySpec(key, "AES");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        packet.release();
    }

    @Benchmark
    public int sealOpen() {
        final long pn = packetNumber++;
        packet.setInt(packet.readerIndex() + PacketHeader.PACKET_NUMBER_OFFSET, (int) pn);
        updateKeysWhenDue();
        sealer.seal(packet, HEADER, pn);
        final int opened = opener.open(packet, HEADER, pn - 1);
        if (opened != PAYLOAD) {
            throw new IllegalStateException("packet " + pn + " did not open: " + PacketProtection.resultName(opened));
        }
        return opened;
    }

    @Benchmark
    public int seal() {
        final long pn = packetNumber++;
        packet.writerIndex(packet.readerIndex() + HEADER + PAYLOAD);
        packet.setInt(packet.readerIndex() + PacketHeader.PACKET_NUMBER_OFFSET, (int) pn);
        updateKeysWhenDue();
        return sealer.seal(packet, HEADER, pn);
    }

    /**
     * A run seals millions of packets, past {@link PacketProtection#KEY_UPDATE_THRESHOLD}: update as the
     * transport will (the opener follows on the next packet), so no packet meets the confidentiality limit.
     */
    private void updateKeysWhenDue() {
        if (sealer.needsKeyUpdate()) {
            sealer.updateKeys();
        }
    }

    @Benchmark
    public int open() {
        packet.clear().writeBytes(sealedCopy);
        final int opened = opener.open(packet, HEADER, sealedNumber - 1);
        if (opened != PAYLOAD) {
            throw new IllegalStateException("did not open: " + PacketProtection.resultName(opened));
        }
        return opened;
    }

    @Benchmark
    public int openForged() {
        packet.clear().writeBytes(forgedCopy);
        final int result = opener.open(packet, HEADER, sealedNumber - 1);
        if (result != PacketProtection.OPEN_AUTHENTICATION_FAILED) {
            throw new IllegalStateException("a forged packet gave " + PacketProtection.resultName(result));
        }
        return result;
    }

    @Benchmark
    public int jceEncryptDecrypt() throws GeneralSecurityException {
        final long pn = packetNumber++;
        for (int i = 0; i < 8; i++) {
            jceNonce[4 + i] = (byte) (pn >>> (56 - 8 * i));
        }
        jce.init(Cipher.ENCRYPT_MODE, jceKey, new GCMParameterSpec(128, jceNonce));
        jce.updateAAD(jceBuffer, 0, HEADER);
        final int sealed = jce.doFinal(jceBuffer, HEADER, PAYLOAD, jceBuffer, HEADER);
        jce.init(Cipher.DECRYPT_MODE, jceKey, new GCMParameterSpec(128, jceNonce));
        jce.updateAAD(jceBuffer, 0, HEADER);
        return jce.doFinal(jceBuffer, HEADER, sealed, jceBuffer, HEADER);
    }
}
