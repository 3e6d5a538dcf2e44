package dev.pinhole.reliability.connection;

import dev.pinhole.sim.LinkConfig;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.CongestionControl;
import dev.pinhole.testkit.Gen;
import dev.pinhole.testkit.Shrinker;
import java.time.Duration;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * One randomly generated transfer: the impairments of each host's link, the payload each side writes,
 * how the applications write and read, and the transport settings. Payload bytes derive from
 * {@code simSeed}, so the record stays small and printable.
 */
record TransferScenario(long simSeed, Path uplink, Path downlink, int clientBytes, int serverBytes,
                        int maxWriteChunk, int maxReadChunk, int readBytesPerMs, int receiveWindow,
                        CongestionControl congestionControl, int datagramSize) {

    /** One direction of the path; percentages and milliseconds keep it readable. */
    record Path(int delayMs, int jitterMs, double lossPercent, double burstEnterPercent, double burstExitPercent,
                double duplicationPercent, double reorderPercent, int reorderDelayMs, int bandwidthMbps,
                int queueKiB) {

        static final double BURST_LOSS = 0.8;
        static final Path CLEAN = new Path(0, 0, 0, 0, 0, 0, 0, 0, 0, 64);

        LinkConfig toLinkConfig() {
            LinkConfig.Builder b = LinkConfig.builder()
                    .delay(delayMs * SimTransfer.MS)
                    .jitter(jitterMs * SimTransfer.MS)
                    .loss(lossPercent / 100)
                    .duplication(duplicationPercent / 100)
                    .reordering(reorderPercent / 100, reorderDelayMs * SimTransfer.MS);
            if (burstEnterPercent > 0) {
                // Bursts lose most, not all: the chain steps per datagram, not per unit of time, so with
                // sparse traffic (handshake retries, backed-off probes) a total burst could last minutes.
                b.gilbertElliott(burstEnterPercent / 100, burstExitPercent / 100, BURST_LOSS, 0.0);
            }
            if (bandwidthMbps > 0) {
                b.bandwidth(bandwidthMbps * 1_000_000L, queueKiB * 1024);
            }
            return b.build();
        }

        /** No datagram is lost, duplicated, reordered or delayed unevenly: nothing should be retransmitted. */
        boolean clean() {
            return jitterMs == 0 && lossPercent == 0 && burstEnterPercent == 0 && reorderPercent == 0
                    && bandwidthMbps == 0;
        }

        @Override
        public String toString() {
            StringBuilder s = new StringBuilder("{delay ").append(delayMs).append("ms");
            if (jitterMs > 0) {
                s.append(" +jitter ").append(jitterMs).append("ms");
            }
            if (lossPercent > 0) {
                s.append(String.format(Locale.ROOT, " loss %.1f%%", lossPercent));
            }
            if (burstEnterPercent > 0) {
                s.append(String.format(Locale.ROOT, " GE p=%.2f%% r=%.1f%%", burstEnterPercent, burstExitPercent));
            }
            if (duplicationPercent > 0) {
                s.append(String.format(Locale.ROOT, " dup %.1f%%", duplicationPercent));
            }
            if (reorderPercent > 0) {
                s.append(String.format(Locale.ROOT, " reorder %.1f%% +%dms", reorderPercent, reorderDelayMs));
            }
            if (bandwidthMbps > 0) {
                s.append(" ").append(bandwidthMbps).append("Mbit/s queue ").append(queueKiB).append("KiB");
            }
            return s.append('}').toString();
        }
    }

    /** Loss up to 30 %, or bursts (Gilbert-Elliott) on top of up to 15 %, duplication, reordering, jitter, bandwidth. */
    static final Gen<Path> PATHS = r -> {
        int delayMs = r.nextInt(4) == 0 ? 0 : r.nextInt(151);
        int jitterMs = r.nextInt(5) == 0 ? r.nextInt(51) : 0;
        double loss = r.nextInt(5) < 3 ? 0 : roundTenth(r.nextDouble() * 30);
        double burstEnter = 0;
        double burstExit = 0;
        if (r.nextInt(5) == 0) {
            loss = Math.min(loss, 15);
            burstEnter = roundTenth(0.5 + r.nextDouble() * 2.5);
            burstExit = roundTenth(40 + r.nextDouble() * 40);
        }
        double dup = r.nextInt(5) == 0 ? roundTenth(r.nextDouble() * 10) : 0;
        double reorder = 0;
        int reorderDelay = 0;
        if (r.nextInt(5) == 0) {
            reorder = roundTenth(r.nextDouble() * 10);
            reorderDelay = 1 + r.nextInt(50);
        }
        int bandwidth = 0;
        int queue = 64;
        if (r.nextInt(10) < 3) {
            bandwidth = 1 + r.nextInt(100);
            queue = 16 + r.nextInt(1009);
        }
        return new Path(delayMs, jitterMs, loss, burstEnter, burstExit, dup, reorder, reorderDelay, bandwidth, queue);
    };

    private static double roundTenth(double v) {
        return Math.round(v * 10) / 10.0;
    }

    /** Mostly small payloads, some medium, a few large; some empty. */
    static int payloadSize(RandomGenerator r, int largeMax) {
        int kind = r.nextInt(100);
        if (kind < 10) {
            return 0;
        }
        if (kind < 70) {
            return 1 + r.nextInt(20_000);
        }
        if (kind < 95) {
            return 20_000 + r.nextInt(280_000);
        }
        return 300_000 + r.nextInt(Math.max(1, largeMax - 300_000));
    }

    static int logUniform(RandomGenerator r, int max) {
        return (int) Math.max(1, Math.min(max, Math.round(Math.exp(r.nextDouble() * Math.log(max)))));
    }

    private static final CongestionControl[] CONTROLLERS = CongestionControl.values();

    static Gen<TransferScenario> generator(int largeMax, boolean impaired) {
        return r -> {
            long seed = r.nextLong();
            Path up = impaired ? PATHS.next(r) : Path.CLEAN;
            Path down = impaired ? PATHS.next(r) : Path.CLEAN;
            int clientBytes = payloadSize(r, largeMax);
            int serverBytes = payloadSize(r, largeMax);
            int maxWrite = logUniform(r, 65_536);
            int maxRead = logUniform(r, 65_536);
            int readRate = r.nextInt(5) == 0 ? 1_000 * logUniform(r, 100) : 0;
            int window = r.nextBoolean() ? TransportConfig.DEFAULT.receiveWindow()
                    : TransportConfig.MIN_WINDOW_BYTES + r.nextInt(1 << 20);
            CongestionControl cc = CONTROLLERS[r.nextInt(CONTROLLERS.length)];
            int datagram = r.nextInt(5) == 0 ? 1200 + r.nextInt(1472 - 1200 + 1) : 1200;
            if (!impaired) {
                int delayMs = r.nextInt(151);
                up = new Path(delayMs, 0, 0, 0, 0, 0, 0, 0, 0, 64);
                down = up;
            }
            return new TransferScenario(seed, up, down, clientBytes, serverBytes, maxWrite, maxRead, readRate,
                    window, cc, datagram);
        };
    }

    static final Shrinker<Path> PATH_SHRINKER = Shrinker.byFields(Path.class)
            .field(Path::lossPercent, Shrinker.doublesToward(0), (p, v) -> new Path(p.delayMs, p.jitterMs, v,
                    p.burstEnterPercent, p.burstExitPercent, p.duplicationPercent, p.reorderPercent,
                    p.reorderDelayMs, p.bandwidthMbps, p.queueKiB))
            .field(Path::burstEnterPercent, Shrinker.doublesToward(0), (p, v) -> new Path(p.delayMs, p.jitterMs,
                    p.lossPercent, v, v == 0 ? 0 : p.burstExitPercent, p.duplicationPercent, p.reorderPercent,
                    p.reorderDelayMs, p.bandwidthMbps, p.queueKiB))
            .field(Path::duplicationPercent, Shrinker.doublesToward(0), (p, v) -> new Path(p.delayMs, p.jitterMs,
                    p.lossPercent, p.burstEnterPercent, p.burstExitPercent, v, p.reorderPercent, p.reorderDelayMs,
                    p.bandwidthMbps, p.queueKiB))
            .field(Path::reorderPercent, Shrinker.doublesToward(0), (p, v) -> new Path(p.delayMs, p.jitterMs,
                    p.lossPercent, p.burstEnterPercent, p.burstExitPercent, p.duplicationPercent, v,
                    v == 0 ? 0 : p.reorderDelayMs, p.bandwidthMbps, p.queueKiB))
            .field(Path::jitterMs, Shrinker.intsToward(0), (p, v) -> new Path(p.delayMs, v, p.lossPercent,
                    p.burstEnterPercent, p.burstExitPercent, p.duplicationPercent, p.reorderPercent,
                    p.reorderDelayMs, p.bandwidthMbps, p.queueKiB))
            .field(Path::bandwidthMbps, Shrinker.intsToward(0), (p, v) -> new Path(p.delayMs, p.jitterMs,
                    p.lossPercent, p.burstEnterPercent, p.burstExitPercent, p.duplicationPercent, p.reorderPercent,
                    p.reorderDelayMs, v, p.queueKiB))
            .field(Path::delayMs, Shrinker.intsToward(0), (p, v) -> new Path(v, p.jitterMs, p.lossPercent,
                    p.burstEnterPercent, p.burstExitPercent, p.duplicationPercent, p.reorderPercent,
                    p.reorderDelayMs, p.bandwidthMbps, p.queueKiB));

    static final Shrinker<TransferScenario> SHRINKER = Shrinker.byFields(TransferScenario.class)
            .field(TransferScenario::clientBytes, Shrinker.intsToward(0), (s, v) -> s.with(v, s.serverBytes))
            .field(TransferScenario::serverBytes, Shrinker.intsToward(0), (s, v) -> s.with(s.clientBytes, v))
            .field(TransferScenario::uplink, PATH_SHRINKER, (s, v) -> new TransferScenario(s.simSeed, v,
                    s.downlink, s.clientBytes, s.serverBytes, s.maxWriteChunk, s.maxReadChunk, s.readBytesPerMs,
                    s.receiveWindow, s.congestionControl, s.datagramSize))
            .field(TransferScenario::downlink, PATH_SHRINKER, (s, v) -> new TransferScenario(s.simSeed,
                    s.uplink, v, s.clientBytes, s.serverBytes, s.maxWriteChunk, s.maxReadChunk,
                    s.readBytesPerMs, s.receiveWindow, s.congestionControl, s.datagramSize))
            .field(TransferScenario::readBytesPerMs, Shrinker.intsToward(0), (s, v) -> new TransferScenario(
                    s.simSeed, s.uplink, s.downlink, s.clientBytes, s.serverBytes, s.maxWriteChunk,
                    s.maxReadChunk, v, s.receiveWindow, s.congestionControl, s.datagramSize));

    TransferScenario with(int clientBytes, int serverBytes) {
        return new TransferScenario(simSeed, uplink, downlink, clientBytes, serverBytes, maxWriteChunk,
                maxReadChunk, readBytesPerMs, receiveWindow, congestionControl, datagramSize);
    }

    byte[] clientPayload() {
        return payload(simSeed ^ 0x636C69656E74L, clientBytes);
    }

    byte[] serverPayload() {
        return payload(simSeed ^ 0x736572766572L, serverBytes);
    }

    private static byte[] payload(long seed, int size) {
        byte[] bytes = new byte[size];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    /** Settings for the scenario; timeouts are long so that only a stuck protocol, not bad luck, fails. */
    TransportConfig config() {
        return TransportConfig.builder()
                .receiveWindow(receiveWindow)
                .congestionControl(congestionControl)
                .maxDatagramSize(datagramSize)
                .connectionTimeout(Duration.ofSeconds(120))
                .idleTimeout(Duration.ofSeconds(300))
                .keepAliveInterval(Duration.ofSeconds(15))
                .handshakeTimeout(Duration.ofSeconds(120))
                .build();
    }

    boolean clean() {
        return uplink.clean() && downlink.clean();
    }

    @Override
    public String toString() {
        return "TransferScenario{seed=" + simSeed + ", up " + uplink + ", down " + downlink + ", bytes "
                + clientBytes + " up / " + serverBytes + " down, writes <= " + maxWriteChunk + ", reads <= "
                + maxReadChunk + (readBytesPerMs > 0 ? ", reader " + readBytesPerMs + " B/ms" : "") + ", window "
                + receiveWindow + ", " + congestionControl + ", datagram " + datagramSize + "}";
    }
}
