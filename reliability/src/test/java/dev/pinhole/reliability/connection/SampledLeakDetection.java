package dev.pinhole.reliability.connection;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Switches Netty's leak detector from paranoid to sampling for one test class, and back afterwards.
 *
 * <p>Paranoid detection records a stack trace at every buffer access, which makes simulated transfers
 * of thousands of packets some fifty times slower. Classes using this extension allocate the
 * transport's buffers from an exactly counted allocator instead and assert that nothing is left after
 * each scenario ({@link SimTransfer#leakedBuffers()}), which is a stronger check than a report at garbage
 * collection; the simulator's own buffers are counted the same way.
 */
final class SampledLeakDetection implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SampledLeakDetection.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NAMESPACE).put("level", ResourceLeakDetector.getLevel());
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        ResourceLeakDetector.Level previous = context.getStore(NAMESPACE).get("level", ResourceLeakDetector.Level.class);
        ResourceLeakDetector.setLevel(previous);
    }
}
