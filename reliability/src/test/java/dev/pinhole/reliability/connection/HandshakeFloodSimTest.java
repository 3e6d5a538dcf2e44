package dev.pinhole.reliability.connection;

import static dev.pinhole.reliability.connection.SimTransfer.MS;
import static dev.pinhole.reliability.connection.SimTransfer.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.noise.NoiseKeyPair;
import dev.pinhole.reliability.wire.Frames;
import dev.pinhole.reliability.wire.PacketHeader;
import dev.pinhole.reliability.wire.TransportParameters;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.SimEndpoint;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * An INITIAL flood, each of which would cost the server the Noise work of a reply, while a transfer runs: the
 * server answers at most {@code handshakeRepliesPerSecond} of them, drops and counts the rest, and the
 * transfer it already carries completes exactly.
 */
class HandshakeFloodSimTest {
    @Test
    void aFloodOfInitialsIsThrottledAndTheRunningTransferCompletes() {
        byte[] up = new byte[2_000_000];
        new SplittableRandom(11).nextBytes(up);
        // 8 Mbit/s: the 2 MB take about 2 s, during which the flood runs.
        LinkConfig link = LinkConfig.builder().delay(10 * MS).bandwidth(8_000_000).build();
        TransportConfig config = TransportConfig.builder().handshakeRepliesPerSecond(200).build();
        try (SimTransfer t = new SimTransfer(11, config, link, link, up, new byte[0], 65_536, 65_536, 0)) {
            t.start();
            SimEndpoint attacker = t.sim.internet().addHost("192.0.2.99").bind(6000);
            byte[] initial = genuineInitial(t);
            // 20,000 INITIALs in 2 s, starting once the transfer runs.
            for (int i = 0; i < 20_000; i++) {
                t.sim.schedule(200 * MS + i * 100_000L,
                        () -> attacker.send(Unpooled.wrappedBuffer(initial), t.serverAddress()));
            }
            assertTrue(t.runToCompletion(600 * SECOND), "the transfer ends; client " + t.clientSide + "; server "
                    + t.serverSide);
            assertTrue(t.sim.nowNs() > 2200 * MS, "the transfer outlasted the flood: ended at " + t.sim.nowNs() / MS
                    + " ms");
            assertTrue(t.serverSide.receivedExactly(up), "the server read every byte exactly: " + t.serverSide);
            assertTrue(t.serverSide.closeReason.graceful(), "and closed gracefully: " + t.serverSide.closeReason);
            TransportEndpoint.Counters c = t.server.counters();
            assertTrue(c.initialsAnswered() <= 200 * 3 + 200, "at most 200/s answered over the flood's 2 s (plus the"
                    + " burst): " + c.initialsAnswered());
            assertEquals(20_001, c.initialsAnswered() + c.initialsThrottled(), "the client's INITIAL and every flood"
                    + " INITIAL counted: "
                    + c.initialsAnswered() + " answered, " + c.initialsThrottled() + " throttled");
            assertTrue(c.initialsThrottled() >= 20_000 - 800, "the rest throttled: " + c.initialsThrottled());
        }
    }

    /** One well-formed INITIAL (XX, a real first Noise message), replayed as the flood. */
    private static byte[] genuineInitial(SimTransfer t) {
        TransportParameters params = new TransportParameters(1200, 1 << 20, 30_000, 25);
        ClientHandshake handshake = new ClientHandshake(
                NoiseKeyPair.generate(HandshakeProtocol.secureRandom(t.sim.random("flood key"))), null, 99, params,
                HandshakeProtocol.secureRandom(t.sim.random("flood")));
        ByteBuf packet = Unpooled.buffer(1200);
        PacketHeader.write(packet, PacketHeader.TYPE_INITIAL, 0, 0);
        Frames.writeHello(packet, 99, params, handshake.pattern(), handshake.firstMessage());
        Frames.writePadding(packet, 1200 - packet.writerIndex());
        return ByteBufUtil.getBytes(packet);
    }
}
