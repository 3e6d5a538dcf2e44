package dev.pinhole.reliability.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class TransportParametersTest {

    private static ByteBuf block(long... idValuePairs) {
        ByteBuf body = Unpooled.buffer();
        for (long v : idValuePairs) {
            VarInt.write(body, v);
        }
        ByteBuf out = Unpooled.buffer();
        VarInt.write(out, body.readableBytes());
        out.writeBytes(body);
        return out;
    }

    @Test
    void roundTripsAndReportsItsLength() {
        TransportParameters params = new TransportParameters(1452, 4L << 20, 15_000, 10);
        ByteBuf out = Unpooled.buffer();
        params.write(out);
        assertEquals(params.encodedLength(), out.readableBytes(), "encoded length");
        assertEquals(params, TransportParameters.read(out));
        assertEquals(0, out.readableBytes(), "read consumes the block");
    }

    @Test
    void skipsUnknownIdsAndDefaultsMissingOnes() {
        ByteBuf in = block(0x99, 123_456, TransportParameters.INITIAL_MAX_DATA_ID, 5000, 0x3F, 0);
        TransportParameters params = TransportParameters.read(in);
        assertEquals(new TransportParameters(TransportParameters.DEFAULT_DATAGRAM_SIZE, 5000,
                TransportParameters.DEFAULT_IDLE_TIMEOUT_MS, TransportParameters.DEFAULT_MAX_ACK_DELAY_MS), params);
    }

    @Test
    void emptyBlockMeansAllDefaults() {
        assertEquals(TransportParameters.DEFAULTS, TransportParameters.read(block()));
    }

    @Test
    void rejectsRepeatedParameters() {
        assertNull(TransportParameters.read(block(TransportParameters.IDLE_TIMEOUT_MS_ID, 1,
                TransportParameters.IDLE_TIMEOUT_MS_ID, 2)));
    }

    @Test
    void rejectsValuesOutOfRange() {
        assertNull(TransportParameters.read(block(TransportParameters.MAX_DATAGRAM_SIZE_ID, 1199)),
                "datagram size below 1200");
        assertNull(TransportParameters.read(block(TransportParameters.MAX_DATAGRAM_SIZE_ID, 65_528)),
                "datagram size above 65527");
        assertNull(TransportParameters.read(block(TransportParameters.MAX_ACK_DELAY_MS_ID, 1 << 14)),
                "max ack delay of 2^14 ms");
        assertThrows(IllegalArgumentException.class, () -> new TransportParameters(1000, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new TransportParameters(1200, -1, 0, 0));
    }

    @Test
    void rejectsTruncatedBlocksAndPairsCrossingTheBlockEnd() {
        ByteBuf full = Unpooled.buffer();
        TransportParameters.DEFAULTS.write(full);
        for (int cut = 0; cut < full.readableBytes(); cut++) {
            assertNull(TransportParameters.read(full.slice(0, cut)), "block cut to " + cut + " bytes");
        }
        // The length says 1, but the pair needs 2 bytes: the value would be read from beyond the block.
        ByteBuf crossing = Unpooled.buffer();
        VarInt.write(crossing, 1);
        VarInt.write(crossing, TransportParameters.IDLE_TIMEOUT_MS_ID);
        VarInt.write(crossing, 7);
        assertNull(TransportParameters.read(crossing));
    }
}
