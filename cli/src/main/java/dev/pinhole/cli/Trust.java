package dev.pinhole.cli;

import dev.pinhole.punch.KnownPeers;
import dev.pinhole.punch.PeerConnection;
import dev.pinhole.reliability.Identity;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The commands' trust in peers: the known-peers file ({@link KnownPeers}), {@code --to NAME@ID} pins, and how a
 * peer is shown to the user (name and fingerprint; the full id in JSON).
 */
final class Trust {
    /**
     * The application code a receiver aborts a connection with when it does not accept the sender ("REFU" in
     * ASCII); the sender maps it to {@link ExitCodes#PEER_NOT_TRUSTED}.
     */
    static final long REFUSED_CODE = 0x52454655L;

    /**
     * The application code a sender or receiver aborts its connection with when its user stops it (Ctrl-C,
     * SIGTERM): "CANC" in ASCII; the other side maps it to {@link ExitCodes#PEER_CANCELLED}.
     */
    static final long CANCELLED_CODE = 0x43414E43L;

    private Trust() {
    }

    /** {@code --known-peers FILE} and {@code --accept-new-key}, on the commands that connect to peers. */
    static final class Options {
        @Option(names = "--known-peers", paramLabel = "FILE",
                description = "The peers met before, NAME ID per line, like ssh's known_hosts.%nDefault:"
                    + " $XDG_CONFIG_HOME/pinhole/known_peers,%nelse ~/.config/pinhole/known_peers.")
        Path knownPeers;

        @Option(names = "--accept-new-key", description = "Accept and record a peer's new key when it differs from"
                + " the one known_peers holds for its name (after checking its fingerprint with the peer).")
        boolean acceptNewKey;

        Path file() {
            return knownPeers != null ? knownPeers : KnownPeers.defaultPath();
        }

        /**
         * The known-peers file, read once to check it: a malformed or unsafe file stops the command before it
         * connects ({@link ExitCodes#LOCAL_FILE}, the message names the line).
         */
        KnownPeers open() throws CliException {
            KnownPeers known = KnownPeers.at(file());
            try {
                known.entries();
            } catch (IOException e) {
                throw new CliException(ExitCodes.LOCAL_FILE, e.getMessage(), e);
            }
            return known;
        }
    }

    /** The peer a {@code --to} names: {@code NAME} or {@code NAME@ID}. */
    record Target(String name, String pinnedId) {
        /**
         * {@code NAME} or {@code NAME@ID}, split at the last {@code @}: a name that contains {@code @} itself is
         * written with its id.
         *
         * @throws CliException with {@link ExitCodes#USAGE} if the part after the {@code @} is not a node id
         */
        static Target parse(String spec) throws CliException {
            int at = spec.lastIndexOf('@');
            if (at < 0) {
                return new Target(name(spec, spec), null);
            }
            String name = spec.substring(0, at);
            String id = spec.substring(at + 1);
            if (name.isEmpty()) {
                throw new CliException(ExitCodes.USAGE, "--to " + spec + ": the name before the '@' is missing"
                        + " (--to NAME or --to NAME@ID)");
            }
            try {
                Identity.parseId(id);
            } catch (IllegalArgumentException e) {
                throw new CliException(ExitCodes.USAGE, "--to " + spec + ": after the '@' comes the peer's node id, "
                        + e.getMessage());
            }
            return new Target(name(spec, name), id.toLowerCase(Locale.ROOT));
        }

        private static String name(String spec, String name) throws CliException {
            try {
                return CliArguments.checkedName(name);
            } catch (picocli.CommandLine.TypeConversionException e) {
                throw new CliException(ExitCodes.USAGE, "--to " + spec + ": " + e.getMessage());
            }
        }
    }

    /** The id if {@code text} is a node id (either case), else null. */
    static String idOrNull(String text) {
        try {
            Identity.parseId(text);
            return text.toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The short fingerprint of a node id. */
    static String fingerprint(String id) {
        if (id == null) {
            return null;
        }
        return Identity.fingerprintOf(Identity.parseId(id));
    }

    /** {@code bob (fingerprint abcd-efgh-ijkl-mnop)}. */
    static String describe(PeerConnection peer) {
        return peer.peerName() + " (fingerprint " + fingerprint(peer.peerId()) + ")";
    }
}
