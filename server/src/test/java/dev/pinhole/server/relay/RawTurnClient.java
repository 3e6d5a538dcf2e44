package dev.pinhole.server.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimFixture;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A hand-driven TURN client on a simulator socket, for what Pinhole's own client never does:
 * a second Allocate on one 5-tuple, another user's credentials, Send indications without a
 * permission, letting an allocation lapse. Messages are built with the production STUN codec;
 * answers are copied and parsed from heap buffers.
 */
final class RawTurnClient {
    static final int REQUESTED_TRANSPORT_UDP = 17 << 24;

    final TurnServerSim f;
    final SimEndpoint endpoint;
    final List<byte[]> received = new ArrayList<>();
    final StunWriter writer = new StunWriter();
    String realm;
    String nonce;
    private long nextId = 1;

    RawTurnClient(TurnServerSim f, SimEndpoint endpoint) {
        this.f = f;
        this.endpoint = endpoint;
        endpoint.receiver((datagram, sender) -> received.add(SimFixture.bytes(datagram)));
    }

    /** A request; with MESSAGE-INTEGRITY under {@code user}'s key when {@code user} is not null. */
    byte[] request(int method, long id, Consumer<StunWriter> attributes, String user, String password) {
        ByteBuf out = Unpooled.buffer();
        writer.begin(out, StunMessageType.of(method, StunClass.REQUEST), id, (int) id);
        attributes.accept(writer);
        if (user != null) {
            writer.addString(StunAttributeType.USERNAME, user)
                .addString(StunAttributeType.REALM, realm)
                .addString(StunAttributeType.NONCE, nonce)
                .addMessageIntegrity(StunKey.longTerm(user, realm, password));
        }
        writer.addFingerprint().finish();
        return SimFixture.bytes(out);
    }

    long newId() {
        return nextId++;
    }

    /** Sends {@code datagram} to the server and runs the simulation 1 s; returns the answer, parsed, or null. */
    StunReader exchange(byte[] datagram) {
        received.clear();
        endpoint.send(f.buffer(datagram), f.turnServer.address());
        f.sim.runFor(SimFixture.SECOND);
        if (received.isEmpty()) {
            return null;
        }
        assertEquals(1, received.size(), "one answer per request");
        StunReader reader = new StunReader();
        assertEquals(StunParseResult.OK, reader.wrap(Unpooled.wrappedBuffer(received.get(0))), "answer parses");
        return reader;
    }

    /** Gets a REALM and NONCE from a 401 to an unauthenticated Allocate. */
    void challenge() {
        StunReader answer = exchange(request(StunMessageType.METHOD_ALLOCATE, newId(),
            w -> w.addUInt32(StunAttributeType.REQUESTED_TRANSPORT, REQUESTED_TRANSPORT_UDP), null, null));
        assertEquals(401, answer.errorCode(), "challenge");
        realm = answer.findString(StunAttributeType.REALM);
        nonce = answer.findString(StunAttributeType.NONCE);
    }

    /** An authenticated Allocate with transaction {@code id}; returns the answer. */
    StunReader allocate(long id, String user, String password) {
        return exchange(request(StunMessageType.METHOD_ALLOCATE, id,
            w -> w.addUInt32(StunAttributeType.REQUESTED_TRANSPORT, REQUESTED_TRANSPORT_UDP), user, password));
    }

    /** The ERROR-CODE of an answer (0 for a success), requiring a success to authenticate under {@code user}. */
    static int code(StunReader answer, String user, String realm, String password) {
        if (answer.messageClass() == StunClass.SUCCESS_RESPONSE) {
            assertEquals(StunParseResult.OK, answer.verifyIntegrity(StunKey.longTerm(user, realm, password)),
                "a success answers with MESSAGE-INTEGRITY under the user's key");
            return 0;
        }
        assertFalse(answer.messageClass() == StunClass.REQUEST, "an answer");
        return answer.errorCode();
    }
}
