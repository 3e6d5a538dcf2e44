package dev.pinhole.core;

import org.agrona.DeadlineTimerWheel;

/**
 * Checks the JVM for what Pinhole needs before it is needed, so that a misconfigured JVM fails with
 * one message that says what to do, not with a {@code NoClassDefFoundError} deep inside a library.
 *
 * <p>Agrona 2.x reaches {@code jdk.internal.misc.Unsafe} for its buffers and queues (its timer wheel
 * and collections do not), and Java 17 only allows that when {@code java.base} exports
 * {@code jdk.internal.misc} to Agrona's module. Every class of Pinhole that creates an Agrona buffer or
 * queue calls {@link #requireAgronaAccess()} first.
 */
public final class Platform {
    /** The command-line flag that grants the access when Agrona is on the class path. */
    public static final String ADD_EXPORTS_FLAG = "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED";
    /** The manifest attribute of an executable jar that grants the same access. */
    public static final String ADD_EXPORTS_MANIFEST_ATTRIBUTE = "Add-Exports: java.base/jdk.internal.misc";

    private static final String PACKAGE = "jdk.internal.misc";

    private Platform() {
    }

    /** Whether {@code java.base} exports {@code jdk.internal.misc} to the module Agrona was loaded in. */
    public static boolean agronaAccessible() {
        // A class literal loads DeadlineTimerWheel without initialising it; it touches no Unsafe.
        return Object.class.getModule().isExported(PACKAGE, DeadlineTimerWheel.class.getModule());
    }

    /**
     * Returns normally if Agrona's buffers and queues can work in this JVM.
     *
     * @throws IllegalStateException naming the JVM flag or manifest attribute that fixes it
     */
    public static void requireAgronaAccess() {
        if (agronaAccessible()) {
            return;
        }
        final Module agrona = DeadlineTimerWheel.class.getModule();
        final String flag = agrona.isNamed()
            ? "--add-exports java.base/jdk.internal.misc=" + agrona.getName()
            : ADD_EXPORTS_FLAG;
        throw new IllegalStateException("Pinhole needs java.base/" + PACKAGE
            + " exported to Agrona (its buffers and queues use jdk.internal.misc.Unsafe on Java 17+). "
            + "Start the JVM with " + flag
            + (agrona.isNamed() ? " (Agrona is the named module " + agrona.getName()
                + "; on the class path the flag is " + ADD_EXPORTS_FLAG + ")" : "")
            + ", or, for an executable jar, add the manifest attribute \"" + ADD_EXPORTS_MANIFEST_ATTRIBUTE
            + "\". Under Maven Surefire put the flag in <argLine>; for JMH forks in jvmArgs.");
    }
}
