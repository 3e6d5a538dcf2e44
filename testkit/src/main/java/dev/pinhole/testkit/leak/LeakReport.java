package dev.pinhole.testkit.leak;

/**
 * One leak Netty's detector found: a reference-counted object that was garbage-collected without its
 * final {@code release()}.
 *
 * @param resourceType the leaked type as Netty names it, e.g. {@code ByteBuf}
 * @param records the access records (allocation site, touches, last uses); empty unless the leak
 *     detection level is {@code advanced} or {@code paranoid}
 */
public record LeakReport(String resourceType, String records) {

    @Override
    public String toString() {
        return "LEAK: " + resourceType + ".release() was not called before it was garbage-collected."
                + (records.isEmpty()
                        ? " Run with -Dio.netty.leakDetection.level=paranoid to see where it was allocated."
                        : records);
    }
}
