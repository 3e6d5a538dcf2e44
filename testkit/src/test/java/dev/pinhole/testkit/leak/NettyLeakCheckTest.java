package dev.pinhole.testkit.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Leaks buffers on purpose and checks that the leak check sees them. Each leak carries a unique hint
 * ({@code touch(marker)}) and the test takes only the reports with its marker, so these deliberate leaks
 * never reach the extension's after-class check, and real leaks from other classes are left for it.
 */
// Registered explicitly too, so that the check is installed when this class runs outside Maven.
@ExtendWith(NettyLeakCheckExtension.class)
class NettyLeakCheckTest {

    private ResourceLeakDetector.Level levelBefore;
    private final String marker = "deliberate-leak-" + UUID.randomUUID();

    @BeforeEach
    void recordEveryAccess() {
        levelBefore = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @AfterEach
    void restoreLevel() {
        ResourceLeakDetector.setLevel(levelBefore);
    }

    @Test
    void checkIsInstalledBeforeNettyCreatesItsBufferDetector() {
        assertTrue(NettyLeakCheck.isEffective(), "the ByteBuf leak detector is the recording one");
    }

    @Test
    void unreleasedHeapBufferIsReportedWithItsAllocationSite() {
        leakOneBuffer(UnpooledByteBufAllocator.DEFAULT, marker);

        List<LeakReport> leaks = NettyLeakCheck.detectLeaks(this::isMine);

        assertEquals(1, leaks.size(), "expected exactly the one deliberate leak, got " + leaks);
        LeakReport leak = leaks.get(0);
        assertEquals("ByteBuf", leak.resourceType());
        assertTrue(leak.records().contains("leakOneBuffer"), "allocation site in the records: " + leak.records());
    }

    @Test
    void unreleasedPooledDirectBufferIsReported() {
        leakOneBuffer(PooledByteBufAllocator.DEFAULT, marker);

        assertEquals(1, NettyLeakCheck.detectLeaks(this::isMine).size(), "the deliberate pooled leak");
    }

    @Test
    void releasedBufferIsNotReported() {
        useAndReleaseOneBuffer(PooledByteBufAllocator.DEFAULT, marker);

        assertEquals(List.of(), NettyLeakCheck.detectLeaks(this::isMine));
    }

    @Test
    void assertNoLeaksFailsWithTheLeakRecords() {
        leakOneBuffer(UnpooledByteBufAllocator.DEFAULT, marker);

        AssertionError failure = assertThrows(AssertionError.class,
                () -> NettyLeakCheck.assertNoLeaks("NettyLeakCheckTest", this::isMine));

        String message = failure.getMessage();
        assertTrue(message.contains("after NettyLeakCheckTest, found 1 garbage-collected without release()"),
                message);
        assertTrue(message.contains("LEAK: ByteBuf.release() was not called"), message);
        assertTrue(message.contains(marker), message);
        assertEquals(List.of(), NettyLeakCheck.detectLeaks(this::isMine), "a reported leak is reported once");
    }

    @Test
    void assertNoLeaksPassesWhenEveryBufferWasReleased() {
        useAndReleaseOneBuffer(UnpooledByteBufAllocator.DEFAULT, marker);

        NettyLeakCheck.assertNoLeaks("NettyLeakCheckTest", this::isMine);
    }

    private boolean isMine(LeakReport report) {
        return report.records().contains(marker);
    }

    /** In its own frame, so that no local variable of the test keeps the buffer reachable. */
    private static void leakOneBuffer(ByteBufAllocator allocator, String marker) {
        ByteBuf buffer = allocator.directBuffer(64);
        buffer.writeLong(42);
        buffer.touch(marker);
    }

    private static void useAndReleaseOneBuffer(ByteBufAllocator allocator, String marker) {
        ByteBuf buffer = allocator.directBuffer(64);
        try {
            buffer.writeLong(42);
            buffer.touch(marker);
        } finally {
            buffer.release();
        }
    }
}
