package dev.pinhole.reliability.noise;

/**
 * The two CipherStates {@code Split()} returns (Noise revision 34, §5.2), already assigned to this
 * side: the initiator sends with the first and receives with the second, the responder the other
 * way round (§5.3). After a one-way pattern (N) the responder only receives and the initiator only
 * sends; the other state is still returned but must not be used (§7.4).
 *
 * @param sender encrypts what this side sends
 * @param receiver decrypts what this side receives
 */
public record CipherStatePair(CipherState sender, CipherState receiver) {
}
