package io.milan.operator.reconcile;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Pod-group creates in flight, per run: a reconcile sends an attempt's creates and returns without waiting for the
 * API server (under load a reconcile that waited was three API round trips long, and the reconciler threads were
 * all parked in them; docs/benchmarks.md, Operator). The Job's informer event brings the run back once the Job
 * exists; a failed create brings it back through {@link #wakeups()} with the failure to act on.
 *
 * <p>Only the in-flight sends live here, never lifecycle state: an operator restarted mid-send finds no Job and
 * sends the (idempotent) creates again. A run's entries go with the run ({@link #forgetGone}): no reconcile follows
 * its deletion to take them.
 */
final class PodGroupCreates<R extends HasMetadata> {
    /** A send for one attempt of one run (the uid tells a run apart from a later one of the same name). */
    private record Send(String uid, int attempt, CompletableFuture<Void> done) {
    }

    /** What a reconcile learns about an attempt's creates. */
    sealed interface State {
    }

    record NotSent() implements State {
    }

    record InFlight() implements State {
    }

    record Failed(RuntimeException cause) implements State {
    }

    /** The API server refused the last send; the next waits until {@code until}. */
    record HeldOff(Instant until) implements State {
    }

    /** A refused attempt's earliest next send. */
    private record Hold(String uid, int attempt, Instant until) {
    }

    private final Map<ResourceID, Send> sends = new ConcurrentHashMap<>();
    private final Map<ResourceID, Hold> holds = new ConcurrentHashMap<>();
    private final SimpleInboundEventSource<R> wakeups = new SimpleInboundEventSource<>("pod-group-creates");

    /** The event source that triggers a reconcile of a run whose creates failed. */
    SimpleInboundEventSource<R> wakeups() {
        return wakeups;
    }

    /**
     * The state of an attempt's creates at {@code now}; a failure is handed out once (the next state is NotSent,
     * or HeldOff until the time given to {@link #holdOff}).
     */
    State state(R run, int attempt, Instant now) {
        ResourceID id = ResourceID.fromResource(run);
        Send s = sends.get(id);
        if (s == null || s.attempt != attempt || !s.uid.equals(run.getMetadata().getUid())) {
            Hold h = holds.get(id);
            if (h != null && h.attempt == attempt && h.uid.equals(run.getMetadata().getUid())
                    && now.isBefore(h.until)) {
                return new HeldOff(h.until);
            }
            holds.remove(id);
            return new NotSent();
        }
        if (!s.done.isDone()) {
            return new InFlight();
        }
        sends.remove(id, s);
        if (!s.done.isCompletedExceptionally()) {
            return new NotSent(); // done and the Job not in the cache yet: sending again is harmless (409s)
        }
        try {
            s.done.join();
            return new NotSent();
        } catch (CompletionException e) {
            return new Failed(e.getCause() instanceof RuntimeException r ? r : e);
        }
    }

    /**
     * No send for this attempt before {@code until}: other events (a pod, the run's own status) bring the run back
     * sooner than its requeue, and each would otherwise send the refused creates again.
     */
    void holdOff(R run, int attempt, Instant until) {
        holds.put(ResourceID.fromResource(run), new Hold(run.getMetadata().getUid(), attempt, until));
    }

    /**
     * Drops the sends and holds of runs that are gone: deleted, or replaced by a new run of the same name (another
     * uid). {@code current} is the run as the operator's cache has it now, empty once deleted. Called at every
     * reconcile, so what a deleted run left here lasts until the next reconcile of any run of its kind.
     */
    void forgetGone(Function<ResourceID, Optional<R>> current) {
        sends.entrySet().removeIf(e -> !exists(current, e.getKey(), e.getValue().uid()));
        holds.entrySet().removeIf(e -> !exists(current, e.getKey(), e.getValue().uid()));
    }

    /** How many runs have a send or a hold here (for tests). */
    int tracked() {
        return sends.size() + holds.size();
    }

    private boolean exists(Function<ResourceID, Optional<R>> current, ResourceID id, String uid) {
        return current.apply(id).map(run -> uid.equals(run.getMetadata().getUid())).orElse(false);
    }

    /**
     * Tracks the creates of an attempt. On success the entry goes (the Job's informer event follows); on failure it
     * stays for the reconcile this triggers.
     */
    void track(R run, int attempt, CompletableFuture<Void> done) {
        ResourceID id = ResourceID.fromResource(run);
        Send s = new Send(run.getMetadata().getUid(), attempt, done);
        sends.put(id, s);
        done.whenComplete((ok, failure) -> {
            if (failure == null) {
                sends.remove(id, s);
            } else {
                wakeups.propagateEvent(id);
            }
        });
    }
}
