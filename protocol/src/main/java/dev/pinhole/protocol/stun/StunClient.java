package dev.pinhole.protocol.stun;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.random.RandomGenerator;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * The STUN client of one {@link DatagramEndpoint}: runs any number of concurrent transactions
 * (RFC 8489 §6.2.1 retransmissions on the endpoint's timers) and matches the responses that the
 * node's demultiplexer hands to {@link #handle}. It runs unchanged on the real UDP event loop and
 * on the simulator, because it only uses the endpoint's clock, timers, allocator and send.
 *
 * <p><b>Matching.</b> Responses are matched by transaction id and method alone, whatever their
 * source address: RFC 5780 servers answer CHANGE-REQUEST from their alternate address, and a
 * client behind a NAT cannot know every address a server owns. The source is passed to the
 * handler, which records it. This is safe against off-path forgery because ids are 96 random bits
 * from a {@link SecureRandom} by default (RFC 8489 §6 asks for cryptographically random ids); an
 * on-path attacker can forge any unauthenticated response anyway, which MESSAGE-INTEGRITY exists
 * to stop. Pending transactions live in a primitive map keyed by the id's first 64 bits; the last
 * 32 are compared on lookup, and a new id whose first 64 bits are already pending is redrawn.
 *
 * <p><b>Event loop.</b> Every method must be called on the endpoint's event loop. Malformed and
 * unmatched datagrams are counted and dropped; nothing is thrown out of {@link #handle}.
 */
public final class StunClient implements DatagramReceiver {
    private final DatagramEndpoint endpoint;
    private final StunTransactionConfig defaults;
    private final RandomGenerator random;
    private final StunReader reader = new StunReader();
    private final StunWriter writer = new StunWriter();
    private final Long2ObjectHashMap<StunTransaction> pending = new Long2ObjectHashMap<>();
    private final long[] malformed = new long[StunParseResult.values().length];
    private long unmatchedResponses;
    private long rejectedResponses;
    private long retransmissions;
    private long sendFailures;
    private long notForUs;
    private boolean closed;

    /** A client with RFC 8489 default timing and cryptographically random transaction ids. */
    public StunClient(DatagramEndpoint endpoint) {
        this(endpoint, StunTransactionConfig.DEFAULT, new SecureRandom());
    }

    /**
     * @param defaults timing of transactions that do not bring their own
     * @param random   source of transaction ids: a {@link SecureRandom} in production, a seeded
     *                 generator in simulations so that runs replay
     */
    public StunClient(DatagramEndpoint endpoint, StunTransactionConfig defaults, RandomGenerator random) {
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.defaults = Objects.requireNonNull(defaults, "defaults");
        this.random = Objects.requireNonNull(random, "random");
    }

    public DatagramEndpoint endpoint() {
        return endpoint;
    }

    public StunTransactionConfig defaults() {
        return defaults;
    }

    /** Starts a request with the client's default timing; see {@link #request(InetSocketAddress, int, StunRequestBody, StunTransactionConfig, StunResponseHandler)}. */
    public StunTransaction request(InetSocketAddress destination, int method, StunRequestBody body,
                                  StunResponseHandler handler) {
        return request(destination, method, body, defaults, handler);
    }

    /**
     * Encodes a request of {@code method} with a fresh transaction id, sends it to
     * {@code destination} and retransmits it on {@code timing}'s schedule until the handler
     * accepts a response or the transaction fails.
     *
     * @param body writes the attributes (it may end with MESSAGE-INTEGRITY and FINGERPRINT)
     * @throws IllegalStateException if the client is closed
     */
    public StunTransaction request(InetSocketAddress destination, int method, StunRequestBody body,
                                  StunTransactionConfig timing, StunResponseHandler handler) {
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(timing, "timing");
        Objects.requireNonNull(handler, "handler");
        if (closed) {
            throw new IllegalStateException("the STUN client is closed");
        }
        TransactionId id;
        do {
            id = TransactionId.random(random);
        } while (pending.containsKey(id.high()));
        ByteBuf request = endpoint.allocator().buffer(128);
        try {
            writer.begin(request, StunMessageType.of(method, StunClass.REQUEST), id);
            body.write(writer);
            writer.finish();
        } catch (RuntimeException e) {
            request.release();
            throw e;
        }
        StunTransaction transaction = new StunTransaction(this, id, method, destination, timing, handler, request,
            endpoint.clock().nanoTime());
        pending.put(id.high(), transaction);
        transaction.start();
        return transaction;
    }

    /**
     * Waits for responses to a request that was sent from elsewhere but answered here: RFC 5780
     * §4.6 sends a request from one socket with RESPONSE-PORT naming another. The returned
     * transaction sends nothing and has no timer; it ends when {@code handler} accepts a response
     * or when it is cancelled, which the caller must do when it stops waiting.
     *
     * @throws IllegalStateException if the client is closed or already waits for an id with the
     *     same first 64 bits
     */
    public StunTransaction expectResponse(TransactionId id, int method, StunResponseHandler handler) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(handler, "handler");
        if (closed) {
            throw new IllegalStateException("the STUN client is closed");
        }
        if (pending.containsKey(id.high())) {
            throw new IllegalStateException("a transaction with id " + id + " is already pending");
        }
        StunTransaction transaction = new StunTransaction(this, id, method, null, defaults, handler, null,
            endpoint.clock().nanoTime());
        pending.put(id.high(), transaction);
        return transaction;
    }

    /**
     * A Binding request (RFC 8489 §3) as a future. Completes on the event loop with
     * {@link BindingOutcome.Success}, {@link BindingOutcome.ErrorResponse},
     * {@link BindingOutcome.OwnRequestReceived} or {@link BindingOutcome.Failed}; never
     * exceptionally for network reasons. Cancelling the future cancels the transaction.
     */
    public CompletableFuture<BindingOutcome> binding(InetSocketAddress server, BindingRequest options) {
        BindingHandler handler = new BindingHandler(options);
        StunTransaction transaction = request(server, StunMessageType.METHOD_BINDING, options,
            options.timing() != null ? options.timing() : defaults, handler);
        handler.transaction = transaction;
        handler.future.whenComplete((outcome, failure) -> {
            if (handler.future.isCancelled()) {
                transaction.cancel();
            }
        });
        return handler.future;
    }

    /** A plain Binding request: {@code binding(server, BindingRequest.DEFAULT)}. */
    public CompletableFuture<BindingOutcome> binding(InetSocketAddress server) {
        return binding(server, BindingRequest.DEFAULT);
    }

    /** {@link DatagramReceiver} for an endpoint this client has to itself; see {@link #handle}. */
    @Override
    public void onDatagram(ByteBuf datagram, InetSocketAddress sender) {
        if (!handle(datagram, sender)) {
            notForUs++;
        }
    }

    /**
     * Offers a datagram the demultiplexer classified as STUN (first byte 0–3). Never throws for
     * any content.
     *
     * @return true if the client consumed it: a response or looped-back request of a pending
     *     transaction, or a malformed or unmatched response it counted and dropped; false for a
     *     well-formed request or indication that is not ours (another STUN user may want it, e.g.
     *     a connectivity-check responder)
     */
    public boolean handle(ByteBuf datagram, InetSocketAddress sender) {
        StunParseResult result = reader.wrap(datagram);
        if (result != StunParseResult.OK && result != StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED) {
            malformed[result.ordinal()]++;
            return true;
        }
        StunClass messageClass = reader.messageClass();
        StunTransaction transaction = pending.get(reader.transactionIdHigh());
        if (transaction != null && transaction.id().low() != reader.transactionIdLow()) {
            transaction = null;
        }
        if (!messageClass.isResponse()) {
            if (transaction == null || messageClass != StunClass.REQUEST || result != StunParseResult.OK) {
                return false;
            }
            // Our own request came back (RFC 5780 §4.5 hairpinning test).
            if (transaction.handler().onOwnRequest(sender, now())) {
                transaction.finish();
            }
            return true;
        }
        if (transaction == null || reader.method() != transaction.method()) {
            unmatchedResponses++;
            return true;
        }
        long nowNs = now();
        if (result == StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED) {
            malformed[result.ordinal()]++;
            transaction.finish();
            transaction.handler().onFailure(StunTransactionFailure.UNKNOWN_ATTRIBUTE_IN_RESPONSE, nowNs);
            return true;
        }
        if (transaction.handler().onResponse(reader, sender, nowNs)) {
            if (!transaction.isDone()) {
                transaction.finish();
            }
        } else {
            rejectedResponses++;
        }
        return true;
    }

    /** Transactions still waiting for a response. */
    public int pendingCount() {
        return pending.size();
    }

    /** Datagrams dropped because they did not parse, by reason. */
    public long malformedCount(StunParseResult reason) {
        return malformed[reason.ordinal()];
    }

    /** Well-formed responses that matched no pending transaction (late, duplicated, or forged). */
    public long unmatchedResponseCount() {
        return unmatchedResponses;
    }

    /** Matching responses a handler refused (for instance failed authentication). */
    public long rejectedResponseCount() {
        return rejectedResponses;
    }

    /** Requests sent again after an RTO expired. */
    public long retransmissionCount() {
        return retransmissions;
    }

    /** Requests the endpoint refused to send (full socket buffer, closed endpoint). */
    public long sendFailureCount() {
        return sendFailures;
    }

    /** Datagrams received through {@link #onDatagram} that were not ours (requests, indications). */
    public long notForUsCount() {
        return notForUs;
    }

    /** Fails every pending transaction with {@link StunTransactionFailure#CLOSED}; later requests are refused. */
    public void close() {
        closed = true;
        List<StunTransaction> all = new ArrayList<>(pending.values());
        long nowNs = now();
        for (StunTransaction transaction : all) {
            transaction.finish();
            transaction.handler().onFailure(StunTransactionFailure.CLOSED, nowNs);
        }
    }

    void send(ByteBuf datagram, InetSocketAddress destination) {
        if (!endpoint.send(datagram, destination)) {
            sendFailures++;
        }
    }

    void countRetransmission() {
        retransmissions++;
    }

    void remove(StunTransaction transaction) {
        StunTransaction current = pending.get(transaction.id().high());
        if (current == transaction) {
            pending.remove(transaction.id().high());
        }
    }

    private long now() {
        return endpoint.clock().nanoTime();
    }

    /** Turns a Binding transaction into a {@link BindingOutcome}. */
    private static final class BindingHandler implements StunResponseHandler {
        final CompletableFuture<BindingOutcome> future = new CompletableFuture<>();
        private final BindingRequest options;
        StunTransaction transaction;

        BindingHandler(BindingRequest options) {
            this.options = options;
        }

        @Override
        public boolean onResponse(StunReader response, InetSocketAddress source, long nowNs) {
            StunKey key = options.integrityKey();
            if (response.messageClass() == StunClass.ERROR_RESPONSE) {
                // An error response may lack integrity (the server could not authenticate us); if it has it, check it.
                if (key != null && (response.hasMessageIntegrity() || response.hasMessageIntegritySha256())
                    && response.verifyIntegrity(key) != StunParseResult.OK) {
                    return false;
                }
                int code = response.errorCode();
                String reason = response.errorReason();
                future.complete(new BindingOutcome.ErrorResponse(code, reason == null ? "" : reason, source));
                return true;
            }
            if (key != null && response.verifyIntegrity(key) != StunParseResult.OK) {
                return false;
            }
            InetSocketAddress mapped = response.xorMappedAddress();
            if (mapped == null) {
                // RFC 8489 §14.1: servers for RFC 3489 clients send MAPPED-ADDRESS only.
                mapped = response.findAddress(StunAttributeType.MAPPED_ADDRESS);
            }
            if (mapped == null) {
                return false;
            }
            future.complete(new BindingOutcome.Success(mapped, source,
                response.findAddress(StunAttributeType.RESPONSE_ORIGIN),
                response.findAddress(StunAttributeType.OTHER_ADDRESS),
                transaction.requestsSent(), nowNs - transaction.startNs()));
            return true;
        }

        @Override
        public boolean onOwnRequest(InetSocketAddress source, long nowNs) {
            if (!options.acceptOwnRequest()) {
                return false;
            }
            future.complete(new BindingOutcome.OwnRequestReceived(source, transaction.requestsSent(),
                nowNs - transaction.startNs()));
            return true;
        }

        @Override
        public void onFailure(StunTransactionFailure failure, long nowNs) {
            future.complete(new BindingOutcome.Failed(failure, transaction.requestsSent(), nowNs - transaction.startNs()));
        }
    }
}
