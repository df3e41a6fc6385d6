package io.milan.testsupport;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
  * Polls a condition until it holds or a deadline passes. Tests use it instead of sleeping for a
  * guessed time: the wait ends as soon as the cluster reaches the expected state, and a timeout
  * fails with what was expected and what was last seen.
  */
public final class Await {
    private static final Duration INTERVAL = Duration.ofMillis(200);

    private Await() {}

    /**
      * Calls {@code probe} until its value satisfies {@code condition}; returns that value.
      *
      * @param what describes the expected state, for the failure message
      * @throws AssertionError when the timeout passes first, naming {@code what} and the last value
      */
    public static <T> T until(String what, Duration timeout, Supplier<T> probe, Predicate<? super T> condition) {
        Objects.requireNonNull(what, "what");
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        RuntimeException lastError = null;
        while (true) {
            try {
                last = probe.get();
                lastError = null;
                if (condition.test(last)) {
                    return last;
                }
            } catch (RuntimeException e) {
                lastError = e;
            }
            if (System.nanoTime() - deadline > 0) {
                AssertionError failure = new AssertionError(
                        "timed out after " + timeout.toSeconds() + " s waiting for " + what + "; last seen: "
                                + (lastError != null ? lastError : last));
                if (lastError != null) {
                    failure.initCause(lastError);
                }
                throw failure;
            }
            try {
                Thread.sleep(INTERVAL.toMillis()); // poll interval, not a timing guess
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + what, e);
            }
        }
    }
}
