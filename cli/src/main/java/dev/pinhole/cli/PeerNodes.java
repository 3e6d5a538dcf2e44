package dev.pinhole.cli;

/**
 * Opens the {@link PeerNode}s the commands use: the library's {@link dev.pinhole.punch.PinholeNode}, or,
 * when the demo injects loss, a {@link CoreNode} whose socket is wrapped in a {@link LossyEndpoint}
 * (PinholeNode has no hook for wrapping its endpoint).
 */
final class PeerNodes {
    private PeerNodes() {
    }

    static PeerNode open(PeerNode.Options options) throws CliException {
        return options.lossFraction() > 0 ? CoreNode.open(options) : FacadeNode.open(options);
    }
}
