package io.milan.operator.lifecycle;

import io.fabric8.kubernetes.client.CustomResource;
import io.milan.api.RunPhase;
import io.milan.api.RunSpec;
import io.milan.api.RunStatus;
import io.milan.operator.podgroup.OutputLocation;
import io.milan.operator.status.RunConditions;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;

/**
 * Two live runs never write one output directory: each would resume from, overwrite and prune the other's
 * checkpoints. Before a run starts an attempt, {@link #holderOf} finds the live run of its namespace that holds its
 * output location ({@link OutputLocation}: claim and sub-path), if any; the run then waits until that one ends or
 * is deleted.
 *
 * <p>A location is held by a run whose attempt is writing there now, and otherwise by the live run that was created
 * first (a suspended, restarting or still pending run keeps its directory: it resumes from it). The order is
 * strict (creation time, then kind and name), so of several waiting runs exactly the oldest starts, and a younger
 * run that started before an older one became visible keeps running until it ends. A run waiting here is not
 * writing ({@link RunConditions#OUTPUT_IN_USE}), so two runs never wait for each other.
 */
public final class OutputSharing {
    /** Phases in which a run with a recorded pod group has an attempt's Job. */
    private static final Set<RunPhase> WITH_JOB = Set.of(RunPhase.Pending, RunPhase.Queued, RunPhase.Running);
    private static final Comparator<CustomResource<?, ?>> CREATED_FIRST = Comparator
            .comparing((CustomResource<?, ?> r) -> created(r))
            .thenComparing(CustomResource::getKind)
            .thenComparing(r -> r.getMetadata().getName());

    private OutputSharing() {
    }

    /** The live run of {@code runs} (the namespace's, {@code run} among them or not) that holds its output. */
    public static <R extends CustomResource<? extends RunSpec, RunStatus>> Optional<R> holderOf(
            CustomResource<? extends RunSpec, RunStatus> run, Collection<R> runs) {
        Optional<OutputLocation> mine = OutputLocation.of(run.getSpec());
        if (mine.isEmpty()) {
            return Optional.empty(); // an emptyDir is the pod's own
        }
        String uid = run.getMetadata().getUid();
        return runs.stream()
                .filter(other -> !other.getMetadata().getUid().equals(uid))
                .filter(OutputSharing::isLive)
                .filter(other -> other.getSpec() != null && mine.equals(OutputLocation.of(other.getSpec())))
                .filter(other -> isWriting(other) || CREATED_FIRST.compare(other, run) < 0)
                .min(CREATED_FIRST);
    }

    /** The status message of a run that waits for {@code holder}. */
    public static String waitMessage(RunSpec spec, CustomResource<? extends RunSpec, RunStatus> holder) {
        String location = OutputLocation.of(spec).map(OutputLocation::describe).orElse("");
        RunStatus status = holder.getStatus();
        String phase = status == null || status.phase == null ? "not started yet" : "phase " + status.phase;
        return "spec.output (" + location + ") is the output location of " + holder.getKind() + " "
                + holder.getMetadata().getName() + " (" + phase + "), which " + (isWriting(holder)
                        ? "is writing there" : "was created first") + "; two runs in one directory would resume from"
                + " and prune each other's checkpoints, so this run starts when that one ends or is deleted (or give"
                + " it an output of its own: another claim or subPath)";
    }

    private static boolean isLive(CustomResource<? extends RunSpec, RunStatus> run) {
        RunStatus status = run.getStatus();
        return !run.isMarkedForDeletion() && (status == null || status.phase == null || !status.phase.isFinal());
    }

    /** An attempt's Job exists (or is being made): its pods write to the output now or soon. */
    private static boolean isWriting(CustomResource<? extends RunSpec, RunStatus> run) {
        RunStatus status = run.getStatus();
        return status != null && status.podGroup != null && WITH_JOB.contains(status.phase)
                && RunConditions.find(status.conditions, RunConditions.OUTPUT_IN_USE) == null;
    }

    private static Instant created(CustomResource<?, ?> run) {
        String timestamp = run.getMetadata().getCreationTimestamp();
        return timestamp == null ? Instant.MAX : Instant.parse(timestamp);
    }
}
