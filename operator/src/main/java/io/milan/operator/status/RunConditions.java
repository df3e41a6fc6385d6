package io.milan.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.milan.api.RunPhase;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Conditions derived from the phase, in the style of Keycloak's status aggregator: every type is always present,
 * the phase's own type is True, and besides it only {@code Ready} (while Running or Succeeded), {@code Reconciling}
 * and {@code Stalled} (below); and
 * {@code lastTransitionTime} changes only when a condition's status does, so watchers (kstatus, Argo CD, Flux)
 * see real transitions only.
 *
 * <p>{@code Reconciling} and {@code Stalled} are the two conditions of kstatus (sigs.k8s.io/cli-utils
 * pkg/kstatus/status, which Flux's {@code wait: true} and {@code flux/helm --wait} use): kstatus reads them before
 * anything else, so {@code Reconciling} True (Pending, Queued, Running, Restarting) is InProgress, {@code Stalled}
 * True (Failed) is Failed, and with both False a run falls through to {@code Ready}: Current when Succeeded,
 * InProgress when Suspended (Ready False). Their reason and message are the phase's own.
 */
public final class RunConditions {
    public static final String READY = "Ready";
    /** kstatus's InProgress: True while the run works towards its end (Pending, Queued, Running, Restarting). */
    public static final String RECONCILING = "Reconciling";
    /** kstatus's Failed: True when the run Failed, with the failure's reason and message. */
    public static final String STALLED = "Stalled";
    /** Present, False, while an edit made the spec invalid for the next attempt; never fails a running one. */
    public static final String SPEC_VALID = "SpecValid";
    /** Present, True, while the API server refuses the pod group's creates (403); gone once the Job exists. */
    public static final String POD_GROUP_REFUSED = "PodGroupRefused";
    /** Present, True, while another live run holds the run's output location and the run waits for it. */
    public static final String OUTPUT_IN_USE = "OutputInUse";
    public static final List<String> TYPES =
            List.of(READY, "Queued", "Running", "Restarting", "Suspended", "Succeeded", "Failed", RECONCILING,
                    STALLED);

    private RunConditions() {
    }

    public static List<Condition> next(List<Condition> previous, RunPhase phase, String reason, String message,
            long generation, Instant now) {
        Map<String, Condition> before = previous == null ? Map.of()
                : previous.stream().collect(Collectors.toMap(Condition::getType, Function.identity(), (a, b) -> b));
        List<Condition> out = new ArrayList<>();
        // Conditions that do not derive from the phase (SpecValid, PodGroupRefused) are kept as they are.
        before.values().stream().filter(c -> !TYPES.contains(c.getType())).forEach(out::add);
        for (String type : TYPES) {
            boolean on = isTrue(type, phase);
            String status = on ? "True" : "False";
            Condition old = before.get(type);
            String since = old != null && status.equals(old.getStatus()) && old.getLastTransitionTime() != null
                    ? old.getLastTransitionTime() : Timestamps.format(now);
            out.add(new ConditionBuilder()
                    .withType(type)
                    .withStatus(status)
                    .withReason(on ? reason : phase.name())
                    .withMessage(on ? message : "phase is " + phase)
                    .withObservedGeneration(generation)
                    .withLastTransitionTime(since)
                    .build());
        }
        return out;
    }

    /**
     * Sets or clears the {@value #SPEC_VALID} condition: present (status False, reason {@code InvalidEdit}) only
     * while the spec has errors that the running attempt does not suffer from (its Job was rendered from the spec it
     * started with); absent otherwise.
     */
    public static List<Condition> specEdit(List<Condition> previous, List<String> errors, long generation,
            Instant now) {
        String message = String.join("; ", errors) + "; the edit is ignored by the running attempt, which keeps"
                + " the spec it started with; the next attempt (a gang restart, or a resume after spec.suspend)"
                + " fails with InvalidSpec unless the spec is fixed";
        return setOrClear(previous, SPEC_VALID, !errors.isEmpty(), "False", "InvalidEdit", message, generation, now);
    }

    /**
     * Sets or clears the {@value #POD_GROUP_REFUSED} condition: present (status True, reason {@code Forbidden})
     * while the API server refuses to create the pod group (a quota, an admission policy, missing RBAC, a
     * terminating namespace); its {@code lastTransitionTime} is the first refusal, which paces the retries.
     */
    public static List<Condition> podGroupRefused(List<Condition> previous, String message, long generation,
            Instant now) {
        return setOrClear(previous, POD_GROUP_REFUSED, message != null, "True", "Forbidden", message, generation,
                now);
    }

    /**
     * Sets or clears the {@value #OUTPUT_IN_USE} condition: present (status True, reason {@code HeldByAnotherRun},
     * the message naming that run) while the run waits because another live run writes or holds its output
     * location ({@code lifecycle/OutputSharing}); absent otherwise.
     */
    public static List<Condition> outputInUse(List<Condition> previous, String message, long generation,
            Instant now) {
        return setOrClear(previous, OUTPUT_IN_USE, message != null, "True", "HeldByAnotherRun", message, generation,
                now);
    }

    /** A condition outside the phase's set: present while {@code present}, its transition time kept while it is. */
    private static List<Condition> setOrClear(List<Condition> previous, String type, boolean present, String status,
            String reason, String message, long generation, Instant now) {
        List<Condition> out = new ArrayList<>();
        Condition old = null;
        for (Condition c : previous == null ? List.<Condition>of() : previous) {
            if (type.equals(c.getType())) {
                old = c;
            } else {
                out.add(c);
            }
        }
        if (present) {
            out.add(new ConditionBuilder()
                    .withType(type)
                    .withStatus(status)
                    .withReason(reason)
                    .withMessage(message)
                    .withObservedGeneration(generation)
                    .withLastTransitionTime(old != null && old.getLastTransitionTime() != null
                            ? old.getLastTransitionTime() : Timestamps.format(now))
                    .build());
        }
        return out;
    }

    static boolean isTrue(String type, RunPhase phase) {
        return switch (type) {
            case READY -> phase == RunPhase.Running || phase == RunPhase.Succeeded;
            case RECONCILING -> !phase.isFinal() && phase != RunPhase.Suspended;
            case STALLED -> phase == RunPhase.Failed;
            default -> type.equals(phase.name());
        };
    }

    /** The condition of a type, or null. */
    public static Condition find(List<Condition> conditions, String type) {
        if (conditions == null) {
            return null;
        }
        return conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }
}
