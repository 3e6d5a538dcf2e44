package dev.pinhole.punch.traversal;

import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.Credentials;
import dev.pinhole.protocol.nat.NatProfile;
import dev.pinhole.protocol.rendezvous.RelayOffer;

import java.util.List;
import java.util.Objects;

/**
 * Everything one side needs to start traversal toward a peer, as the rendezvous server's introduction
 * delivers it: the peer's candidates and credentials, this side's credentials and role, and both NATs'
 * behaviour (RFC 8445 §5.3 exchanges the first three through signalling; the last is Pinhole's addition
 * for port prediction, birthday probing and diagnostics).
 *
 * @param peerName       the name the peer registered under
 * @param peerCandidates the peer's candidates, highest priority first or in any order
 * @param local          this side's credentials: incoming checks must carry {@code local.ufrag} and
 *                       be signed with {@code local.password}
 * @param remote         the peer's credentials
 * @param role           this side's role; the peer has the opposite one
 * @param peerNat        the peer's NAT as it measured it; {@link NatProfile#UNKNOWN} if not measured
 *                       (null is accepted and means the same)
 * @param localNat       this side's NAT; {@link NatProfile#UNKNOWN} if not measured (null accepted)
 * @param relay          a TURN server this side may allocate on, with credentials issued for it, when
 *                       no direct path opens (RFC 8656); null when the rendezvous server offers none
 */
public record Introduction(
        String peerName,
        List<Candidate> peerCandidates,
        Credentials local,
        Credentials remote,
        IceRole role,
        NatProfile peerNat,
        NatProfile localNat,
        RelayOffer relay) {

    public Introduction {
        Objects.requireNonNull(peerName, "peerName");
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(role, "role");
        peerCandidates = List.copyOf(peerCandidates);
        peerNat = peerNat == null ? NatProfile.UNKNOWN : peerNat;
        localNat = localNat == null ? NatProfile.UNKNOWN : localNat;
    }

    /** An introduction without a relay offer. */
    public Introduction(String peerName, List<Candidate> peerCandidates, Credentials local, Credentials remote,
                        IceRole role, NatProfile peerNat, NatProfile localNat) {
        this(peerName, peerCandidates, local, remote, role, peerNat, localNat, null);
    }
}
