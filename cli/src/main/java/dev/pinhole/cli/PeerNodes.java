package dev.pinhole.cli;

/** Opens {@link PeerNode}s on the Pinhole node facade. */
final class PeerNodes {
    private PeerNodes() {
    }

    static PeerNode open(PeerNode.Options options) throws CliException {
        throw new CliException(ExitCodes.INTERNAL, "this build lacks the node facade (PinholeNode)");
    }
}
