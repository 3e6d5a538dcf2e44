package dev.pinhole.testkit.leak;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reports a leaked buffer (or other reference-counted resource) that was
 * garbage-collected without {@code release()}.
 *
 * <p>Registered for JUnit's extension auto-detection (META-INF/services), which the build switches on
 * with {@code junit.jupiter.extensions.autodetection.enabled = true}: every test class of every module
 * that has testkit on its test class path is checked, with no annotation. JUnit instantiates
 * auto-detected extensions before it runs any test class, and loading this class installs the recording
 * detector factory ({@link NettyLeakCheck}), so it is in place before the first buffer is allocated.
 * Outside Maven (an IDE without that setting) it can be registered with
 * {@code @ExtendWith(NettyLeakCheckExtension.class)}.
 *
 * <p>After each test class it forces a garbage collection and fails with the leaks' access records
 * (allocation site included at {@code -Dio.netty.leakDetection.level=paranoid}, which Surefire sets).
 */
public final class NettyLeakCheckExtension implements BeforeAllCallback, AfterAllCallback {

    static {
        NettyLeakCheck.install();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!NettyLeakCheck.isEffective()) {
            throw new ExtensionConfigurationException("The Netty leak check cannot see ByteBuf leaks: Netty's"
                    + " buffer classes were initialised before " + NettyLeakCheckExtension.class.getSimpleName()
                    + " was loaded. Enable junit.jupiter.extensions.autodetection.enabled=true (the Maven build"
                    + " does), or make sure nothing allocates a buffer before JUnit registers the extension.");
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        NettyLeakCheck.assertNoLeaks(context.getTestClass().map(Class::getName).orElse(context.getDisplayName()));
    }
}
