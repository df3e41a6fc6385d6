package io.milan.operator.lifecycle;

import io.milan.api.RunStatus;
import io.milan.operator.status.Timestamps;
import java.time.Duration;
import java.time.Instant;

/**
 * The time a run's pod group has been admitted and unsuspended, which {@code spec.activeDeadlineSeconds} bounds:
 * queueing in Kueue, an eviction, {@code spec.suspend} and the wait between attempts do not count, as a Kubernetes
 * Job's deadline and a Kubeflow TrainJob's do not count a suspension. Kept in status ({@code activeSeconds}: the
 * stretches that ended; {@code activeSince}: the start of the current one), so a restarted operator goes on
 * counting where the last one stopped.
 */
public final class ActiveTime {
    private ActiveTime() {
    }

    /** A stretch of active time begins at {@code since} (at most {@code now}), unless one is already open. */
    public static void start(RunStatus s, Instant since, Instant now) {
        if (s.activeSince == null) {
            s.activeSince = Timestamps.format(since.isAfter(now) ? now : since);
        }
    }

    /** The open stretch, if any, ends at {@code at} (not before it began) and is added to activeSeconds. */
    public static void stop(RunStatus s, Instant at) {
        if (s.activeSince == null) {
            return;
        }
        Instant since = Timestamps.parse(s.activeSince);
        long seconds = at.isAfter(since) ? Duration.between(since, at).toSeconds() : 0;
        s.activeSeconds = (s.activeSeconds == null ? 0 : s.activeSeconds) + seconds;
        s.activeSince = null;
    }

    /** Active time so far, the open stretch counted up to {@code now}. */
    public static Duration total(RunStatus s, Instant now) {
        Duration ended = Duration.ofSeconds(s.activeSeconds == null ? 0 : s.activeSeconds);
        if (s.activeSince == null) {
            return ended;
        }
        Instant since = Timestamps.parse(s.activeSince);
        return now.isAfter(since) ? ended.plus(Duration.between(since, now)) : ended;
    }

    public static boolean isRunning(RunStatus s) {
        return s.activeSince != null;
    }
}
