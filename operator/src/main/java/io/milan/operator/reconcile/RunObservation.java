package io.milan.operator.reconcile;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.List;

/**
 * What a reconcile sees of a run's children: its Jobs (all attempts) and their pods, from the informer caches.
 * The caches map children to runs by name; only Jobs whose controller is this run (by UID) are its own.
 */
record RunObservation(List<Job> jobs, List<Pod> pods) {

    /** Keeps the Jobs controlled by the run of that UID (a same-named earlier run's Jobs are not ours). */
    static RunObservation of(String runUid, List<Job> jobs, List<Pod> pods) {
        return new RunObservation(jobs.stream().filter(j -> j.getMetadata().getOwnerReferences().stream()
                .anyMatch(o -> Boolean.TRUE.equals(o.getController()) && runUid.equals(o.getUid()))).toList(),
                pods);
    }

    /** The Job of that name, unless it is being deleted. */
    Job liveJob(String name) {
        if (name == null) {
            return null;
        }
        return jobs.stream()
                .filter(j -> name.equals(j.getMetadata().getName()))
                .filter(j -> j.getMetadata().getDeletionTimestamp() == null)
                .findFirst().orElse(null);
    }

    List<Pod> podsOf(Job job) {
        String uid = job.getMetadata().getUid();
        return pods.stream()
                .filter(p -> p.getMetadata().getOwnerReferences().stream().anyMatch(o -> uid.equals(o.getUid())))
                .toList();
    }

    /** Pods that have not finished and do not belong to the named Job (earlier attempts on their way out). */
    long podsStillRunningOutside(String jobName) {
        return pods.stream()
                .filter(p -> !isPhase(p, "Succeeded") && !isPhase(p, "Failed"))
                .filter(p -> !jobName.equals(ownerJobName(p)))
                .count();
    }

    /** Pods that run or have completed: the gang has started when all of them have. */
    static long started(List<Pod> pods) {
        return pods.stream().filter(p -> isPhase(p, "Running") || isPhase(p, "Succeeded")).count();
    }

    /** The scheduler's reason why a pod is not placed yet, for the status message ("" when there is none). */
    static String unschedulableHint(List<Pod> pods) {
        return pods.stream()
                .filter(p -> p.getStatus() != null && p.getStatus().getConditions() != null)
                .flatMap(p -> p.getStatus().getConditions().stream())
                .filter(c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()))
                .map(PodCondition::getMessage)
                .filter(m -> m != null && !m.isBlank())
                .findFirst().map(m -> "; scheduler: " + m).orElse("");
    }

    private static String ownerJobName(Pod p) {
        return p.getMetadata().getOwnerReferences().stream()
                .filter(o -> "Job".equals(o.getKind())).map(OwnerReference::getName).findFirst().orElse(null);
    }

    private static boolean isPhase(Pod p, String phase) {
        return p.getStatus() != null && phase.equals(p.getStatus().getPhase());
    }
}
