package dev.pinhole.testkit.netns;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Marks a test class or method that needs a {@link NetnsLab}: JUnit skips it, with the reason,
 * when this host cannot build one (not root, no iproute2 or iptables, namespaces forbidden).
 * Evaluated before {@code @BeforeAll}, so a class that builds its lab there is skipped cleanly.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(RequiresNetnsLab.Condition.class)
public @interface RequiresNetnsLab {
    /** The JUnit condition behind the annotation. */
    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            NetnsEnvironment.Probe probe = NetnsEnvironment.probe();
            return probe.available()
                    ? ConditionEvaluationResult.enabled("network namespace lab available")
                    : ConditionEvaluationResult.disabled(NetnsEnvironment.SKIP_MESSAGE
                            + " (" + probe.unavailableReason() + ")");
        }
    }
}
