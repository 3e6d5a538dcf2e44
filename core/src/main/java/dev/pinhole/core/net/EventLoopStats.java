package dev.pinhole.core.net;

/**
 * A snapshot of a {@link UdpEventLoop}'s counters, all counted since the loop was built.
 *
 * <p>Each value was exact at some moment during {@link UdpEventLoop#stats()}; while traffic flows the
 * values are not one consistent cut (bytesReceived may already include a datagram that
 * datagramsReceived does not).
 *
 * @param datagramsReceived   datagrams read from the socket and handed to the receiver (or dropped for lack of one)
 * @param bytesReceived       payload bytes of those datagrams
 * @param datagramsSent       datagrams the socket accepted
 * @param bytesSent           payload bytes of those datagrams
 * @param sendDropsBufferFull sends dropped because the socket's send buffer was full
 * @param sendDropsOversize   sends dropped because the datagram exceeded the maximum datagram size
 * @param sendErrors          sends that failed with an I/O error, an unreachable or unsupported destination,
 *                            or on a closed loop
 * @param receiveDropsOversize datagrams read but dropped for exceeding the maximum datagram size
 * @param receiveDropsNoReceiver datagrams read while no receiver was installed
 * @param receiveErrors       reads from the socket that failed with an I/O error
 * @param receiverExceptions  exceptions thrown by the receiver (the loop carried on)
 * @param taskExceptions      exceptions thrown by tasks given to execute() (the loop carried on)
 * @param timerExceptions     exceptions thrown by timer handlers (the loop carried on)
 * @param tasksRun            tasks run on the loop
 * @param timersFired         timers fired on the loop
 * @param wakeUps             turns of the loop: returns from the selector, plus turns that did not sleep
 *                            because work was still pending. An idle loop adds none.
 * @param executeWaits        execute() calls that found the task queue full and had to wait
 * @param executeRejections   execute() calls rejected because the queue stayed full past the timeout
 */
public record EventLoopStats(
    long datagramsReceived,
    long bytesReceived,
    long datagramsSent,
    long bytesSent,
    long sendDropsBufferFull,
    long sendDropsOversize,
    long sendErrors,
    long receiveDropsOversize,
    long receiveDropsNoReceiver,
    long receiveErrors,
    long receiverExceptions,
    long taskExceptions,
    long timerExceptions,
    long tasksRun,
    long timersFired,
    long wakeUps,
    long executeWaits,
    long executeRejections) {
}
