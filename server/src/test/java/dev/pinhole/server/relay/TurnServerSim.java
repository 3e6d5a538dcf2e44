package dev.pinhole.server.relay;

import dev.pinhole.server.RelayCounter;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimFixture;
import dev.pinhole.sim.SimHost;
import io.netty.buffer.ByteBuf;
import java.util.Map;

/**
 * The server tests' layer on {@link SimFixture}: a {@link TurnServer} on the simulator's public internet
 * (198.51.100.1:3478, relay sockets on ephemeral ports of the same host) that knows {@link #USER} and
 * {@link #USER_2}, for clients driven by hand ({@link RawTurnClient}). Every link has a fixed 10 ms delay.
 * {@link #close()} closes the server, then checks as {@link SimFixture} does.
 */
final class TurnServerSim extends SimFixture {
    static final LinkConfig LINK = LinkConfig.builder().delay(10 * MS).build();
    static final String USER = "alice";
    static final String PASSWORD = "correct horse";
    static final String USER_2 = "bob";
    static final String PASSWORD_2 = "battery staple";

    final SimHost serverHost;
    final SimEndpoint listening;
    final TurnServer turnServer;

    TurnServerSim(long seed, TurnServerConfig config) {
        this(seed, config, TurnAuthenticator.staticUsers(Map.of(USER, PASSWORD, USER_2, PASSWORD_2)), null);
    }

    /** A server with {@code authenticator} that enforces {@code grants} (null: none). */
    TurnServerSim(long seed, TurnServerConfig config, TurnAuthenticator authenticator, RelayGrants grants) {
        super(seed);
        serverHost = publicHost("198.51.100.1", LINK);
        listening = serverHost.bind(3478);
        DatagramEndpoint endpoint = listening;
        turnServer = new TurnServer(endpoint, () -> serverHost.bind(0), authenticator, config, sim.random("server"),
            grants).listen();
    }

    /** A socket at {@code ip}:{@code port} on the public internet, the host added unless it exists. */
    SimEndpoint publicEndpoint(String ip, int port) {
        return publicHostOrExisting(ip, LINK).bind(port);
    }

    /** A buffer of the server's socket holding {@code bytes}. */
    ByteBuf buffer(byte[] bytes) {
        return listening.allocator().buffer(bytes.length).writeBytes(bytes);
    }

    long count(RelayCounter counter) {
        return turnServer.count(counter);
    }

    @Override
    public void close() {
        if (!sim.isClosed()) {
            turnServer.close();
        }
        super.close();
    }
}
