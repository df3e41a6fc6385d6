package io.milan.operator.lifecycle;

import io.milan.api.RestartPolicy;
import java.time.Duration;

/** Delay before gang restart number n (1-based): backoffSeconds x 2^(n-1), at most maxBackoffSeconds. */
public final class Backoff {
    private Backoff() {
    }

    public static Duration delay(RestartPolicy policy, int restartNumber) {
        RestartPolicy p = policy != null ? policy : new RestartPolicy();
        long base = p.backoffSeconds;
        long cap = p.maxBackoffSeconds;
        int doublings = Math.min(Math.max(restartNumber - 1, 0), 30);
        long seconds = Math.min(cap, base << doublings);
        return Duration.ofSeconds(Math.max(0, seconds));
    }
}
