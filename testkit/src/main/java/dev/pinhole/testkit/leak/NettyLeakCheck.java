package dev.pinhole.testkit.leak;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.ResourceLeakTracker;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * Turns Netty's leak reports into data a test can fail on.
 *
 * <p>Netty's {@link ResourceLeakDetector} only logs a leak, and only when it next polls its reference
 * queue (when a new buffer is tracked), which may be long after the test that leaked. This class
 * installs a {@link ResourceLeakDetectorFactory} whose detectors record every report (instead of
 * logging it), and {@link #detectLeaks} forces the detection: garbage-collect, wait until the collector has
 * enqueued its cleared references, and make every detector poll.
 *
 * <p>Netty creates the {@code ByteBuf} detector once, when {@code io.netty.buffer.AbstractByteBuf} is
 * initialised, through whatever factory is installed at that moment. So the factory must be installed
 * before any buffer is allocated in the JVM: loading this class does it, and
 * {@link NettyLeakCheckExtension} loads it when JUnit auto-detects extensions, before any test class
 * runs. {@link #isEffective()} tells whether that worked.
 */
public final class NettyLeakCheck {

    /** Cleared references are enqueued by a JVM thread after the collection; this bounds each wait for it. */
    private static final long GC_WAIT_MS = 200;
    /** Collections per wait: the explicit GC request may be ignored (-XX:+DisableExplicitGC) or partial. */
    private static final int GC_REQUESTS_PER_WAIT = 5;
    /**
     * Three rounds of collect-then-poll: the JVM enqueues the references cleared by one collection before
     * it starts on the next one's, so a leak cleared in round k is enqueued by the end of round k+1's wait.
     */
    private static final int DETECTION_ROUNDS = 3;
    /** How many leaks an assertion message prints in full (each can be dozens of stack frames). */
    private static final int LEAKS_PRINTED = 10;

    private static final Queue<LeakReport> REPORTS = new ConcurrentLinkedQueue<>();
    private static final List<RecordingDetector<?>> DETECTORS = new CopyOnWriteArrayList<>();
    private static final boolean BYTE_BUF_DETECTOR_IS_OURS;

    static {
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingDetectorFactory());
        BYTE_BUF_DETECTOR_IS_OURS = initialiseByteBufDetector();
    }

    private NettyLeakCheck() {
    }

    /** Installs the recording factory (by loading this class); idempotent. */
    public static void install() {
        // The static initialiser does the work; calling any static method runs it exactly once.
    }

    /**
     * Whether {@code ByteBuf} leaks are recorded: false when Netty's buffer classes were initialised
     * before this class was loaded, so their detector is Netty's default, which only logs.
     */
    public static boolean isEffective() {
        return BYTE_BUF_DETECTOR_IS_OURS;
    }

    /** Forces detection, then removes and returns every leak recorded so far. */
    public static List<LeakReport> detectLeaks() {
        return detectLeaks(report -> true);
    }

    /**
     * Forces detection, then removes and returns the recorded leaks that match {@code which}; the others
     * stay recorded for the next check.
     */
    public static List<LeakReport> detectLeaks(Predicate<? super LeakReport> which) {
        for (int round = 0; round < DETECTION_ROUNDS; round++) {
            collectGarbage();
            for (RecordingDetector<?> detector : DETECTORS) {
                detector.poll();
            }
        }
        List<LeakReport> found = new ArrayList<>();
        for (Iterator<LeakReport> it = REPORTS.iterator(); it.hasNext(); ) {
            LeakReport report = it.next();
            if (which.test(report)) {
                found.add(report);
                it.remove();
            }
        }
        return found;
    }

    /** Fails, naming {@code where}, if {@link #detectLeaks} finds any leak. */
    public static void assertNoLeaks(String where) {
        assertNoLeaks(where, report -> true);
    }

    static void assertNoLeaks(String where, Predicate<? super LeakReport> which) {
        List<LeakReport> leaks = detectLeaks(which);
        if (leaks.isEmpty()) {
            return;
        }
        String nl = System.lineSeparator();
        StringBuilder message = new StringBuilder()
                .append("Expected no leaked Netty resources after ").append(where).append(", found ")
                .append(leaks.size()).append(" garbage-collected without release()")
                .append(" (a leak found here may come from a test class that ran earlier; see where it was created):");
        for (int i = 0; i < Math.min(LEAKS_PRINTED, leaks.size()); i++) {
            message.append(nl).append(nl).append('#').append(i + 1).append(' ').append(leaks.get(i));
        }
        if (leaks.size() > LEAKS_PRINTED) {
            message.append(nl).append(nl).append("... and ").append(leaks.size() - LEAKS_PRINTED).append(" more");
        }
        throw new AssertionError(message.toString());
    }

    /** Runs a collection and waits until its cleared weak references have been enqueued. */
    private static void collectGarbage() {
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
        try {
            for (int i = 0; i < GC_REQUESTS_PER_WAIT; i++) {
                System.gc();
                if (queue.remove(GC_WAIT_MS) != null) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Reference.reachabilityFence(sentinel);
        }
    }

    private static boolean initialiseByteBufDetector() {
        try {
            Class.forName("io.netty.buffer.AbstractByteBuf", true, NettyLeakCheck.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("netty-buffer is not on the class path", e);
        }
        for (RecordingDetector<?> detector : DETECTORS) {
            if (detector.typeName.equals("ByteBuf")) {
                return true;
            }
        }
        return false;
    }

    private static final class RecordingDetectorFactory extends ResourceLeakDetectorFactory {

        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
            RecordingDetector<T> detector = new RecordingDetector<>(resource, samplingInterval);
            DETECTORS.add(detector);
            return detector;
        }

        /** Netty's deprecated abstract variant; {@code maxActive} has no effect in Netty 4.2 either. */
        @Override
        @Deprecated
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(
                Class<T> resource, int samplingInterval, long maxActive) {
            return newResourceLeakDetector(resource, samplingInterval);
        }
    }

    private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {

        /** Tracked and closed again by {@link #poll()}; never leaks. */
        private static final Object PROBE = new Object();

        private final String typeName;

        RecordingDetector(Class<T> resource, int samplingInterval) {
            super(resource, samplingInterval);
            this.typeName = resource.getSimpleName();
        }

        /** Report even when Netty's logger is off: the leak must fail the test, not only be logged. */
        @Override
        protected boolean needReport() {
            return true;
        }

        /**
         * Records instead of logging: the after-class check fails with these same records, and a log line
         * for each deliberate leak of the leak check's own tests would look like a problem in a green build.
         */
        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            REPORTS.add(new LeakReport(resourceType, records));
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            REPORTS.add(new LeakReport(resourceType, ""));
        }

        /**
         * Makes the detector drain its reference queue now: Netty polls only when it starts tracking
         * an object, so track a probe (forcibly, whatever the sampling level) and close it again.
         */
        void poll() {
            @SuppressWarnings("unchecked") // Erased: the detector never looks at the tracked object's type.
            T probe = (T) PROBE;
            ResourceLeakTracker<T> tracker = trackForcibly(probe);
            if (tracker != null) {
                tracker.close(probe);
            }
        }
    }
}
