package dev.pinhole.cli;

import dev.pinhole.punch.PeerConnection;
import dev.pinhole.punch.PinholeNode;
import java.io.IOException;
import java.net.BindException;
import java.time.Duration;
import java.util.List;

/** A {@link PeerNode} on the library's facade, {@link PinholeNode}. */
final class FacadeNode implements PeerNode {
    private final PinholeNode node;

    private FacadeNode(PinholeNode node) {
        this.node = node;
    }

    static FacadeNode open(Options options) throws CliException {
        PinholeNode.Builder builder = PinholeNode.builder().name(options.name()).rendezvous(options.rendezvous())
                .bind(options.bind());
        if (options.secret() != null) {
            builder.secret(options.secret());
        }
        if (options.connectTimeoutMs() > 0) {
            builder.connectTimeout(Duration.ofMillis(options.connectTimeoutMs()));
        }
        try {
            return new FacadeNode(builder.build());
        } catch (BindException e) {
            throw new CliException(ExitCodes.PORT_IN_USE, "cannot listen on " + Addresses.format(options.bind())
                    + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw Failures.toCli("registering '" + options.name() + "' at " + Addresses.format(options.rendezvous()), e);
        }
    }

    @Override
    public PeerConnection connect(String peerName) throws IOException {
        return node.connect(peerName);
    }

    @Override
    public PeerConnection accept() throws IOException {
        return node.accept();
    }

    @Override
    public List<String> peers() throws IOException {
        return node.peers();
    }

    @Override
    public void close() {
        node.close();
    }
}
