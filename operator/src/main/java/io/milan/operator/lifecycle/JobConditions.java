package io.milan.operator.lifecycle;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Objects;
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
                .filter(c -> "Suspended".equals(c.getType()) && "False".equals(c.getStatus())
                        && c.getLastTransitionTime() != null)
                .map(c -> {
                    try {
                        return Instant.parse(c.getLastTransitionTime());
                    } catch (DateTimeParseException e) {
                        return null;
                    }
                })
                .filter(Objects::nonNull)
                .findFirst();
    }

    private static boolean has(Job job, String type) {
        return conditions(job).stream().anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static List<JobCondition> conditions(Job job) {
        if (job.getStatus() == null || job.getStatus().getConditions() == null) {
            return List.of();
        }
        return job.getStatus().getConditions();
    }
}
