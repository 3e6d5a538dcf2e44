package dev.pinhole.punch.traversal;

import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.Credentials;
import dev.pinhole.protocol.nat.NatProfile;
import dev.pinhole.protocol.rendezvous.RelayOffer;

import java.util.Arrays;
import java.util.Base64;
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
 * @param peerKey        the peer's 32-byte X25519 public key (its node id), which it proved to the
 *                       rendezvous server by registering: the key the transport handshake must
 *                       authenticate. Copied in and out. Null only for introductions made without a
 *                       rendezvous server (tests, labs), where the key is not known
 */
public record Introduction(
        String peerName,
        List<Candidate> peerCandidates,
        Credentials local,
        Credentials remote,
        IceRole role,
        NatProfile peerNat,
        NatProfile localNat,
        RelayOffer relay,
        byte[] peerKey) {

    /** Length of {@link #peerKey()}: a raw X25519 public key. */
    public static final int PEER_KEY_BYTES = 32;

    public Introduction {
        Objects.requireNonNull(peerName, "peerName");
        if (peerKey != null) {
            if (peerKey.length != PEER_KEY_BYTES) {
                throw new IllegalArgumentException("a peer key is " + PEER_KEY_BYTES + " bytes, got " + peerKey.length);
            }
            peerKey = peerKey.clone();
        }
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(role, "role");
        peerCandidates = List.copyOf(peerCandidates);
        peerNat = peerNat == null ? NatProfile.UNKNOWN : peerNat;
        localNat = localNat == null ? NatProfile.UNKNOWN : localNat;
    }

    /** An introduction whose peer key is not known (made without a rendezvous server). */
    public Introduction(String peerName, List<Candidate> peerCandidates, Credentials local, Credentials remote,
                        IceRole role, NatProfile peerNat, NatProfile localNat, RelayOffer relay) {
        this(peerName, peerCandidates, local, remote, role, peerNat, localNat, relay, null);
    }

    /** An introduction without a relay offer, whose peer key is not known. */
    public Introduction(String peerName, List<Candidate> peerCandidates, Credentials local, Credentials remote,
                        IceRole role, NatProfile peerNat, NatProfile localNat) {
        this(peerName, peerCandidates, local, remote, role, peerNat, localNat, null, null);
    }

    /** A copy of the peer's X25519 public key, or null if not known. */
    @Override
    public byte[] peerKey() {
        return peerKey == null ? null : peerKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Introduction other && peerName.equals(other.peerName)
            && peerCandidates.equals(other.peerCandidates) && local.equals(other.local)
            && remote.equals(other.remote) && role == other.role && peerNat.equals(other.peerNat)
            && localNat.equals(other.localNat) && Objects.equals(relay, other.relay)
            && Arrays.equals(peerKey, other.peerKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(peerName, peerCandidates, local, remote, role, peerNat, localNat, relay)
            * 31 + Arrays.hashCode(peerKey);
    }

    @Override
    public String toString() {
        return "Introduction[peerName=" + peerName + ", peerCandidates=" + peerCandidates + ", role=" + role
            + ", peerNat=" + peerNat + ", localNat=" + localNat + ", relay=" + (relay != null)
            + ", peerKey=" + (peerKey == null ? "unknown" : Base64.getUrlEncoder().withoutPadding()
                .encodeToString(peerKey)) + "]";
    }
}
