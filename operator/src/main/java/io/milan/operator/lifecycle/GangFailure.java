package io.milan.operator.lifecycle;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Why a pod group failed: the first failed pod (lowest name) with its container's termination reason, exit code
 * and termination message (the trainer's summary, or the log tail), or the Job's own failure condition. A pod that
 * a disruption ended (see {@link #isDisruption}) is no failure of the gang.
 */
public record GangFailure(String podName, String summary) {
    private static final int MAX_DETAIL = 400;
    /** What a container without a SIGTERM handler (the trainer's JVM) exits with when its pod is deleted. */
    public static final int SIGTERM_EXIT = 143;

    /** The failure of this attempt's pod group, if it failed. */
    public static Optional<GangFailure> detect(Job job, List<Pod> pods) {
        Optional<Pod> failedPod = pods.stream()
                .filter(p -> p.getStatus() != null && "Failed".equals(p.getStatus().getPhase()))
                .filter(p -> !isDisruption(job, p))
                .min(Comparator.comparing(p -> p.getMetadata().getName()));
        if (failedPod.isPresent()) {
            return Optional.of(ofPod(failedPod.get()));
        }
        return JobConditions.failure(job)
                .map(c -> new GangFailure(null, "Job " + job.getMetadata().getName() + " failed: " + c.getReason()
                        + (c.getMessage() == null ? "" : " (" + c.getMessage() + ")")));
    }

    /**
     * A pod that ended because its Job was suspended (Kueue evicted the Workload, e.g. for a preemption: the Job
     * controller deletes a suspended Job's pods and the trainer exits with 143 on SIGTERM) rather than because the
     * trainer failed: a Failed pod that was deleted, was killed by SIGTERM (exit code 143) or carries the condition
     * DisruptionTarget, while its Job is suspended or from before the Job was last resumed.
     */
    public static boolean isDisruption(Job job, Pod pod) {
        if (pod.getStatus() == null || !"Failed".equals(pod.getStatus().getPhase())) {
            return false;
        }
        ContainerStateTerminated t = terminated(pod);
        boolean killed = pod.getMetadata().getDeletionTimestamp() != null
                || (t != null && t.getExitCode() != null && t.getExitCode() == SIGTERM_EXIT)
                || hasCondition(pod, "DisruptionTarget");
        if (!killed) {
            return false;
        }
        if (JobConditions.isSuspended(job)) {
            return true;
        }
        // Resumed since: a pod that ended before the resume belongs to the admission that was evicted.
        Optional<Instant> resumed = JobConditions.resumedAt(job);
        Instant ended = t != null && t.getFinishedAt() != null ? parse(t.getFinishedAt()) : null;
        return resumed.isPresent() && ended != null && !ended.isAfter(resumed.get());
    }

    private static boolean hasCondition(Pod pod, String type) {
        return pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
                .anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static Instant parse(String time) {
        try {
            return Instant.parse(time);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    public static GangFailure deleted(String jobName) {
        return new GangFailure(null, "Job " + jobName + " was deleted while the run was active");
    }

    static GangFailure ofPod(Pod pod) {
        String name = pod.getMetadata().getName();
        StringBuilder s = new StringBuilder("pod ").append(name).append(" failed");
        ContainerStateTerminated t = terminated(pod);
        String reason = t != null && t.getReason() != null ? t.getReason() : pod.getStatus().getReason();
        if (reason != null) {
            s.append(": ").append(reason);
        }
        if (t != null && t.getExitCode() != null) {
            s.append(" (exit code ").append(t.getExitCode()).append(")");
        }
        String detail = t != null && t.getMessage() != null ? t.getMessage() : pod.getStatus().getMessage();
        if (detail != null && !detail.isBlank()) {
            s.append(": ").append(shorten(detail.strip()));
        }
        return new GangFailure(name, s.toString());
    }

    private static ContainerStateTerminated terminated(Pod pod) {
        List<ContainerStatus> statuses = pod.getStatus().getContainerStatuses();
        if (statuses == null) {
            return null;
        }
        return statuses.stream()
                .map(cs -> cs.getState() != null ? cs.getState().getTerminated() : null)
                .filter(t -> t != null && (t.getExitCode() == null || t.getExitCode() != 0))
                .findFirst().orElse(null);
    }

    private static String shorten(String s) {
        String oneLine = s.replaceAll("\\s+", " ");
        return oneLine.length() <= MAX_DETAIL ? oneLine : oneLine.substring(0, MAX_DETAIL) + "...";
    }
}
