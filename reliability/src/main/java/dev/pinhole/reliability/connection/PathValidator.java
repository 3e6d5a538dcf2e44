package dev.pinhole.reliability.connection;

import java.net.InetSocketAddress;
import java.util.random.RandomGenerator;

/**
 * Path validation for a peer that shows up at a new address (NAT rebinding; RFC 9000 §8.2 and §9):
 * the new address is a candidate until it echoes a PATH_CHALLENGE; until then at most three times the
 * bytes received from it may be sent to it (anti-amplification, §8.1). It also remembers the
 * PATH_RESPONSE owed to a challenge from the peer (§8.2.2). The connection builds and sends the packets;
 * this class decides what, where and when. Single-threaded.
 */
final class PathValidator {
    /** RFC 9000 §8.1: before its address is validated, send at most 3 times the bytes received from it. */
    static final int AMPLIFICATION_FACTOR = 3;
    /** Challenges remembered, so that a late response to an earlier one still counts. */
    private static final int CHALLENGE_HISTORY = 4;

    private InetSocketAddress candidate;
    private long bytesReceived;
    private long bytesSent;
    private boolean challengeDue;
    private long resendNs = Connection.NO_DEADLINE;
    private long abandonNs = Connection.NO_DEADLINE;
    private final long[] challenges = new long[CHALLENGE_HISTORY];
    private int challengeCount;

    private boolean responseDue;
    private long responseData;
    private InetSocketAddress responseTo;

    private long validated;

    /**
     * A packet of {@code size} bytes arrived from {@code from}, which is not the current peer address.
     * RFC 9000 §9.3: only the newest packet (the largest packet number so far) makes it a candidate.
     */
    void onPacketFromNewAddress(long nowNs, InetSocketAddress from, int size, boolean newest, long validationTimeNs) {
        if (from.equals(candidate)) {
            bytesReceived += size;
            return;
        }
        if (!newest) {
            return;
        }
        candidate = from;
        bytesReceived = size;
        bytesSent = 0;
        challengeDue = true;
        challengeCount = 0;
        resendNs = Connection.NO_DEADLINE;
        abandonNs = nowNs + validationTimeNs;
    }

    /** The address being validated, or null. */
    InetSocketAddress candidate() {
        return candidate;
    }

    /** Bytes that may still be sent to the candidate (RFC 9000 §8.1). */
    long budget() {
        return AMPLIFICATION_FACTOR * bytesReceived - bytesSent;
    }

    /** Counts bytes sent to {@code to} against the budget if it is the candidate. */
    void onSent(InetSocketAddress to, int size) {
        if (to.equals(candidate)) {
            bytesSent += size;
        }
    }

    boolean challengeDue() {
        return challengeDue && candidate != null;
    }

    /** The data of a new PATH_CHALLENGE about to be sent; the next one is due a PTO later. */
    long nextChallenge(long nowNs, long ptoNs, RandomGenerator random) {
        long data = random.nextLong();
        challenges[challengeCount % CHALLENGE_HISTORY] = data;
        challengeCount++;
        challengeDue = false;
        resendNs = nowNs + ptoNs;
        return data;
    }

    /**
     * A PATH_RESPONSE arrived: true if it echoes one of our challenges, which validates the candidate;
     * then {@link #candidate()} was the address to move to, and validation is over.
     */
    InetSocketAddress onResponse(long data) {
        if (candidate == null) {
            return null;
        }
        for (int i = 0; i < Math.min(challengeCount, CHALLENGE_HISTORY); i++) {
            if (challenges[i] == data) {
                InetSocketAddress validatedAddress = candidate;
                abandon();
                validated++;
                return validatedAddress;
            }
        }
        return null;
    }

    /** Resends the challenge when its PTO passed; gives up after the validation time (RFC 9000 §8.2.4). */
    void onTimeout(long nowNs) {
        if (candidate == null) {
            return;
        }
        if (nowNs >= abandonNs) {
            abandon();
        } else if (nowNs >= resendNs) {
            challengeDue = true;
            resendNs = Connection.NO_DEADLINE;
        }
    }

    private void abandon() {
        candidate = null;
        challengeDue = false;
        resendNs = Connection.NO_DEADLINE;
        abandonNs = Connection.NO_DEADLINE;
    }

    long deadlineNs() {
        return candidate == null ? Connection.NO_DEADLINE : Math.min(resendNs, abandonNs);
    }

    /** RFC 9000 §8.2.2: the peer challenged us from {@code from}; answer there without delay. */
    void onChallenge(long data, InetSocketAddress from) {
        responseDue = true;
        responseData = data;
        responseTo = from;
    }

    boolean responseDue() {
        return responseDue;
    }

    InetSocketAddress responseTo() {
        return responseTo;
    }

    long takeResponse() {
        responseDue = false;
        return responseData;
    }

    /** Paths validated so far. */
    long validated() {
        return validated;
    }
}
