package dev.pinhole.protocol.stun;

import dev.pinhole.core.time.TimerHandler;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;

/**
 * One STUN client transaction over UDP (RFC 8489 §6.2.1): a request, its retransmissions on the
 * RTO schedule of its {@link StunTransactionConfig}, and one outcome delivered to its
 * {@link StunResponseHandler}. Created by {@link StunClient#request}; confined to the endpoint's
 * event loop.
 */
public final class StunTransaction {
    private final StunClient client;
    private final TransactionId id;
    private final int method;
    private final InetSocketAddress destination;
    private final StunTransactionConfig config;
    private final StunResponseHandler handler;
    private final TimerHandler timer = this::onTimer;
    private final long startNs;
    private ByteBuf request;
    private int requestsSent;
    private long lastScheduledSendNs;
    private long intervalNs;
    private long timerId = TimerService.NO_TIMER;
    private boolean done;

    StunTransaction(StunClient client, TransactionId id, int method, InetSocketAddress destination,
                    StunTransactionConfig config, StunResponseHandler handler, ByteBuf request, long nowNs) {
        this.client = client;
        this.id = id;
        this.method = method;
        this.destination = destination;
        this.config = config;
        this.handler = handler;
        this.request = request;
        this.startNs = nowNs;
        this.lastScheduledSendNs = nowNs;
        this.intervalNs = config.rtoNs();
    }

    public TransactionId id() {
        return id;
    }

    /** The STUN method of the request. */
    public int method() {
        return method;
    }

    /** Where the request goes; null for a transaction that only waits ({@link StunClient#expectResponse}). */
    public InetSocketAddress destination() {
        return destination;
    }

    public StunTransactionConfig config() {
        return config;
    }

    /** Requests sent so far, the first included. */
    public int requestsSent() {
        return requestsSent;
    }

    /** When the first request was sent, on the endpoint's clock. */
    public long startNs() {
        return startNs;
    }

    public boolean isDone() {
        return done;
    }

    /** Stops the transaction without telling its handler; a no-op once it is done. */
    public void cancel() {
        if (!done) {
            finish();
        }
    }

    StunResponseHandler handler() {
        return handler;
    }

    /** Sends the first request and arms the first retransmission. */
    void start() {
        sendRequest();
        arm(lastScheduledSendNs + intervalNs);
    }

    private void onTimer(long nowNs, long firedId) {
        if (done || firedId != timerId) {
            return;
        }
        timerId = TimerService.NO_TIMER;
        if (requestsSent >= config.maxRequests()) {
            finish();
            handler.onFailure(StunTransactionFailure.TIMED_OUT, nowNs);
            return;
        }
        // Anchor on the scheduled time, not on when the timer ran, so late timers do not stretch the schedule.
        lastScheduledSendNs += intervalNs;
        intervalNs *= 2;
        sendRequest();
        client.countRetransmission();
        if (requestsSent < config.maxRequests()) {
            arm(lastScheduledSendNs + intervalNs);
        } else {
            arm(lastScheduledSendNs + config.rtoNs() * config.finalWaitRtoMultiple());
        }
    }

    private void sendRequest() {
        requestsSent++;
        client.send(request.retainedDuplicate(), destination);
    }

    private void arm(long deadlineNs) {
        timerId = client.endpoint().timers().schedule(deadlineNs, timer);
    }

    /** Ends the transaction: cancels its timer, frees its request and leaves the client's table. */
    void finish() {
        done = true;
        if (timerId != TimerService.NO_TIMER) {
            client.endpoint().timers().cancel(timerId);
            timerId = TimerService.NO_TIMER;
        }
        if (request != null) {
            request.release();
            request = null;
        }
        client.remove(this);
    }

    @Override
    public String toString() {
        return "StunTransaction[" + id + " to " + destination + ", " + requestsSent + " sent" + (done ? ", done]" : "]");
    }
}
