package io.milan.operator.lifecycle;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;

/** Reads a Job's outcome from its conditions. */
public final class JobConditions {
    private JobConditions() {
    }

    public static boolean isComplete(Job job) {
        return has(job, "Complete");
    }

    /** Failed, or about to be (FailureTarget: the controller is terminating the remaining pods). */
    public static Optional<JobCondition> failure(Job job) {
        return conditions(job).stream()
                .filter(c -> "True".equals(c.getStatus())
                        && ("Failed".equals(c.getType()) || "FailureTarget".equals(c.getType())))
                .findFirst();
    }

    public static boolean isFinished(Job job) {
        return isComplete(job) || failure(job).isPresent();
    }

    public static boolean isSuspended(Job job) {
        return job.getSpec() != null && Boolean.TRUE.equals(job.getSpec().getSuspend());
    }

    /**
     * When the Job was last resumed: its Suspended condition turned False (the Job controller's "JobResumed"), e.g.
     * when Kueue admitted its Workload again after an eviction.
     */
    public static Optional<Instant> resumedAt(Job job) {
        return conditions(job).stream()
                .filter(c -> "Suspended".equals(c.getType()) && "False".equals(c.getStatus()))
                .findFirst().flatMap(c -> parse(c.getLastTransitionTime()));
    }

    /**
     * When the Job's pods were last let run: its status.startTime, which the Job controller sets when it starts the
     * Job and sets again when a suspended Job is resumed.
     */
    public static Optional<Instant> startedAt(Job job) {
        return job.getStatus() == null ? Optional.empty() : parse(job.getStatus().getStartTime());
    }

    /** When the Job was last suspended: its Suspended condition turned True (the Job controller's "JobSuspended"). */
    public static Optional<Instant> suspendedAt(Job job) {
        return conditions(job).stream()
                .filter(c -> "Suspended".equals(c.getType()) && "True".equals(c.getStatus()))
                .findFirst().flatMap(c -> parse(c.getLastTransitionTime()));
    }

    private static boolean has(Job job, String type) {
        return conditions(job).stream().anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static Optional<Instant> parse(String time) {
        try {
            return time == null ? Optional.empty() : Optional.of(Instant.parse(time));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static List<JobCondition> conditions(Job job) {
        if (job.getStatus() == null || job.getStatus().getConditions() == null) {
            return List.of();
        }
        return job.getStatus().getConditions();
    }
}
