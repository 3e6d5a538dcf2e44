package dev.pinhole.punch.nat;

import dev.pinhole.core.time.TimerService;
import dev.pinhole.protocol.stun.BindingOutcome;
import dev.pinhole.protocol.stun.BindingRequest;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunResponseHandler;
import dev.pinhole.protocol.stun.StunTransaction;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import dev.pinhole.protocol.stun.StunTransactionFailure;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Estimates how long a NAT keeps an idle UDP binding (RFC 5780 §4.6). Slow by nature: every probe
 * waits out the idle time it tests, so run it only when asked.
 *
 * <p>A probe of idle time T: socket X sends a Binding request (test I) to the server, which
 * creates or refreshes X's binding and tells X its mapped port; X then stays silent for T. After
 * T, socket Y, behind the same NAT, sends a Binding request with RESPONSE-PORT set to X's mapped
 * port; the server answers to that port of the NAT's address. If X receives the answer, the
 * binding outlived T. X's binding was made towards the server's primary address, so the answer,
 * which comes from there, passes any filtering.
 *
 * <p>The search doubles T from {@code firstProbeNs} until a binding is found expired (or
 * {@code maxNs} is reached), then bisects between the longest idle time survived and the shortest
 * not survived until they are {@code resolutionNs} apart. The idle time is counted from the
 * arrival of test I's answer to the sending of Y's request, so the true lifetime is longer by
 * about one and a half round trips. A lost probe request is retried on the probe timing; a probe
 * whose every request is lost reads as "expired".
 *
 * <p>X and Y must be on the same event loop; X's client must receive X's datagrams. Y needs
 * no receiver (its answers go to X), but it does no harm to have one.
 */
final class BindingLifetimeDiscovery {

    /**
     * @param firstProbeNs first idle time tried, nanoseconds
     * @param maxNs        longest idle time tried; a binding surviving it is reported as such
     * @param resolutionNs stop when the lifetime is known to within this, nanoseconds
     * @param probeTiming  timing of Y's probes, or null for {@link NatDiscoveryConfig#DEFAULT_PROBE_TIMING}
     */
    public record Options(long firstProbeNs, long maxNs, long resolutionNs, StunTransactionConfig probeTiming) {
        /** From 15 s up to 10 minutes (beyond RFC 4787 REQ-5's 2 minutes), to within 5 s. */
        public static final Options DEFAULT = new Options(15_000_000_000L, 600_000_000_000L, 5_000_000_000L, null);

        public Options {
            if (firstProbeNs <= 0 || maxNs < firstProbeNs || resolutionNs <= 0) {
                throw new IllegalArgumentException("need 0 < firstProbeNs <= maxNs and resolutionNs > 0, got "
                    + firstProbeNs + ", " + maxNs + ", " + resolutionNs);
            }
        }
    }

    /**
     * What the search found.
     *
     * @param survivedNs longest idle time after which the binding still worked (0 if none was)
     * @param expiredNs  shortest idle time after which it was gone, or -1 if it survived {@code maxNs}
     * @param probes     probes run
     * @param supported  false if the server does not honour RESPONSE-PORT (then nothing was measured)
     * @param elapsedNs  how long the search took
     */
    public record Result(long survivedNs, long expiredNs, int probes, boolean supported, long elapsedNs) {
        /** Whether the binding outlived the longest idle time tried. */
        public boolean survivedMax() {
            return supported && expiredNs < 0;
        }
    }

    private final StunClient x;
    private final StunClient y;
    private final InetSocketAddress server;
    private final Options options;
    private final BindingRequest testI;
    private final StunTransactionConfig probeTiming;
    private final CompletableFuture<Result> result = new CompletableFuture<>();
    private final long startNs;
    private long survivedNs;
    private long expiredNs = -1;
    private int probes;
    private long idleNs;
    private long timerId = TimerService.NO_TIMER;
    private ProbeHandlers current;

    private BindingLifetimeDiscovery(StunClient x, StunClient y, InetSocketAddress server, Options options) {
        this.x = x;
        this.y = y;
        this.server = server;
        this.options = options;
        this.testI = BindingRequest.DEFAULT.withSoftware("pinhole");
        this.probeTiming = options.probeTiming() != null ? options.probeTiming() : NatDiscoveryConfig.DEFAULT_PROBE_TIMING;
        this.startNs = x.endpoint().clock().nanoTime();
        this.idleNs = options.firstProbeNs();
    }

    /**
     * Starts the search on the clients' event loop; the future completes there. It fails
     * exceptionally if test I gets no answer (nothing can be measured without a mapping).
     * Cancelling the future stops the search.
     *
     * @param x the socket whose binding is measured
     * @param y a second socket behind the same NAT, which asks the server to answer to x
     */
    public static CompletableFuture<Result> discover(StunClient x, StunClient y, InetSocketAddress server,
                                                     Options options) {
        BindingLifetimeDiscovery discovery = new BindingLifetimeDiscovery(Objects.requireNonNull(x, "x"),
            Objects.requireNonNull(y, "y"), Objects.requireNonNull(server, "server"), Objects.requireNonNull(options, "options"));
        discovery.stopWhenCancelled();
        discovery.probe();
        return discovery.result;
    }

    /** Refreshes X's binding with test I, then waits {@link #idleNs}. */
    private void probe() {
        probes++;
        x.binding(server, testI).whenComplete((outcome, failure) -> guarded(() -> {
            if (failure != null) {
                throw new IllegalStateException("test I failed", failure);
            }
            if (!(outcome instanceof BindingOutcome.Success success)) {
                throw new IllegalStateException("no binding to measure: test I to " + server + " ended with " + outcome);
            }
            int mappedPort = success.mappedAddress().getPort();
            long deadlineNs = x.endpoint().clock().nanoTime() + idleNs;
            timerId = x.endpoint().timers().schedule(deadlineNs, (nowNs, id) -> guarded(() -> askViaY(mappedPort)));
        }));
    }

    /** After the idle time: Y asks the server to answer to X's mapped port; X waits for it. */
    private void askViaY(int mappedPort) {
        timerId = TimerService.NO_TIMER;
        ProbeHandlers handlers = new ProbeHandlers();
        handlers.viaY = y.request(server, StunMessageType.METHOD_BINDING, writer -> writer
            .addUInt32(StunAttributeType.RESPONSE_PORT, mappedPort << 16)
            .addString(StunAttributeType.SOFTWARE, "pinhole")
            .addFingerprint(), probeTiming, handlers.atY);
        handlers.atX = x.expectResponse(handlers.viaY.id(), StunMessageType.METHOD_BINDING, handlers.xHandler);
        current = handlers;
    }

    /** The two ends of one probe: the request's transaction at Y and the wait at X. */
    private final class ProbeHandlers {
        StunTransaction viaY;
        StunTransaction atX;

        final StunResponseHandler xHandler = new StunResponseHandler() {
            @Override
            public boolean onResponse(StunReader response, InetSocketAddress source, long nowNs) {
                if (response.messageClass() != StunClass.SUCCESS_RESPONSE) {
                    return false;
                }
                viaY.cancel();
                guarded(() -> verdict(true));
                return true;
            }

            @Override
            public void onFailure(StunTransactionFailure failure, long nowNs) {
                guarded(() -> abort(failure));
            }
        };

        final StunResponseHandler atY = new StunResponseHandler() {
            @Override
            public boolean onResponse(StunReader response, InetSocketAddress source, long nowNs) {
                // The server answered Y itself: it does not do RESPONSE-PORT (likely a 420).
                atX.cancel();
                guarded(() -> unsupported());
                return true;
            }

            @Override
            public void onFailure(StunTransactionFailure failure, long nowNs) {
                atX.cancel();
                guarded(() -> {
                    if (failure == StunTransactionFailure.TIMED_OUT) {
                        verdict(false);
                    } else {
                        abort(failure);
                    }
                });
            }
        };
    }

    private void verdict(boolean survived) {
        if (survived) {
            survivedNs = idleNs;
        } else {
            expiredNs = idleNs;
        }
        if (expiredNs < 0) {
            if (survivedNs >= options.maxNs()) {
                finish(true);
                return;
            }
            idleNs = Math.min(2 * idleNs, options.maxNs());
        } else {
            if (expiredNs - survivedNs <= options.resolutionNs()) {
                finish(true);
                return;
            }
            idleNs = survivedNs + (expiredNs - survivedNs) / 2;
        }
        probe();
    }

    private void unsupported() {
        finish(false);
    }

    private void abort(StunTransactionFailure failure) {
        result.completeExceptionally(new IllegalStateException("binding lifetime probe ended: " + failure));
    }

    private void finish(boolean supported) {
        result.complete(new Result(survivedNs, supported ? expiredNs : -1, probes, supported,
            x.endpoint().clock().nanoTime() - startNs));
    }

    /** Cancelling the result stops the search: its timer and the transactions of the current probe. */
    private void stopWhenCancelled() {
        result.whenComplete((done, failure) -> {
            if (!result.isCancelled()) {
                return;
            }
            if (timerId != TimerService.NO_TIMER) {
                x.endpoint().timers().cancel(timerId);
                timerId = TimerService.NO_TIMER;
            }
            if (current != null) {
                current.viaY.cancel();
                current.atX.cancel();
            }
        });
    }

    private void guarded(Runnable step) {
        if (result.isDone()) {
            return;
        }
        try {
            step.run();
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
    }
}
