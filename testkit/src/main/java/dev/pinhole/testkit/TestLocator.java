package dev.pinhole.testkit;

import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.junit.platform.commons.annotation.Testable;

/**
 * Finds the JUnit test method that is checking a property, to name it in the replay command.
 *
 * <p>Walks the calling thread's stack to the nearest method carrying an annotation that JUnit marks
 * {@link Testable} ({@code @Test}, {@code @ParameterizedTest}, {@code @RepeatedTest},
 * {@code @TestFactory}, {@code @TestTemplate}). This needs no extension, no injected parameter and no
 * configuration, and works through helper methods and lambdas (such as {@code assertThrows}) because the
 * test method is still below them on the stack. It cannot see the test when the property is checked on
 * another thread, and for a test method inherited from a superclass it names the declaring class.
 */
final class TestLocator {

    /** A test method, as Surefire's {@code -Dtest=Class#method} names it. */
    record TestMethod(String className, String methodName) {
        String surefireFilter() {
            return className + "#" + methodName;
        }
    }

    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    private TestLocator() {
    }

    static Optional<TestMethod> callingTest() {
        return WALKER.walk(frames -> frames
                .filter(TestLocator::isTestMethod)
                .findFirst()
                .map(frame -> new TestMethod(nameWithoutPackage(frame.getDeclaringClass()), frame.getMethodName())));
    }

    private static boolean isTestMethod(StackWalker.StackFrame frame) {
        String className = frame.getClassName();
        if (className.startsWith("java.") || className.startsWith("jdk.") || className.startsWith("org.junit.")) {
            return false;
        }
        Method method;
        try {
            method = frame.getDeclaringClass()
                    .getDeclaredMethod(frame.getMethodName(), frame.getMethodType().parameterArray());
        } catch (NoSuchMethodException constructorOrInitializer) {
            return false;
        }
        for (Annotation annotation : method.getAnnotations()) {
            if (isTestable(annotation.annotationType(), new HashSet<>())) {
                return true;
            }
        }
        return false;
    }

    /** {@code @Testable} directly or through meta-annotations ({@code @RepeatedTest} is a {@code @TestTemplate}). */
    private static boolean isTestable(Class<? extends Annotation> type, Set<Class<?>> visited) {
        if (type == Testable.class) {
            return true;
        }
        if (!visited.add(type) || type.getName().startsWith("java.lang.annotation.")) {
            return false;
        }
        for (Annotation meta : type.getAnnotations()) {
            if (isTestable(meta.annotationType(), visited)) {
                return true;
            }
        }
        return false;
    }

    /** The binary name without the package: {@code Outer$Nested} for a nested class. */
    private static String nameWithoutPackage(Class<?> type) {
        String packageName = type.getPackageName();
        return packageName.isEmpty() ? type.getName() : type.getName().substring(packageName.length() + 1);
    }
}
