package dev.pinhole.punch.interop;

import dev.pinhole.punch.relay.TurnConfig;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The shared coturn fixture ({@link Coturn}) seen as a TURN server: its address, relay port block and
 * the {@link TurnConfig} of its long-term user. Started and stopped by the test class itself.
 */
final class CoturnTurnServer implements AutoCloseable {
    static final String USER = Coturn.USER;
    static final String PASSWORD = Coturn.PASSWORD;
    static final String REALM = Coturn.REALM;

    private final Coturn coturn;

    private CoturnTurnServer(Coturn coturn) {
        this.coturn = coturn;
    }

    /**
     * Starts coturn with {@code relayPorts} relay ports and the {@code extraOptions} (e.g.
     * {@code --user-quota=1}), skipping the calling test (JUnit assumption) when coturn is not installed.
     */
    static CoturnTurnServer start(int relayPorts, String... extraOptions) throws Exception {
        return new CoturnTurnServer(Coturn.start(relayPorts, extraOptions));
    }

    /** Where clients send: 127.0.0.1 on the listening port. */
    InetSocketAddress address() {
        return coturn.primary();
    }

    int minRelayPort() {
        return coturn.minRelayPort();
    }

    int maxRelayPort() {
        return coturn.maxRelayPort();
    }

    TurnConfig config() {
        return TurnConfig.of(address(), USER, PASSWORD);
    }

    /** The last lines coturn printed, for failure messages. */
    String logTail() {
        return coturn.logTail();
    }

    @Override
    public void close() throws IOException {
        coturn.close();
    }
}
