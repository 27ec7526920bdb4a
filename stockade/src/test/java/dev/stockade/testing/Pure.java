package dev.stockade.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class that needs neither the natives nor the kernel's sandboxing features
 * (no sandbox, no JNI call, no user namespace, no root): parsers, encoders, generators.
 * Every other test is a kernel test. {@code mvn verify -Dgroups=pure} runs only these, and
 * {@code .ci/run} runs them once with the natives removed from the class path, so a class
 * marked here that does need them fails there.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag(Pure.TAG)
public @interface Pure {
    /** The JUnit tag: {@code -Dgroups=pure}, {@code --include-tag pure}. */
    String TAG = "pure";
}
