package dev.pinhole.core.time;

/** Called on the owning event loop when a timer scheduled with {@link TimerService} expires. */
@FunctionalInterface
public interface TimerHandler {
    /**
     * @param nowNs   the time of expiry as the driver's clock reads it (at or after the deadline)
     * @param timerId the id {@link TimerService#schedule} returned
     */
    void onTimer(long nowNs, long timerId);
}
