package dev.pinhole.protocol.turn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunHeader;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The one-pass Send indication encoder produces exactly what the general STUN writer does. */
class TurnIndicationTest {
    private static final long SEED = 0x5E4DL;

    @Test
    void encodesTheSameBytesAsTheStunWriterForIpv4AndIpv6Peers() throws Exception {
        SplittableRandom random = new SplittableRandom(SEED);
        InetAddress[] ips = {InetAddress.getByName("203.0.113.7"), InetAddress.getByName("2001:db8::1:2"),
            InetAddress.getByName("255.255.255.255"), InetAddress.getByName("::ffff:0:1")};
        StunWriter writer = new StunWriter();
        for (int i = 0; i < 2_000; i++) {
            InetSocketAddress peer = new InetSocketAddress(ips[random.nextInt(ips.length)], random.nextInt(65_536));
            byte[] data = new byte[random.nextInt(40)];
            random.nextBytes(data);
            long high = random.nextLong();
            int low = random.nextInt();

            ByteBuf ours = TurnIndication.encode(UnpooledByteBufAllocator.DEFAULT, high, low,
                peer.getAddress().getAddress(), peer.getPort(), Unpooled.wrappedBuffer(data));
            ByteBuf reference = Unpooled.buffer();
            writer.begin(reference, TurnIndication.MESSAGE_TYPE, high, low)
                .addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer)
                .addBytes(StunAttributeType.DATA, data)
                .finish();

            assertArrayEquals(ByteBufUtil.getBytes(reference), ByteBufUtil.getBytes(ours),
                "Send indication to " + peer + " with " + data.length + " bytes (seed " + SEED + ", case " + i + ")");
            assertEquals(TurnIndication.encodedLength(peer.getAddress().getAddress().length, data.length),
                ours.readableBytes(), "encodedLength");
            ours.release();
        }
    }

    @Test
    void theReaderSeesASendIndicationWithPeerAndData() throws Exception {
        InetSocketAddress peer = new InetSocketAddress(InetAddress.getByName("198.51.100.3"), 40_000);
        ByteBuf message = TurnIndication.encode(UnpooledByteBufAllocator.DEFAULT, 1, 2, peer.getAddress().getAddress(),
            peer.getPort(), Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));

        StunReader reader = new StunReader();
        assertEquals(StunParseResult.OK, reader.wrap(message), "valid STUN");
        assertEquals(StunMessageType.METHOD_SEND, reader.method(), "Send");
        assertEquals(StunClass.INDICATION, reader.messageClass(), "indication");
        assertEquals(peer, reader.findAddress(StunAttributeType.XOR_PEER_ADDRESS), "XOR-PEER-ADDRESS");
        assertArrayEquals(new byte[] {1, 2, 3}, ByteBufUtil.getBytes(reader.attributeValue(
            reader.findAttribute(StunAttributeType.DATA))), "DATA");
        assertEquals(TurnIndication.IPV4_OVERHEAD + 4, message.readableBytes(), "36 bytes of overhead, 3 + 1 padding");
        message.release();
    }

    @Test
    void theLargestDataStillFitsTheMessageLengthField() {
        for (int ipLength : new int[] {4, 16}) {
            int max = TurnIndication.maxDataLength(ipLength);
            int total = TurnIndication.encodedLength(ipLength, max);
            assertTrue(total - StunHeader.HEADER_LENGTH <= StunHeader.MAX_MESSAGE_LENGTH_FIELD,
                "with a " + ipLength + "-byte address, " + max + " bytes of data make a " + total + "-byte message");
        }
    }
}
