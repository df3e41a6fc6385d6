package io.milan.operator.lifecycle;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.milan.api.AttemptFailure;
import io.milan.api.FailureClass;
import io.milan.api.TrainerExitCodes;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Why a pod group ended without succeeding, and its class (what the operator does next):
 * <ul>
 * <li>{@link FailureClass#Configuration}: a trainer exited with {@link TrainerExitCodes#CONFIGURATION} (bad flag,
 * missing dataset, unusable checkpoint): restarting cannot help;</li>
 * <li>{@link FailureClass#Disruption}: a pod was stopped from outside: it carries the DisruptionTarget condition
 * (eviction API, node drain, scheduler preemption, taint manager, node shutdown; set as soon as the pod is marked,
 * before it ends), was Evicted by its kubelet, or its trainer exited with {@link TrainerExitCodes#DISRUPTED} or 143
 * (SIGTERM);</li>
 * <li>{@link FailureClass#Failure}: any other failed pod.</li>
 * </ul>
 * When no pod is left to read, the Job's failure condition stands in: its podFailurePolicy (podgroup/FailurePolicy)
 * records the pod and the exit code or DisruptionTarget condition that failed it, which give the same classes.
 * When pods of several classes are seen at once, Configuration wins (no restart could help), then Failure, then
 * Disruption: a real failure makes the Job controller stop the other pods, which then end like a disruption
 * (SIGTERM), and must not hide the failure that caused it. Within a class, the lowest pod name is named.
 *
 * <p>Pods that Kueue's eviction stopped (the Job is suspended, or they ended before it was last resumed: see
 * {@link #stoppedBySuspension}) are none of these: the same Job resumes when Kueue admits it again.
 */
public record GangFailure(String podName, String summary, FailureClass failureClass, Integer exitCode) {
    private static final int MAX_DETAIL = 400;
    /** What a container without a SIGTERM handler exits with when its pod is deleted. */
    public static final int SIGTERM_EXIT = TrainerExitCodes.SIGTERM;
    public static final String DISRUPTION_TARGET = "DisruptionTarget";
    /** The reason of a Job condition that a podFailurePolicy FailJob rule set. */
    static final String POD_FAILURE_POLICY = "PodFailurePolicy";
    /** The Job controller's message for a FailJob rule that matched an exit code: pod name, exit code. */
    private static final Pattern POLICY_EXIT_CODE =
            Pattern.compile("for pod [^/\\s]+/(\\S+) failed with exit code (\\d+)");
    /** The Job controller's message for a FailJob rule that matched a pod condition: pod name, condition type. */
    private static final Pattern POLICY_POD_CONDITION = Pattern.compile("Pod [^/\\s]+/(\\S+) has condition (\\S+)");

    /** The failure of this attempt's pod group, if it failed or one of its pods is being disrupted. */
    public static Optional<GangFailure> detect(Job job, List<Pod> pods) {
        boolean suspended = JobConditions.isSuspended(job);
        Optional<GangFailure> worst = pods.stream()
                .filter(p -> !stoppedBySuspension(job, p))
                .map(GangFailure::ofPodIfEnded)
                .flatMap(Optional::stream)
                // A suspended Job's pods are being stopped by the Job controller: that is Kueue's eviction.
                .filter(f -> !(suspended && f.failureClass() == FailureClass.Disruption))
                .min(Comparator.comparing((GangFailure f) -> rank(f.failureClass()))
                        .thenComparing(GangFailure::podName));
        if (worst.isPresent()) {
            return worst;
        }
        return JobConditions.failure(job).map(c -> ofJob(job, c));
    }

    /**
     * A pod that ended because its Job was suspended (Kueue evicted the Workload, e.g. for a preemption: the Job
     * controller deletes a suspended Job's pods and the trainer stops on SIGTERM) rather than because the trainer
     * failed: a Failed pod that was deleted, stopped on SIGTERM (exit code 75 or 143) or carries the condition
     * DisruptionTarget, while its Job is suspended or from before the Job was last resumed.
     */
    public static boolean stoppedBySuspension(Job job, Pod pod) {
        if (pod.getStatus() == null || !"Failed".equals(pod.getStatus().getPhase())) {
            return false;
        }
        ContainerStateTerminated t = terminated(pod);
        boolean killed = pod.getMetadata().getDeletionTimestamp() != null
                || (t != null && t.getExitCode() != null && TrainerExitCodes.isDisruption(t.getExitCode()))
                || hasCondition(pod, DISRUPTION_TARGET);
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

    /** The class of a pod that ended (or is being disrupted), or empty for a pod that runs, waits or succeeded. */
    static Optional<FailureClass> classify(Pod pod) {
        if (pod.getStatus() == null || "Succeeded".equals(pod.getStatus().getPhase())) {
            return Optional.empty();
        }
        boolean failed = "Failed".equals(pod.getStatus().getPhase());
        ContainerStateTerminated t = failed ? terminated(pod) : null;
        Integer exitCode = t != null ? t.getExitCode() : null;
        if (exitCode != null && exitCode == TrainerExitCodes.CONFIGURATION) {
            return Optional.of(FailureClass.Configuration);
        }
        // DisruptionTarget is set before the pod is terminated: the gang is about to lose it, whatever it exits with.
        if (hasCondition(pod, DISRUPTION_TARGET) || (failed && "Evicted".equals(pod.getStatus().getReason()))
                || (exitCode != null && TrainerExitCodes.isDisruption(exitCode))) {
            return Optional.of(FailureClass.Disruption);
        }
        return failed ? Optional.of(FailureClass.Failure) : Optional.empty();
    }

    private static int rank(FailureClass c) {
        return switch (c) {
            case Configuration -> 0;
            case Failure -> 1;
            case Disruption -> 2;
        };
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

    /** The status record of this failure as the end of {@code attempt}, seen at {@code time} (RFC 3339). */
    public AttemptFailure asStatus(Integer attempt, String time) {
        AttemptFailure a = new AttemptFailure();
        a.attempt = attempt;
        a.failureClass = failureClass;
        a.exitCode = exitCode;
        a.pod = podName;
        a.message = summary;
        a.time = time;
        return a;
    }

    public static GangFailure deleted(String jobName) {
        return new GangFailure(null, "Job " + jobName + " was deleted while the run was active", FailureClass.Failure,
                null);
    }

    private static Optional<GangFailure> ofPodIfEnded(Pod pod) {
        return classify(pod).map(c -> ofPod(pod, c));
    }

    static GangFailure ofPod(Pod pod, FailureClass failureClass) {
        String name = pod.getMetadata().getName();
        String disruption = disruptionTarget(pod);
        if (!"Failed".equals(pod.getStatus().getPhase())) {
            return new GangFailure(name, "pod " + name + " is being disrupted: " + disruption, failureClass, null);
        }
        StringBuilder s = new StringBuilder("pod ").append(name).append(" failed");
        ContainerStateTerminated t = terminated(pod);
        String reason = t != null && t.getReason() != null ? t.getReason() : pod.getStatus().getReason();
        if (reason != null) {
            s.append(": ").append(reason);
        }
        Integer exitCode = t != null ? t.getExitCode() : null;
        if (exitCode != null) {
            s.append(" (exit code ").append(exitCode).append(")");
        }
        String detail = t != null && t.getMessage() != null ? t.getMessage() : pod.getStatus().getMessage();
        if (detail != null && !detail.isBlank()) {
            s.append(": ").append(shorten(detail.strip()));
        }
        if (disruption != null) {
            s.append("; ").append(disruption);
        }
        return new GangFailure(name, s.toString(), failureClass, exitCode);
    }

    /**
     * The Job failed and no pod says why (they are gone: a real kubelet removes an evicted pod seconds after it ends):
     * the Job's condition. A podFailurePolicy rule (podgroup/FailurePolicy) that failed it quotes the pod and either
     * its container's exit code ("Container trainer for pod ns/p failed with exit code 78 matching FailJob rule at
     * index 0") or its condition ("Pod ns/p has condition DisruptionTarget matching FailJob rule at index 1"); the
     * class follows from that as from the pod itself. Any other reason (BackoffLimitExceeded of a Job without the
     * policy, DeadlineExceeded) is a generic failure.
     */
    private static GangFailure ofJob(Job job, JobCondition c) {
        String message = c.getMessage() == null ? "" : c.getMessage();
        String summary = "Job " + job.getMetadata().getName() + " failed: " + c.getReason()
                + (message.isEmpty() ? "" : " (" + message + ")");
        if (!POD_FAILURE_POLICY.equals(c.getReason())) {
            return new GangFailure(null, summary, FailureClass.Failure, null);
        }
        Matcher exit = POLICY_EXIT_CODE.matcher(message);
        if (exit.find()) {
            int exitCode = Integer.parseInt(exit.group(2));
            FailureClass failureClass = exitCode == TrainerExitCodes.CONFIGURATION ? FailureClass.Configuration
                    : TrainerExitCodes.isDisruption(exitCode) ? FailureClass.Disruption : FailureClass.Failure;
            return new GangFailure(exit.group(1), summary, failureClass, exitCode);
        }
        Matcher condition = POLICY_POD_CONDITION.matcher(message);
        if (condition.find()) {
            FailureClass failureClass = DISRUPTION_TARGET.equals(condition.group(2)) ? FailureClass.Disruption
                    : FailureClass.Failure;
            return new GangFailure(condition.group(1), summary, failureClass, null);
        }
        return new GangFailure(null, summary, FailureClass.Failure, null);
    }

    /** "DisruptionTarget (reason): message" of a pod that carries the condition, else null. */
    private static String disruptionTarget(Pod pod) {
        if (pod.getStatus().getConditions() == null) {
            return null;
        }
        return pod.getStatus().getConditions().stream()
                .filter(c -> DISRUPTION_TARGET.equals(c.getType()) && "True".equals(c.getStatus()))
                .map(c -> DISRUPTION_TARGET + (c.getReason() == null ? "" : " (" + c.getReason() + ")")
                        + (c.getMessage() == null ? "" : ": " + shorten(c.getMessage().strip())))
                .findFirst().orElse(null);
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
