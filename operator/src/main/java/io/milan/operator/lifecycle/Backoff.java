package io.milan.operator.lifecycle;

import io.milan.api.RestartPolicy;
import java.time.Duration;
import java.time.Instant;

/** Delays: before gang restart number n, and between creates the API server keeps refusing. */
public final class Backoff {
    /** The first retries of a refused create come this soon: a quota freed by hand is noticed quickly. */
    public static final Duration FIRST_REFUSAL_RETRY = Duration.ofSeconds(5);
    /** ... and never further apart than this (a refusal that lasts hours costs 12 requests an hour). */
    public static final Duration MAX_REFUSAL_RETRY = Duration.ofMinutes(5);

    private Backoff() {
    }

    /** Gang restart number n (1-based): backoffSeconds x 2^(n-1), at most maxBackoffSeconds. */

    public static Duration delay(RestartPolicy policy, int restartNumber) {
        RestartPolicy p = policy != null ? policy : new RestartPolicy();
        long base = p.backoffSeconds;
        long cap = p.maxBackoffSeconds;
        int doublings = Math.min(Math.max(restartNumber - 1, 0), 30);
        long seconds = Math.min(cap, base << doublings);
        return Duration.ofSeconds(Math.max(0, seconds));
    }

    /**
     * The wait before sending a refused create again, as long as the refusals have lasted (so the delays double:
     * 5, 5, 10, 20, 40 s, ...), between {@link #FIRST_REFUSAL_RETRY} and {@link #MAX_REFUSAL_RETRY}. Derived from
     * the first refusal's time, which the run's status keeps, so an operator restart does not start over.
     */
    public static Duration refusedCreate(Instant firstRefusal, Instant now) {
        Duration refusedFor = Duration.between(firstRefusal, now);
        if (refusedFor.compareTo(FIRST_REFUSAL_RETRY) < 0) {
            return FIRST_REFUSAL_RETRY;
        }
        return refusedFor.compareTo(MAX_REFUSAL_RETRY) > 0 ? MAX_REFUSAL_RETRY : refusedFor;
    }
}
