package dev.pinhole.punch.relay;

import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.protocol.stun.TransactionId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;

/** Builds TURN Data indications (RFC 8656 §11.4) as a server sends them, for tests. */
final class DataIndications {
    static final int MESSAGE_TYPE = StunMessageType.of(StunMessageType.METHOD_DATA, StunClass.INDICATION);

    private DataIndications() {
    }

    /** A Data indication from {@code peer} carrying {@code data}, with FINGERPRINT as coturn sends it. */
    static byte[] encode(InetSocketAddress peer, byte[] data) {
        ByteBuf out = Unpooled.buffer();
        new StunWriter().begin(out, MESSAGE_TYPE, new TransactionId(0x0102030405060708L, 0x090A0B0C))
            .addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer)
            .addBytes(StunAttributeType.DATA, data)
            .addFingerprint()
            .finish();
        return ByteBufUtil.getBytes(out);
    }
}
