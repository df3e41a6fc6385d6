package io.milan.operator.lifecycle;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Why a pod group failed: the first failed pod (lowest name) with its container's termination reason, exit code
 * and termination message (the trainer's summary, or the log tail), or the Job's own failure condition.
 */
public record GangFailure(String podName, String summary) {
    private static final int MAX_DETAIL = 400;

    /** The failure of this attempt's pod group, if it failed. */
    public static Optional<GangFailure> detect(Job job, List<Pod> pods) {
        Optional<Pod> failedPod = pods.stream()
                .filter(p -> p.getStatus() != null && "Failed".equals(p.getStatus().getPhase()))
                .min(Comparator.comparing(p -> p.getMetadata().getName()));
        if (failedPod.isPresent()) {
            return Optional.of(ofPod(failedPod.get()));
        }
        return JobConditions.failure(job)
                .map(c -> new GangFailure(null, "Job " + job.getMetadata().getName() + " failed: " + c.getReason()
                        + (c.getMessage() == null ? "" : " (" + c.getMessage() + ")")));
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
