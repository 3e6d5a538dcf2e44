package dev.pinhole.reliability.cc;

import dev.pinhole.reliability.recovery.SentPacket;

/**
 * BBR v1, the model-based controller of draft-cardwell-iccrg-bbr-congestion-control (-00): it estimates
 * the bottleneck bandwidth (a windowed maximum of delivery-rate samples over 10 round trips) and the
 * round-trip propagation delay (a 10 s minimum of RTT samples), paces at a gain times the bandwidth and
 * keeps at most a gain times their product (the BDP) in flight. Random loss does not shrink the model,
 * which is why BBR keeps a lossy path full where NewReno and CUBIC back off on every drop.
 *
 * <ul>
 *   <li><b>Delivery rate</b> (§4.1.2, from draft-cheng-iccrg-delivery-rate-estimation): every packet
 *       remembers, in primitive fields of its reused {@link SentPacket} slot, the connection's delivered
 *       bytes and time and the first send time of its flight; an ACK yields one sample from its newest
 *       acknowledged packet, {@code delivered / max(send_elapsed, ack_elapsed)}. Samples taken while the
 *       application left the pipe partly empty are marked app-limited and only raise the estimate.</li>
 *   <li><b>States</b> (§4.3): STARTUP paces at 2/ln2 and leaves when the bandwidth grew less than 25 %
 *       in 3 round trips; DRAIN paces at ln2/2 until the flight is down to one BDP; PROBE_BW cycles the
 *       pacing gain 1.25, 0.75, 1 x6, one phase per min RTT; PROBE_RTT, entered when the min RTT was not
 *       renewed for 10 s, holds the window at 4 datagrams for 200 ms and a round trip.</li>
 *   <li><b>Window</b> (§4.2.3): {@code cwnd_gain * BDP + 3 * send_quantum} (the quanta absorb ACK
 *       aggregation), cwnd gain 2 in every state but PROBE_RTT, at least 4 datagrams.</li>
 * </ul>
 *
 * <p><b>Loss.</b> Not a congestion signal: {@link #onCongestionEvent} changes nothing, and v1's packet
 * conservation during recovery (§4.2.3.4) is left out, because on a path with random loss QUIC is in a
 * recovery period almost all the time. Two exceptions. Persistent congestion (RFC 9002 §7.6, nothing
 * acknowledged for about three PTOs) is a conservative restart: the window drops to 4 datagrams, the
 * bandwidth filter is emptied and STARTUP begins again from there. And a <i>loss ceiling</i>, after
 * Linux BBR v1's policer detection (its {@code lt_loss_thresh} is 50/256, about 20 %): a round trip in
 * which more than {@link #LOSS_CEILING_DENOMINATOR 1/5} of the bytes resolved were declared lost is
 * lossy; after {@link #LOSSY_ROUNDS_TO_CAP} lossy rounds in a row the controller stops probing for
 * {@link #LOSS_CAP_ROUNDS} round trips (Linux's {@code bbr_lt_bw_max_rtts}): it uses at most the rate
 * actually delivered during those lossy rounds, with the pacing gain at most 1. A policer or an
 * overloaded link that drops a fifth of what we send thus gets what it passes, not a blast at the
 * old estimate; random loss of a few percent, which the path delivers through, never reaches it.
 *
 * <p><b>Left out</b>: BBRv2/v3's loss and ECN bounds ({@code inflight_hi/lo}), the ACK aggregation
 * estimator (the quanta stand in for it) and the idle-restart window of §4.3.4.4 beyond resuming at
 * pacing gain 1. The PROBE_BW entry phase, random in the draft to desynchronise flows, is derived from
 * the entry time so that virtual-time runs stay deterministic.
 *
 * <p>Time is {@code nowNs} from the caller; bandwidth is bytes per second. Nothing is allocated per
 * packet; not thread-safe.
 */
final class BbrCongestionController implements CongestionController {

    /** The BBR states of §4.3. */
    public enum State { STARTUP, DRAIN, PROBE_BW, PROBE_RTT }

    /** §4.3.1: BBRHighGain = 2/ln(2), the smallest gain that doubles the delivery rate every round. */
    static final double HIGH_GAIN = 2 / Math.log(2);
    /** §4.3.2: the drain gain, 1/BBRHighGain. */
    static final double DRAIN_GAIN = 1 / HIGH_GAIN;
    /** §4.2.3: cwnd_gain 2 outside PROBE_RTT (absorbs delayed and stretched ACKs). */
    static final double CWND_GAIN = 2;
    /** §4.3.3: the PROBE_BW pacing gain cycle (BBRGainCycleLen = 8). */
    static final double[] GAIN_CYCLE = {1.25, 0.75, 1, 1, 1, 1, 1, 1};
    /** §4.1.1.2: BtlBwFilterLen, the bandwidth filter's window, in round trips. */
    static final long BANDWIDTH_FILTER_ROUNDS = 10;
    /** §4.1.1.3: RTpropFilterLen, how long a min RTT sample stays valid (10 s). */
    static final long MIN_RTT_FILTER_NS = 10_000_000_000L;
    /** §4.3.5: ProbeRTTDuration (200 ms). */
    static final long PROBE_RTT_DURATION_NS = 200_000_000L;
    /** §4.2.3.1: BBRMinPipeCwnd, 4 packets. */
    static final int MIN_PIPE_CWND_DATAGRAMS = 4;
    /** §4.3.2.2: STARTUP ends after this many rounds in which the bandwidth grew less than 25 % ... */
    static final int FULL_BANDWIDTH_ROUNDS = 3;
    /** ... expressed as growth to at least 5/4. */
    static final double FULL_BANDWIDTH_GROWTH = 1.25;
    /** The loss ceiling (see the class comment): a round is lossy above 1/5 of its resolved bytes lost. */
    static final long LOSS_CEILING_DENOMINATOR = 5;
    /** Consecutive lossy rounds before the cap applies (one burst does not count). */
    static final int LOSSY_ROUNDS_TO_CAP = 2;
    /** Round trips the cap lasts before probing resumes (Linux BBR v1: bbr_lt_bw_max_rtts = 48). */
    static final int LOSS_CAP_ROUNDS = 48;
    /** §4.2.2: send quantum thresholds, 1.2 Mbit/s and 24 Mbit/s, in bytes per second ... */
    static final long ONE_DATAGRAM_QUANTUM_BELOW_BYTES_PER_SECOND = 150_000;
    static final long TWO_DATAGRAM_QUANTUM_BELOW_BYTES_PER_SECOND = 3_000_000;
    /** ... and its ceiling, 64 KiB, of 1 ms at the pacing rate otherwise. */
    static final long MAX_SEND_QUANTUM_BYTES = 64 * 1024;
    /** The window's ceiling, as for the loss-based controllers (4 GiB). */
    static final long MAX_WINDOW_BYTES = LossBasedCongestionController.MAX_WINDOW_BYTES;
    private static final double NANOS_PER_SECOND = 1e9;
    private static final long MILLISECOND_NS = 1_000_000L;
    private static final long NANOS_PER_SECOND_LONG = 1_000_000_000L;

    private final int maxDatagramSize;
    private final long initialWindowBytes;
    private final long minPipeWindowBytes;

    // Delivery-rate estimator, connection state (§4.1.2.2).
    private long deliveredBytes;
    private long deliveredTimeNs;
    private long firstSentTimeNs;
    /** C.app_limited: the delivered count at which the app-limited bubble ends; 0 when not app-limited. */
    private long appLimitedUntilBytes;

    // The rate sample of the ACK being processed (§4.1.2.3).
    private boolean sampleHasData;
    private long samplePriorDeliveredBytes;
    private long samplePriorTimeNs;
    private long sampleSendElapsedNs;
    private long sampleAckElapsedNs;
    private boolean sampleAppLimited;
    private long sampleRttNs;
    private long sampleNewestSentTimeNs;
    private long ackAckedBytes;
    private long ackLostBytes;

    // The model (§4.1).
    private final WindowedMaxFilter bandwidthFilter = new WindowedMaxFilter(BANDWIDTH_FILTER_ROUNDS);
    private boolean minRttKnown;
    private long minRttNs;
    private long minRttStampNs;
    private boolean minRttExpired;
    /** The smallest RTT ever seen, which bounds how short a rate sample's interval may plausibly be. */
    private long lowestRttNs = Long.MAX_VALUE;
    private long roundCount;
    private long nextRoundDeliveredBytes;
    private boolean roundStart;
    private boolean filledPipe;
    private long fullBandwidth;
    private int fullBandwidthCount;

    // The state machine (§4.3).
    private State state;
    private double pacingGain;
    private double cwndGain;
    private int cycleIndex;
    private long cycleStampNs;
    private boolean probeRttDoneStampValid;
    private long probeRttDoneStampNs;
    private boolean probeRttRoundDone;
    private long priorCwndBytes;
    private boolean idleRestart;

    // The control parameters (§4.2).
    private long cwndBytes;
    private long pacingRateBytesPerSecond;

    // The loss ceiling.
    private long roundDeliveredBytes;
    private long roundLostBytes;
    private long roundStartTimeNs;
    private boolean roundStartTimeValid;
    private int lossyRounds;
    private long lossyDeliveredBytes;
    private long lossyStartTimeNs;
    private int lossCapRoundsLeft;
    private long lossCapBandwidth;
    private long lossCapEntries;

    public BbrCongestionController(int maxDatagramSize) {
        if (maxDatagramSize <= 0 || maxDatagramSize > LossBasedCongestionController.MAX_DATAGRAM_SIZE_LIMIT) {
            throw new IllegalArgumentException("maxDatagramSize must be in 1.."
                    + LossBasedCongestionController.MAX_DATAGRAM_SIZE_LIMIT + ", was " + maxDatagramSize);
        }
        this.maxDatagramSize = maxDatagramSize;
        this.initialWindowBytes = LossBasedCongestionController.initialWindowBytes(maxDatagramSize);
        this.minPipeWindowBytes = (long) MIN_PIPE_CWND_DATAGRAMS * maxDatagramSize;
        this.cwndBytes = initialWindowBytes;
        // §4.2.1 BBRInitPacingRate: nominal bandwidth = InitialCwnd / 1 ms without an RTT sample.
        this.pacingRateBytesPerSecond = (long) (HIGH_GAIN * initialWindowBytes * NANOS_PER_SECOND / MILLISECOND_NS);
        enterStartup();
    }

    @Override
    public long congestionWindowBytes() {
        return cwndBytes;
    }

    @Override
    public long pacingRateBytesPerSecond() {
        return pacingRateBytesPerSecond;
    }

    /** BBR has no slow-start threshold. */
    @Override
    public long slowStartThresholdBytes() {
        return Long.MAX_VALUE;
    }

    /** STARTUP is BBR's slow start. */
    @Override
    public boolean inSlowStart() {
        return state == State.STARTUP;
    }

    /** Loss does not start recovery periods here (see the class comment). */
    @Override
    public boolean inRecovery() {
        return false;
    }

    /**
     * BBR needs each packet's delivery-rate state; the loss detector calls
     * {@link #onPacketSent(SentPacket, long)} instead of this.
     */
    @Override
    public void onPacketSent(long nowNs, int bytes) {
        throw new UnsupportedOperationException("BBR needs the packet: call onPacketSent(SentPacket, long)");
    }

    /** As {@link #onPacketSent(long, int)}: BBR samples the delivery rate from the packet. */
    @Override
    public void onPacketAcked(long nowNs, long sentTimeNs, int bytes, boolean appLimited, long smoothedRttNs) {
        throw new UnsupportedOperationException("BBR needs the packet: call onPacketAcked(long, SentPacket, long)");
    }

    @Override
    public void onPacketSent(SentPacket packet, long bytesInFlightBefore) {
        long sentTimeNs = packet.sentTimeNs();
        if (bytesInFlightBefore == 0) {
            // §4.1.2.2 OnPacketSent: a new flight starts; its rate sample must not span the idle time.
            firstSentTimeNs = sentTimeNs;
            deliveredTimeNs = sentTimeNs;
            if (appLimitedUntilBytes != 0) {
                // §4.3.4.4 BBRHandleRestartFromIdle: resume at the estimated rate, not a probing gain.
                idleRestart = true;
                if (state == State.PROBE_BW) {
                    setPacingRateWithGain(1);
                }
            }
        }
        packet.rateState(deliveredBytes, deliveredTimeNs, firstSentTimeNs, appLimitedUntilBytes != 0);
        long inFlightAfter = bytesInFlightBefore + packet.sizeBytes();
        if (packet.appLimited() && inFlightAfter < cwndBytes) {
            // §4.1.2.4: the application left the window unfilled; the samples of the packets sent until
            // this flight is delivered understate the path.
            appLimitedUntilBytes = Math.max(deliveredBytes + inFlightAfter, 1);
        }
    }

    @Override
    public void onPacketAcked(long nowNs, SentPacket packet, long smoothedRttNs) {
        int bytes = packet.sizeBytes();
        ackAckedBytes += bytes;
        roundDeliveredBytes += bytes;
        deliveredBytes += bytes;
        deliveredTimeNs = nowNs;
        // §4.1.2.3 UpdateRateSample: the sample comes from the most recently sent packet acknowledged.
        if (!sampleHasData || packet.sentTimeNs() - sampleNewestSentTimeNs >= 0) {
            sampleHasData = true;
            samplePriorDeliveredBytes = packet.rateDeliveredBytes();
            samplePriorTimeNs = packet.rateDeliveredTimeNs();
            sampleAppLimited = packet.rateAppLimited();
            sampleSendElapsedNs = packet.sentTimeNs() - packet.rateFirstSentTimeNs();
            sampleAckElapsedNs = deliveredTimeNs - packet.rateDeliveredTimeNs();
            sampleRttNs = nowNs - packet.sentTimeNs();
            sampleNewestSentTimeNs = packet.sentTimeNs();
            firstSentTimeNs = packet.sentTimeNs();
        }
    }

    @Override
    public void onPacketLost(long nowNs, SentPacket packet) {
        ackLostBytes += packet.sizeBytes();
        roundLostBytes += packet.sizeBytes();
    }

    @Override
    public void onAckProcessed(long nowNs, long bytesInFlight) {
        if (ackAckedBytes == 0) {
            // Only losses: they were counted for the loss ceiling; the model needs a delivery.
            ackLostBytes = 0;
            return;
        }
        long priorInFlight = bytesInFlight + ackAckedBytes + ackLostBytes;
        long rate = generateRateSample();
        updateModelAndState(nowNs, bytesInFlight, priorInFlight, rate);
        updateControlParameters(bytesInFlight);
        sampleHasData = false;
        ackAckedBytes = 0;
        ackLostBytes = 0;
    }

    /** §4.1.2.3 GenerateRateSample: the delivery rate in bytes per second, or -1 if there is no valid sample. */
    private long generateRateSample() {
        if (appLimitedUntilBytes != 0 && deliveredBytes > appLimitedUntilBytes) {
            appLimitedUntilBytes = 0;
        }
        if (!sampleHasData) {
            return -1;
        }
        lowestRttNs = Math.min(lowestRttNs, sampleRttNs);
        // "use the longer of the two intervals" so that neither ACK compression nor a sender burst
        // makes the rate look higher than the path delivered.
        long intervalNs = Math.max(sampleSendElapsedNs, sampleAckElapsedNs);
        if (intervalNs <= 0 || intervalNs < lowestRttNs) {
            // Shorter than any round trip: an implausibly fast sample (§4.1.2.3).
            return -1;
        }
        long sampleDelivered = deliveredBytes - samplePriorDeliveredBytes;
        return (long) (sampleDelivered * NANOS_PER_SECOND / intervalNs);
    }

    /** §4.2 BBRUpdateModelAndState. */
    private void updateModelAndState(long nowNs, long bytesInFlight, long priorInFlight, long rate) {
        updateRound(nowNs);
        if (rate >= 0 && (rate >= bandwidthFilter.best() || !sampleAppLimited)) {
            bandwidthFilter.update(rate, roundCount);
        }
        checkCyclePhase(nowNs, priorInFlight);
        checkFullPipe();
        checkDrain(nowNs, bytesInFlight);
        updateMinRtt(nowNs);
        checkProbeRtt(nowNs, bytesInFlight);
    }

    /** §4.1.1.3 BBRUpdateRound: a round ends when a packet sent after the last round's end is delivered. */
    private void updateRound(long nowNs) {
        roundStart = false;
        if (samplePriorDeliveredBytes >= nextRoundDeliveredBytes) {
            nextRoundDeliveredBytes = deliveredBytes;
            roundCount++;
            roundStart = true;
            onRoundEnd(nowNs);
        }
    }

    /** The loss ceiling's bookkeeping, once per round trip (see the class comment). */
    private void onRoundEnd(long nowNs) {
        long resolved = roundDeliveredBytes + roundLostBytes;
        boolean lossy = roundStartTimeValid && resolved > 0 && roundLostBytes * LOSS_CEILING_DENOMINATOR > resolved;
        if (lossCapRoundsLeft > 0) {
            lossCapRoundsLeft--;
        } else if (lossy) {
            if (lossyRounds == 0) {
                lossyStartTimeNs = roundStartTimeNs;
                lossyDeliveredBytes = 0;
            }
            lossyRounds++;
            lossyDeliveredBytes += roundDeliveredBytes;
            long elapsedNs = nowNs - lossyStartTimeNs;
            if (lossyRounds >= LOSSY_ROUNDS_TO_CAP && elapsedNs > 0) {
                lossCapBandwidth = Math.max(1, (long) (lossyDeliveredBytes * NANOS_PER_SECOND / elapsedNs));
                lossCapRoundsLeft = LOSS_CAP_ROUNDS;
                lossCapEntries++;
                lossyRounds = 0;
            }
        } else {
            lossyRounds = 0;
        }
        roundDeliveredBytes = 0;
        roundLostBytes = 0;
        roundStartTimeNs = nowNs;
        roundStartTimeValid = true;
    }

    /** §4.3.3 BBRCheckCyclePhase and BBRIsNextCyclePhase. */
    private void checkCyclePhase(long nowNs, long priorInFlight) {
        if (state != State.PROBE_BW) {
            return;
        }
        boolean fullLength = nowNs - cycleStampNs > minRttNs;
        double gain = GAIN_CYCLE[cycleIndex];
        boolean next;
        if (gain > 1) {
            // Probe until the extra data really is in flight (or the probe caused a loss).
            next = fullLength && (ackLostBytes > 0 || priorInFlight >= inflightBytes(bandwidth(), gain));
        } else if (gain < 1) {
            // Drain the probe's queue, and stop early once the flight is down to one BDP.
            next = fullLength || priorInFlight <= inflightBytes(bandwidth(), 1);
        } else {
            next = fullLength;
        }
        if (next) {
            cycleIndex = (cycleIndex + 1) % GAIN_CYCLE.length;
            cycleStampNs = nowNs;
            pacingGain = GAIN_CYCLE[cycleIndex];
        }
    }

    /** §4.3.2.2 BBRCheckFullPipe: STARTUP has filled the pipe when 3 rounds grew the bandwidth by less than 25 %. */
    private void checkFullPipe() {
        if (filledPipe || !roundStart || sampleAppLimited) {
            return;
        }
        long bandwidth = bandwidthFilter.best();
        if (bandwidth >= fullBandwidth * FULL_BANDWIDTH_GROWTH) {
            fullBandwidth = bandwidth;
            fullBandwidthCount = 0;
            return;
        }
        if (++fullBandwidthCount >= FULL_BANDWIDTH_ROUNDS) {
            filledPipe = true;
        }
    }

    /** §4.3.2.3 BBRCheckDrain. */
    private void checkDrain(long nowNs, long bytesInFlight) {
        if (state == State.STARTUP && filledPipe) {
            state = State.DRAIN;
            pacingGain = DRAIN_GAIN;
            cwndGain = CWND_GAIN;
        }
        if (state == State.DRAIN && bytesInFlight <= inflightBytes(bandwidth(), 1)) {
            enterProbeBw(nowNs);
        }
    }

    /** §4.1.1.3 BBRUpdateRTprop. */
    private void updateMinRtt(long nowNs) {
        minRttExpired = minRttKnown && nowNs - minRttStampNs > MIN_RTT_FILTER_NS;
        if (sampleHasData && sampleRttNs >= 0 && (!minRttKnown || sampleRttNs <= minRttNs || minRttExpired)) {
            minRttKnown = true;
            minRttNs = sampleRttNs;
            minRttStampNs = nowNs;
        }
    }

    /** §4.3.5 BBRCheckProbeRTT and BBRHandleProbeRTT. */
    private void checkProbeRtt(long nowNs, long bytesInFlight) {
        if (state != State.PROBE_RTT && minRttExpired && !idleRestart) {
            state = State.PROBE_RTT;
            pacingGain = 1;
            cwndGain = 1;
            saveCwnd();
            probeRttDoneStampValid = false;
        }
        if (state == State.PROBE_RTT) {
            // The flight is deliberately small: its samples say nothing about the bandwidth.
            appLimitedUntilBytes = Math.max(deliveredBytes + bytesInFlight, 1);
            if (!probeRttDoneStampValid && bytesInFlight <= minPipeWindowBytes) {
                probeRttDoneStampNs = nowNs + PROBE_RTT_DURATION_NS;
                probeRttDoneStampValid = true;
                probeRttRoundDone = false;
                nextRoundDeliveredBytes = deliveredBytes;
            } else if (probeRttDoneStampValid) {
                if (roundStart) {
                    probeRttRoundDone = true;
                }
                if (probeRttRoundDone && nowNs - probeRttDoneStampNs > 0) {
                    minRttStampNs = nowNs;
                    cwndBytes = Math.max(cwndBytes, priorCwndBytes);
                    if (filledPipe) {
                        enterProbeBw(nowNs);
                    } else {
                        enterStartup();
                    }
                }
            }
        }
        idleRestart = false;
    }

    private void saveCwnd() {
        priorCwndBytes = state == State.PROBE_RTT ? Math.max(priorCwndBytes, cwndBytes) : cwndBytes;
    }

    private void enterStartup() {
        state = State.STARTUP;
        pacingGain = HIGH_GAIN;
        cwndGain = CWND_GAIN;
    }

    private void enterProbeBw(long nowNs) {
        state = State.PROBE_BW;
        cwndGain = CWND_GAIN;
        // §4.3.3: start at a random phase other than the draining one; the entry time's low bits, mixed,
        // stand in for the random number (deterministic on virtual time, different between flows).
        long mixed = (nowNs ^ (nowNs >>> 17)) * 0x9E3779B97F4A7C15L;
        cycleIndex = GAIN_CYCLE.length - 1 - (int) Math.floorMod(mixed >>> 32, (long) GAIN_CYCLE.length - 1);
        cycleStampNs = nowNs;
        pacingGain = GAIN_CYCLE[cycleIndex];
    }

    /** §4.2 BBRUpdateControlParameters: pacing rate and window from the model and the gains. */
    private void updateControlParameters(long bytesInFlight) {
        setPacingRateWithGain(pacingGain);
        setCwnd();
    }

    /** The bandwidth the controls use: the filter's maximum, under the loss ceiling while it applies. */
    private long bandwidth() {
        long bandwidth = bandwidthFilter.best();
        return lossCapRoundsLeft > 0 ? Math.min(bandwidth, lossCapBandwidth) : bandwidth;
    }

    /** §4.2.1 BBRSetPacingRateWithGain: never lower the rate before the pipe is first filled. */
    private void setPacingRateWithGain(double gain) {
        long bandwidth = bandwidth();
        if (bandwidth == 0) {
            return;
        }
        double effectiveGain = lossCapRoundsLeft > 0 ? Math.min(gain, 1) : gain;
        long rate = (long) (effectiveGain * bandwidth);
        if (rate > 0 && (filledPipe || lossCapRoundsLeft > 0 || rate > pacingRateBytesPerSecond)) {
            pacingRateBytesPerSecond = rate;
        }
    }

    /** §4.2.2 BBRSetSendQuantum. */
    private long sendQuantumBytes() {
        if (pacingRateBytesPerSecond < ONE_DATAGRAM_QUANTUM_BELOW_BYTES_PER_SECOND) {
            return maxDatagramSize;
        }
        if (pacingRateBytesPerSecond < TWO_DATAGRAM_QUANTUM_BELOW_BYTES_PER_SECOND) {
            return 2L * maxDatagramSize;
        }
        return Math.min(pacingRateBytesPerSecond / (NANOS_PER_SECOND_LONG / MILLISECOND_NS), MAX_SEND_QUANTUM_BYTES);
    }

    /** §4.2.3.2 BBRInflight: {@code gain * BDP + 3 * send_quantum}; the initial window without a model. */
    private long inflightBytes(long bandwidth, double gain) {
        if (!minRttKnown || bandwidth == 0) {
            return initialWindowBytes;
        }
        double bdp = (double) bandwidth * minRttNs / NANOS_PER_SECOND;
        return (long) Math.min(gain * bdp + 3 * sendQuantumBytes(), (double) MAX_WINDOW_BYTES);
    }

    /** §4.2.3 BBRSetCwnd, without the recovery modulation (see the class comment). */
    private void setCwnd() {
        long target = inflightBytes(bandwidth(), cwndGain);
        long acked = ackAckedBytes;
        if (filledPipe) {
            cwndBytes = Math.min(cwndBytes + acked, target);
        } else if (cwndBytes < target || deliveredBytes < initialWindowBytes) {
            cwndBytes = cwndBytes + acked;
        }
        cwndBytes = Math.min(Math.max(cwndBytes, minPipeWindowBytes), MAX_WINDOW_BYTES);
        if (state == State.PROBE_RTT) {
            cwndBytes = Math.min(cwndBytes, minPipeWindowBytes);
        }
    }

    /** Loss is not a congestion signal for BBR (see the class comment). */
    @Override
    public void onCongestionEvent(long nowNs, long largestLostSentTimeNs) {
        // Deliberately no reaction: random loss must not shrink the model.
    }

    /**
     * RFC 9002 §7.6 persistent congestion: a conservative restart from 4 datagrams with an empty
     * bandwidth filter, through STARTUP, pacing the small window over the last min RTT.
     */
    @Override
    public void onPersistentCongestion(long nowNs) {
        cwndBytes = minPipeWindowBytes;
        priorCwndBytes = 0;
        bandwidthFilter.reset();
        filledPipe = false;
        fullBandwidth = 0;
        fullBandwidthCount = 0;
        probeRttDoneStampValid = false;
        enterStartup();
        long rttNs = minRttKnown ? Math.max(minRttNs, 1) : MILLISECOND_NS;
        pacingRateBytesPerSecond = Math.max(1, (long) (HIGH_GAIN * minPipeWindowBytes * NANOS_PER_SECOND / rttNs));
    }

    public State state() {
        return state;
    }

    /** The bandwidth filter's maximum, in bytes per second (0 before the first sample). */
    public long bottleneckBandwidthBytesPerSecond() {
        return bandwidthFilter.best();
    }

    /** The windowed min RTT (RTprop), or -1 before the first sample. */
    public long minRttNs() {
        return minRttKnown ? minRttNs : -1;
    }

    public long roundCount() {
        return roundCount;
    }

    public double pacingGain() {
        return pacingGain;
    }

    /** When the current min RTT was measured or last confirmed. */
    long minRttStampNs() {
        return minRttStampNs;
    }

    /** The PROBE_BW phase, an index into {@link #GAIN_CYCLE}. */
    int cycleIndex() {
        return cycleIndex;
    }

    public double cwndGain() {
        return cwndGain;
    }

    /** Whether STARTUP found the pipe full (and the controller moved on). */
    public boolean filledPipe() {
        return filledPipe;
    }

    /** Whether the loss ceiling currently caps the bandwidth and the gain. */
    public boolean lossCapped() {
        return lossCapRoundsLeft > 0;
    }

    /** How often the loss ceiling was reached. */
    public long lossCapEntries() {
        return lossCapEntries;
    }

    /** The bytes delivered so far, as the rate estimator counts them. */
    public long deliveredBytes() {
        return deliveredBytes;
    }

    @Override
    public String toString() {
        return "Bbr{state=" + state + ", cwnd=" + cwndBytes + ", pacing=" + pacingRateBytesPerSecond + "B/s"
                + ", btlBw=" + bandwidthFilter.best() + "B/s, minRtt=" + minRttNs() + "ns, round=" + roundCount
                + (lossCapped() ? ", lossCapped" : "") + "}";
    }
}
