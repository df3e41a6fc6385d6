package io.milan.operator.reconcile;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.milan.api.FailureClass;
import io.milan.api.MilanFinetuneSpec;
import io.milan.api.MilanPretrain;
import io.milan.api.RestartPolicy;
import io.milan.api.RunPhase;
import io.milan.api.RunSpec;
import io.milan.api.RunStatus;
import io.milan.api.TrainerExitCodes;
import io.milan.operator.events.AsyncCreate;
import io.milan.operator.events.RunEvents;
import io.milan.operator.lifecycle.ActiveTime;
import io.milan.operator.lifecycle.Backoff;
import io.milan.operator.lifecycle.GangFailure;
import io.milan.operator.lifecycle.JobConditions;
import io.milan.operator.lifecycle.OutputSharing;
import io.milan.operator.lifecycle.PretrainGate;
import io.milan.operator.naming.ChildNames;
import io.milan.operator.podgroup.GangPodGroup;
import io.milan.operator.podgroup.HeadlessService;
import io.milan.operator.podgroup.JobRenderer;
import io.milan.operator.podgroup.RenderInput;
import io.milan.operator.podgroup.ResolvedPretrained;
import io.milan.operator.podgroup.RunIsolation;
import io.milan.operator.podgroup.RunVolumes;
import io.milan.operator.podgroup.TrainerRbac;
import io.milan.operator.status.DerivedValues;
import io.milan.operator.status.OperatorStatus;
import io.milan.operator.status.RunConditions;
import io.milan.operator.status.Timestamps;
import io.milan.operator.validation.SpecValidator;
import java.net.HttpURLConnection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One reconcile of one run, observe-then-act: read the run's Jobs and pods from the informer caches, decide the
 * next step from them and from status (attempt, restart time, start time: everything a restarted operator needs),
 * act on the children, and return the operator's status fields for a server-side apply.
 *
 * <p>Life of a run: Pending (waiting for a pretrain, creating the pod group, pods being scheduled) → Queued (Kueue
 * has not admitted the Job) → Running → Succeeded; a failed pod → Restarting (whole group deleted, next attempt
 * after a backoff) → Pending ...; a disrupted pod (eviction, drain, preemption) → Restarting at once, not counted;
 * out of restarts, the trainer's configuration exit code, past the deadline or an invalid spec → Failed. spec.suspend
 * → Suspended from any non-final phase; unsuspending starts the next attempt, which resumes from the latest
 * checkpoint.
 */
final class RunReconcile<R extends CustomResource<? extends RunSpec, RunStatus>> {
    private static final Duration SHORT_WAIT = Duration.ofSeconds(2);
    private static final Duration CONFLICT_WAIT = Duration.ofSeconds(5);
    /** A run waiting for its output location looks again this often (the holder may be of the other kind). */
    private static final Duration OUTPUT_WAIT = Duration.ofSeconds(10);

    private final RunLifecycle shared;
    private final RunKind kind;
    private final R run;
    private final KubernetesClient client;
    private final MilanPretrain pretrain;
    private final RunSpec spec;
    private final RunStatus status;
    private final ChildNames names;
    private final Instant now;
    private final Children children;
    private final RunObservation observed;
    private final PodGroupCreates<R> creates;
    /** Events of this reconcile, sent at its end (see {@link #sendEvents()}). */
    private final List<PendingEvent> events = new ArrayList<>();

    private Duration requeue;
    private boolean deleteRun;
    /** The attempt's creates are in flight: status is written once its Job exists, together with the attempt. */
    private boolean creating;

    /**
     * @param observed the run's Jobs and pods as the informer caches show them (they may lag behind the cluster)
     * @param pretrain a fine-tune's MilanPretrain from the cache, null for a pretrain or when there is none
     */
    RunReconcile(RunLifecycle shared, RunKind kind, R run, KubernetesClient client, RunObservation observed,
            MilanPretrain pretrain, PodGroupCreates<R> creates) {
        this.shared = shared;
        this.kind = kind;
        this.run = run;
        this.client = client;
        this.pretrain = pretrain;
        this.creates = creates;
        this.spec = run.getSpec();
        this.status = OperatorStatus.copyOf(run.getStatus());
        this.names = ChildNames.of(kind, run.getMetadata().getName());
        this.now = shared.clock.instant();
        this.children = new Children(client, shared.creates);
        this.observed = observed;
    }

    UpdateControl<R> execute() {
        if (run.isMarkedForDeletion()) {
            // The garbage collector removes the children; create nothing new for a run on its way out.
            return UpdateControl.noUpdate();
        }
        decide();
        if (deleteRun) {
            sendEvents();
            client.resource(run).delete();
            return UpdateControl.noUpdate();
        }
        if (creating) {
            // Nothing to write or tell yet: the reconcile that finds the Job records the attempt and its events.
            UpdateControl<R> control = UpdateControl.noUpdate();
            return requeue == null ? control : control.rescheduleAfter(requeue.isNegative() ? Duration.ZERO : requeue);
        }
        sendEvents();
        UpdateControl<R> control = OperatorStatus.same(run.getStatus(), status)
                ? UpdateControl.noUpdate() : UpdateControl.patchStatus(withStatus(status));
        if (requeue != null) {
            control.rescheduleAfter(requeue.isNegative() ? Duration.ZERO : requeue);
        }
        return control;
    }

    private void decide() {
        status.observedGeneration = run.getMetadata().getGeneration();
        if (status.phase != null && status.phase.isFinal()) {
            afterEnd();
            return;
        }
        DerivedValues derived = DerivedValues.of(spec);
        status.worldSize = derived.worldSize();
        status.effectiveBatchSize = derived.effectiveBatchSize();
        status.effectiveLr = derived.effectiveLr();
        if (status.restarts == null) {
            status.restarts = 0;
        }
        if (status.phase == null) {
            moveTo(RunPhase.Pending, "Accepted", "accepted; preparing the pod group");
        }
        Job current = withLiveSuspension(attemptEnded() ? null : observed.liveJob(status.podGroup));
        if (current != null && JobConditions.isComplete(current)
                && GangFailure.detect(current, observed.podsOf(current)).isEmpty()) {
            // Completion is observed before the deadline is judged: a Job that completed just before its deadline
            // but is reconciled after it (a slow or restarted operator) succeeded.
            succeed();
            return;
        }
        trackActiveTime(current);
        // The spec is judged when an attempt starts (startNextAttempt); an edit never fails a running attempt.
        if (deadlinePassed()) {
            fail("DeadlineExceeded", "admitted and running for more than spec.activeDeadlineSeconds ("
                    + spec.activeDeadlineSeconds + " s) in all; queueing and suspension are not counted");
            return;
        }
        if (Boolean.TRUE.equals(spec.suspend)) {
            suspend();
        } else {
            if (current != null) {
                observe(current);
                reportEdit(SpecValidator.validate(spec, null));
            } else {
                startNextAttempt();
            }
        }
        if (!status.phase.isFinal()) {
            checkAgainAtDeadline();
        }
    }

    // ---- observe the current attempt ----

    private void observe(Job job) {
        List<Pod> own = observed.podsOf(job);
        var failure = GangFailure.detect(job, own);
        if (failure.isPresent()) {
            gangFailed(failure.get());
        } else if (JobConditions.isComplete(job)) {
            succeed();
        } else if (JobConditions.isSuspended(job)) {
            String name = job.getMetadata().getName();
            long stopped = own.stream().filter(p -> GangFailure.stoppedBySuspension(job, p)).count();
            if (spec.queueName != null && (stopped > 0 || status.phase == RunPhase.Running)) {
                // Kueue evicted the Workload (preemption, a deactivated Workload): not a failure of the gang. The
                // same Job waits for admission and resumes from the latest checkpoint; restarts do not grow.
                moveTo(RunPhase.Queued, "Evicted", "Job " + name + " was suspended by Kueue (evicted, e.g. preempted"
                        + "; " + stopped + " pod(s) stopped); it resumes from its latest checkpoint when Kueue admits"
                        + " it again (queue " + spec.queueName + ")");
            } else if (status.phase == RunPhase.Queued && wasEvicted()) {
                return; // stays Evicted until admitted again: the stopped pods go, the reason stays
            } else if (spec.queueName != null) {
                moveTo(RunPhase.Queued, "WaitingForAdmission", "Job " + name + " waits for Kueue to admit it"
                        + " (queue " + spec.queueName + ")");
            } else {
                moveTo(RunPhase.Queued, "JobSuspended", "Job " + name + " is suspended");
            }
        } else {
            long started = RunObservation.started(own);
            String count = started + "/" + spec.nodes + " pods running (attempt " + status.attempt + ")";
            if (started >= spec.nodes) {
                moveTo(RunPhase.Running, "PodsRunning", count);
            } else {
                moveTo(RunPhase.Pending, "WaitingForPods", count + RunObservation.unschedulableHint(own));
            }
        }
    }

    /**
     * The cached Job, or the API server's when the cache may hide a Kueue eviction. Kueue suspends the Job before the
     * Job controller deletes its pods, but the pod informer can deliver those pods ended on SIGTERM (exit 75 or 143)
     * before the Job informer delivers {@code spec.suspend: true}; read from the cache alone that is a drain, and the
     * next attempt would delete the Job and Kueue's Workload with it (the run would lose its place in the queue). So
     * a disruption of an unsuspended Kueue-managed Job is checked against the live Job: one GET, only then.
     */
    private Job withLiveSuspension(Job cached) {
        if (cached == null || !JobRenderer.isKueueManaged(cached) || JobConditions.isSuspended(cached)
                || GangFailure.detect(cached, observed.podsOf(cached))
                        .filter(f -> f.failureClass() == FailureClass.Disruption).isEmpty()) {
            return cached;
        }
        Job live = children.readJob(cached.getMetadata().getNamespace(), cached.getMetadata().getName());
        boolean same = live != null && cached.getMetadata().getUid().equals(live.getMetadata().getUid())
                && live.getMetadata().getDeletionTimestamp() == null;
        return same ? live : cached;
    }

    private boolean wasEvicted() {
        var queued = RunConditions.find(status.conditions, RunPhase.Queued.name());
        return queued != null && "True".equals(queued.getStatus()) && "Evicted".equals(queued.getReason());
    }

    /**
     * Whether the end of the attempt status names as current has been acted on: its failure counted or its pods
     * removed for a suspension. Its Job is then no longer observed. This is what keeps one failure from being counted
     * twice: the Job and pod caches lag behind this operator's own actions, so the reconcile after a gang restart can
     * still see the deleted Job with its failed pods (or a second pod of the same burst failing), and without this
     * record it would count them again — with maxRestarts 1, one failure would fail the run. Keyed to the attempt,
     * not left to an optimistic-locking conflict on the status write: the primary is fresh in that case (the operator
     * SDK caches its own status patches), only the children are stale. Restarting and Suspended say the same for a
     * status written before endedAttempt existed.
     */
    private boolean attemptEnded() {
        boolean recorded = status.endedAttempt != null && status.attempt != null
                && status.endedAttempt >= status.attempt;
        return recorded || status.phase == RunPhase.Restarting || status.phase == RunPhase.Suspended;
    }

    /**
     * The attempt ended without succeeding; its class decides what follows (lifecycle/GangFailure): a configuration
     * error fails the run at once, a disruption restarts the gang at once without counting, a failure restarts it
     * with backoff while restarts are left.
     */
    private void gangFailed(GangFailure failure) {
        status.endedAttempt = status.attempt;
        ActiveTime.stop(status, now);
        status.lastFailure = failure.asStatus(status.attempt, Timestamps.format(now));
        int restarts = status.restarts == null ? 0 : status.restarts;
        int next = (status.attempt == null ? 1 : status.attempt) + 1;
        if (failure.failureClass() == FailureClass.Configuration) {
            fail("ConfigurationError", failure.summary() + "; exit code " + TrainerExitCodes.CONFIGURATION
                    + " is the trainer's configuration error (a bad flag or value, a missing or unreadable dataset,"
                    + " a checkpoint it cannot use): a restart would fail the same way, so the run is not restarted");
            return;
        }
        if (failure.failureClass() == FailureClass.Disruption) {
            restartGang(Duration.ZERO, "Disrupted", failure.summary() + "; a disruption, not a failure: restarting"
                    + " the whole group as attempt " + next + " from its latest checkpoint (restarts stay at "
                    + restarts + ")");
            return;
        }
        RestartPolicy policy = spec.restartPolicy != null ? spec.restartPolicy : new RestartPolicy();
        if (restarts >= policy.maxRestarts) {
            fail(policy.maxRestarts == 0 ? "PodFailed" : "RestartLimitExceeded", failure.summary()
                    + (policy.maxRestarts == 0 ? "; gang restarts are off (spec.restartPolicy.maxRestarts is 0)"
                            : "; no gang restarts left (" + policy.maxRestarts + " used)"));
            return;
        }
        status.restarts = restarts + 1;
        Duration delay = Backoff.delay(policy, status.restarts);
        restartGang(delay, "GangRestart", failure.summary() + "; restarting the whole group as attempt " + next
                + " in " + delay.toSeconds() + " s (restart " + status.restarts + " of " + policy.maxRestarts + ")");
        shared.metrics.restarted(kind, run.getMetadata().getNamespace());
    }

    /** Gang semantics: the whole group goes, and comes back as the next attempt after {@code delay}. */
    private void restartGang(Duration delay, String reason, String message) {
        observed.jobs().forEach(children::deleteJob);
        status.nextRestartTime = Timestamps.format(now.plus(delay));
        moveTo(RunPhase.Restarting, reason, message);
        requeueIn(delay);
    }

    // ---- start an attempt ----

    private void startNextAttempt() {
        int attempt = status.attempt == null ? 1 : status.attempt;
        boolean attemptRan = names.job(attempt).equals(status.podGroup);
        if (attemptRan && !attemptEnded()) {
            // The current attempt's Job is gone from the cache: not there yet, or deleted behind our back.
            if (children.jobExists(run.getMetadata().getNamespace(), status.podGroup)) {
                requeueIn(SHORT_WAIT);
            } else {
                gangFailed(GangFailure.deleted(status.podGroup));
            }
            return;
        }
        if (status.phase == RunPhase.Restarting && status.nextRestartTime != null) {
            Instant due = Timestamps.parse(status.nextRestartTime);
            if (now.isBefore(due)) {
                requeueIn(Duration.between(now, due));
                return;
            }
        }
        // A new attempt is where the spec is judged: an invalid one fails the run before anything is created.
        List<String> specErrors = SpecValidator.validate(spec, null);
        if (!specErrors.isEmpty()) {
            fail("InvalidSpec", String.join("; ", specErrors));
            return;
        }
        reportEdit(specErrors);
        // A Job name is never reused: an attempt whose Job existed is followed by a new one.
        int next = attemptRan ? attempt + 1 : attempt;
        ResolvedPretrained pretrained = null;
        if (spec instanceof MilanFinetuneSpec finetune) {
            pretrained = recordedPretrained();
            if (pretrained == null) {
                PretrainGate.Result gate = PretrainGate.resolve(finetune, pretrain);
                if (gate.failed()) {
                    fail("PretrainFailed", gate.message());
                    return;
                }
                if (!gate.isReady()) {
                    moveTo(RunPhase.Pending, "WaitingForPretrain", gate.message());
                    return; // the pretrain is watched: its next change brings us back
                }
                pretrained = gate.pretrained();
            }
            List<String> errors = SpecValidator.validate(spec, pretrained);
            if (!errors.isEmpty()) {
                fail("InvalidSpec", String.join("; ", errors));
                return;
            }
            status.pretrainedCheckpoint = pretrained.checkpointPath();
            status.pretrainedVolume = pretrained.mount();
        }
        long leftovers = observed.podsStillRunningOutside(names.job(next));
        if (leftovers > 0) {
            // Two generations of the gang must never train at once: they would share the output directory.
            status.message = "waiting for " + leftovers + " pod(s) of earlier attempts to terminate";
            requeueIn(SHORT_WAIT);
            return;
        }
        RenderInput in = new RenderInput(kind, run, spec, names, next, pretrained, shared.settings);
        Job made = observed.liveJob(names.job(next));
        if (made != null) {
            adopt(in, made);
            return;
        }
        PodGroupCreates.State sent = creates.state(run, next, now);
        if (sent instanceof PodGroupCreates.Failed failed) {
            refused(failed.cause(), next);
        } else if (sent instanceof PodGroupCreates.HeldOff held) {
            requeueIn(Duration.between(now, held.until()));
        } else if (sent instanceof PodGroupCreates.InFlight) {
            creating = true;
        } else if (!outputHeldByAnotherRun()) {
            sendPodGroup(in);
        }
    }

    /**
     * Two live runs never write one output directory: while another live run holds this run's output location
     * ({@link OutputSharing}), the attempt waits, Pending, with the {@value RunConditions#OUTPUT_IN_USE} condition
     * and a Warning Event naming that run, and looks again every {@link #OUTPUT_WAIT}.
     */
    private boolean outputHeldByAnotherRun() {
        String message = OutputSharing.holderOf(run, shared.runs.inNamespace(run.getMetadata().getNamespace()))
                .map(holder -> OutputSharing.waitMessage(spec, holder)).orElse(null);
        Condition before = RunConditions.find(status.conditions, RunConditions.OUTPUT_IN_USE);
        status.conditions = RunConditions.outputInUse(status.conditions, message, run.getMetadata().getGeneration(),
                now);
        if (message == null) {
            return false;
        }
        moveTo(RunPhase.Pending, "OutputInUse", message);
        if (before == null || !message.equals(before.getMessage())) {
            event(RunEvents.WARNING, "OutputInUse", message);
        }
        requeueIn(OUTPUT_WAIT);
        return true;
    }

    /**
     * The checkpoint a fine-tune's earlier attempt started from, or null before the first: a gang restart starts
     * from the same one even when the MilanPretrain is gone (its TTL, or a user) — its output claim is the user's
     * and stays. A status written before pretrainedVolume existed resolves the reference again if it needs a claim.
     */
    private ResolvedPretrained recordedPretrained() {
        String path = status.pretrainedCheckpoint;
        if (path == null || (status.pretrainedVolume == null
                && path.startsWith(ResolvedPretrained.PRETRAIN_OUTPUT_MOUNT + "/"))) {
            return null;
        }
        return new ResolvedPretrained(path, status.pretrainedVolume);
    }

    /**
     * Sends the attempt's creates without waiting for them: Service, ServiceAccount (unless the run names its own)
     * and Role at once, the RoleBinding after its Role, the Job after all of them (its pods need the ServiceAccount,
     * and a Job in the cache then means the whole group exists). A gang scheduler's PodGroup is created first, waiting for it.
     */
    private void sendPodGroup(RenderInput in) {
        GangPodGroup gang = GangPodGroup.of(spec.gangScheduler);
        try {
            if (gang != null && !children.createGangPodGroup(gang, in)) {
                fail("GangSchedulerMissing", "spec.gangScheduler is " + spec.gangScheduler.name().toLowerCase()
                        + " but the cluster has no " + gang.crdDescription() + " CRD; install the scheduler or"
                        + " set spec.gangScheduler to none");
                return;
            }
        } catch (KubernetesClientException e) {
            refused(e, in.attempt());
            return;
        }
        List<List<? extends HasMetadata>> chains = new ArrayList<>(List.of(List.of(HeadlessService.render(in)),
                TrainerRbac.serviceAccounts(in), List.of(TrainerRbac.role(in), TrainerRbac.roleBinding(in))));
        if (RunIsolation.hasRendezvous(in)) {
            chains.add(List.of(RunIsolation.secret(in)));
            if (in.settings().networkPolicy()) {
                chains.add(List.of(RunIsolation.networkPolicy(in)));
            }
        }
        creates.track(run, in.attempt(), children.sendAllIfAbsent(chains, JobRenderer.render(in)));
        creating = true;
    }

    /**
     * A create of the pod group failed: a refused object fails the run; a name held by an object this run does not
     * own keeps it Pending and says so (a deleted run's children go once the garbage collector gets to them);
     * a 403 (a quota, an admission policy, missing RBAC, a terminating namespace) is shown in the status and sent
     * again with growing delays; anything else is retried.
     */
    private void refused(RuntimeException e, int attempt) {
        if (AsyncCreate.isForeignOwner(e)) {
            String before = status.message;
            String message = apiMessage((KubernetesClientException) e)
                    + "; waiting for it to go (rename the run if another object holds the name)";
            moveTo(RunPhase.Pending, "ChildNameConflict", message);
            if (!status.message.equals(before)) {
                event(RunEvents.WARNING, "ChildNameConflict", message); // Pending stays Pending: moveTo sends none
            }
            requeueIn(CONFLICT_WAIT);
            return;
        }
        if (e instanceof KubernetesClientException k && k.getCode() == HttpURLConnection.HTTP_FORBIDDEN) {
            forbidden(k, attempt);
            return;
        }
        if (e instanceof KubernetesClientException k
                && (k.getCode() == 422 || k.getCode() == HttpURLConnection.HTTP_BAD_REQUEST)) {
            fail("InvalidSpec", "the API server refused the pod group: " + apiMessage(k));
            return;
        }
        throw e; // the operator SDK retries the reconcile with backoff, which sends the creates again
    }

    /**
     * The API server refused a create of the attempt with 403. Whatever refuses may change (a quota freed, a policy
     * fixed), so the creates are sent again, with delays that grow as long as the refusal lasts; meanwhile the
     * PodGroupRefused condition, the message and one Warning Event per new refusal text say why nothing runs.
     */
    private void forbidden(KubernetesClientException e, int attempt) {
        Condition before = RunConditions.find(status.conditions, RunConditions.POD_GROUP_REFUSED);
        Instant first = before != null ? Timestamps.parse(before.getLastTransitionTime()) : now;
        Duration delay = Backoff.refusedCreate(first, now);
        String refusal = "the API server refused the pod group of attempt " + attempt + ": " + apiMessage(e);
        status.conditions = RunConditions.podGroupRefused(status.conditions, refusal,
                run.getMetadata().getGeneration(), now);
        status.message = refusal + "; sending it again in " + delay.toSeconds() + " s";
        if (before == null || !refusal.equals(before.getMessage())) {
            event(RunEvents.WARNING, "PodGroupRefused", refusal);
        }
        creates.holdOff(run, attempt, now.plus(delay));
        requeueIn(delay);
    }

    /** The attempt's Job exists (created by this operator, or an earlier instance): it is the current attempt. */
    private void adopt(RenderInput in, Job job) {
        status.conditions = RunConditions.podGroupRefused(status.conditions, null, run.getMetadata().getGeneration(),
                now);
        status.conditions = RunConditions.outputInUse(status.conditions, null, run.getMetadata().getGeneration(), now);
        String name = job.getMetadata().getName();
        status.attempt = in.attempt();
        status.podGroup = name;
        status.nextRestartTime = null;
        if (status.startTime == null) {
            status.startTime = Timestamps.format(now);
            if (RunVolumes.outputIsEphemeral(spec)) {
                event(RunEvents.WARNING, "EphemeralOutput", ephemeralNote());
            }
        }
        event(RunEvents.NORMAL, "PodGroupCreated", "created Job " + name + " (attempt " + in.attempt() + ", "
                + spec.nodes + " pods)");
        trackActiveTime(job);
        observe(job);
    }

    /**
     * An edit of an active run that the operator judges invalid (the schema refuses the rest): the running attempt
     * goes on with the spec its Job was rendered from; the SpecValid condition and a Warning Event say so.
     */
    private void reportEdit(List<String> errors) {
        boolean wasInvalid = RunConditions.find(status.conditions, RunConditions.SPEC_VALID) != null;
        status.conditions = RunConditions.specEdit(status.conditions, errors, run.getMetadata().getGeneration(),
                now);
        var invalid = RunConditions.find(status.conditions, RunConditions.SPEC_VALID);
        if (invalid != null && !wasInvalid) {
            event(RunEvents.WARNING, "InvalidEdit", invalid.getMessage());
        }
    }

    // ---- suspend, end, deadline ----

    private void suspend() {
        observed.jobs().forEach(children::deleteJob);
        if (status.podGroup != null) {
            status.endedAttempt = status.attempt;
        }
        ActiveTime.stop(status, now);
        status.nextRestartTime = null;
        moveTo(RunPhase.Suspended, "SuspendedBySpec", "spec.suspend is true: the pods are removed; the run"
                + " resumes from its latest checkpoint when spec.suspend is set back to false");
    }

    private void succeed() {
        ActiveTime.stop(status, now);
        status.completionTime = Timestamps.format(now);
        status.nextRestartTime = null;
        moveTo(RunPhase.Succeeded, "Completed", "all " + spec.nodes + " pods of attempt " + status.attempt
                + " completed");
        children.cleanPods(spec.cleanPodPolicy, observed.jobs());
        checkAgainAtTtl();
    }

    private void fail(String reason, String message) {
        ActiveTime.stop(status, now);
        status.completionTime = Timestamps.format(now);
        status.nextRestartTime = null;
        moveTo(RunPhase.Failed, reason, message);
        children.cleanPods(spec.cleanPodPolicy, observed.jobs());
        checkAgainAtTtl();
    }

    /** An ended run: keep the clean-pod policy applied and delete the run when its TTL is up. */
    private void afterEnd() {
        children.cleanPods(spec.cleanPodPolicy, observed.jobs());
        if (spec.ttlSecondsAfterFinished != null && status.completionTime != null) {
            Instant expiry = Timestamps.parse(status.completionTime).plusSeconds(spec.ttlSecondsAfterFinished);
            if (!now.isBefore(expiry)) {
                event(RunEvents.NORMAL, "Expired", "deleted " + spec.ttlSecondsAfterFinished
                        + " s after it finished (spec.ttlSecondsAfterFinished)");
                deleteRun = true;
            } else {
                requeueIn(Duration.between(now, expiry));
            }
        }
    }

    private void checkAgainAtTtl() {
        if (spec.ttlSecondsAfterFinished != null) {
            requeueIn(Duration.ofSeconds(spec.ttlSecondsAfterFinished));
        }
    }

    /**
     * Keeps the run's active time (what spec.activeDeadlineSeconds bounds) in step with the current attempt's Job:
     * a stretch runs while the Job is unsuspended and unfinished, from when the Job controller last started it, and
     * ends when the Job is suspended (Kueue's queue or eviction), finished or gone.
     */
    private void trackActiveTime(Job current) {
        if (current != null && !JobConditions.isSuspended(current) && !JobConditions.isFinished(current)) {
            ActiveTime.start(status, JobConditions.startedAt(current).orElse(now), now);
        } else if (current != null && JobConditions.isSuspended(current)) {
            Instant suspended = JobConditions.suspendedAt(current).filter(t -> t.isBefore(now)).orElse(now);
            ActiveTime.stop(status, suspended);
        } else {
            ActiveTime.stop(status, now);
        }
    }

    private boolean deadlinePassed() {
        return spec.activeDeadlineSeconds != null
                && ActiveTime.total(status, now).toSeconds() >= spec.activeDeadlineSeconds;
    }

    /** While the pod group runs, the deadline can pass with no event: come back when it would. */
    private void checkAgainAtDeadline() {
        if (spec.activeDeadlineSeconds != null && ActiveTime.isRunning(status)) {
            Duration left = Duration.ofSeconds(spec.activeDeadlineSeconds).minus(ActiveTime.total(status, now));
            requeueIn(left);
        }
    }

    // ---- status ----

    private void moveTo(RunPhase phase, String reason, String message) {
        RunPhase before = status.phase;
        String shown = !phase.isFinal() && RunVolumes.outputIsEphemeral(spec) ? message + "; " + ephemeralNote()
                : message;
        status.phase = phase;
        status.message = shown;
        status.conditions = RunConditions.next(status.conditions, phase, reason, shown,
                run.getMetadata().getGeneration(), now);
        if (before != phase) {
            boolean bad = phase == RunPhase.Failed || phase == RunPhase.Restarting;
            event(bad ? RunEvents.WARNING : RunEvents.NORMAL, reason, message);
        }
    }

    private static String ephemeralNote() {
        return "spec.output has no claimName, so checkpoints live in an emptyDir and do not survive a gang restart";
    }

    private void event(String type, String reason, String message) {
        events.add(new PendingEvent(type, reason, message));
    }

    /**
     * Sends this reconcile's Events. "Accepted" is left out when the same reconcile created the pod group: one
     * Event says both, and at 1,000 runs every request counts.
     */
    private void sendEvents() {
        boolean created = events.stream().anyMatch(e -> e.reason().equals("PodGroupCreated"));
        for (PendingEvent e : events) {
            if (!(created && e.reason().equals("Accepted"))) {
                shared.events.record(client, run, e.type(), e.reason(), e.message());
            }
        }
    }

    private record PendingEvent(String type, String reason, String message) {
    }

    @SuppressWarnings("unchecked")
    private R withStatus(RunStatus s) {
        try {
            R fresh = (R) kind.type.getDeclaredConstructor().newInstance();
            fresh.setMetadata(new ObjectMetaBuilder().withName(run.getMetadata().getName())
                    .withNamespace(run.getMetadata().getNamespace()).build());
            fresh.setSpec(null);
            fresh.setStatus(s);
            return fresh;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(kind.kind + " has a public no-argument constructor", e);
        }
    }

    // ---- observation helpers ----

    private void requeueIn(Duration d) {
        if (requeue == null || d.compareTo(requeue) < 0) {
            requeue = d;
        }
    }

    private static String apiMessage(KubernetesClientException e) {
        return e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage()
                : e.getMessage();
    }
}
