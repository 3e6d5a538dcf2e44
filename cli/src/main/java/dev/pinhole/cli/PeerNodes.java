package dev.pinhole.cli;

/** Opens the {@link PeerNode}s the commands use. */
final class PeerNodes {
    private PeerNodes() {
    }

    static PeerNode open(PeerNode.Options options) throws CliException {
        return CoreNode.open(options);
    }
}
