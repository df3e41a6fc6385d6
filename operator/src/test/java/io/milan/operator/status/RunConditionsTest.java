package io.milan.operator.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Condition;
import io.milan.api.RunPhase;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunConditionsTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Instant T1 = Instant.parse("2026-01-01T00:05:00Z");
    private static final Instant T2 = Instant.parse("2026-01-01T00:09:00Z");

    @Test
    void exactlyThePhasesConditionIsTrueAndReadyWhileRunning() {
        List<Condition> c = RunConditions.next(null, RunPhase.Running, "PodsRunning", "2/2 pods running", 3, T0);
        assertEquals(RunConditions.TYPES.size(), c.size());
        assertEquals("True", get(c, "Running").getStatus());
        assertEquals("True", get(c, "Ready").getStatus());
        assertEquals("PodsRunning", get(c, "Running").getReason());
        assertEquals("False", get(c, "Failed").getStatus());
        assertEquals(3L, get(c, "Failed").getObservedGeneration());
        assertEquals("True", get(c, "Reconciling").getStatus(), "kstatus: InProgress while Running");
        assertEquals("PodsRunning", get(c, "Reconciling").getReason());
        assertEquals("2/2 pods running", get(c, "Reconciling").getMessage());
        c.stream().filter(x -> !List.of("Ready", "Running", "Reconciling").contains(x.getType()))
                .forEach(x -> assertEquals("False", x.getStatus(), x.getType()));
    }

    /**
     * kstatus (Flux) reads Reconciling and Stalled before anything else: Reconciling True is InProgress, Stalled True
     * is Failed; with both False it falls back to Ready (Current when True).
     */
    @Test
    void reconcilingWhileTheRunWorksStalledWhenItFailed() {
        for (RunPhase phase : RunPhase.values()) {
            List<Condition> c = RunConditions.next(null, phase, "Why", "what happened", 1, T0);
            boolean working = List.of(RunPhase.Pending, RunPhase.Queued, RunPhase.Running, RunPhase.Restarting)
                    .contains(phase);
            assertEquals(working ? "True" : "False", get(c, "Reconciling").getStatus(), phase.name());
            assertEquals(phase == RunPhase.Failed ? "True" : "False", get(c, "Stalled").getStatus(), phase.name());
        }
        List<Condition> failed = RunConditions.next(null, RunPhase.Failed, "RestartLimitExceeded",
                "pod r-a3-0 failed (exit code 1)", 4, T0);
        Condition stalled = get(failed, "Stalled");
        assertEquals("RestartLimitExceeded", stalled.getReason());
        assertEquals("pod r-a3-0 failed (exit code 1)", stalled.getMessage());
        assertEquals(4L, stalled.getObservedGeneration());
        assertEquals("Failed", get(failed, "Reconciling").getReason(), "False conditions name the phase");
    }

    @Test
    void reconcilingKeepsItsTransitionTimeAcrossTheWorkingPhases() {
        List<Condition> pending = RunConditions.next(null, RunPhase.Pending, "Accepted", "m", 1, T0);
        List<Condition> running = RunConditions.next(pending, RunPhase.Running, "PodsRunning", "1/1", 1, T1);
        assertEquals("2026-01-01T00:00:00Z", get(running, "Reconciling").getLastTransitionTime());
        List<Condition> failed = RunConditions.next(running, RunPhase.Failed, "PodFailed", "x", 1, T2);
        assertEquals("2026-01-01T00:09:00Z", get(failed, "Reconciling").getLastTransitionTime());
        assertEquals("2026-01-01T00:09:00Z", get(failed, "Stalled").getLastTransitionTime());
    }

    @Test
    void lastTransitionTimeMovesOnlyWhenTheStatusDoes() {
        List<Condition> first = RunConditions.next(null, RunPhase.Pending, "PodGroupCreated", "m", 1, T0);
        List<Condition> second = RunConditions.next(first, RunPhase.Pending, "WaitingForPods", "1/2", 1, T1);
        assertEquals("2026-01-01T00:00:00Z", get(second, "Running").getLastTransitionTime());
        assertEquals("2026-01-01T00:00:00Z", get(second, "Ready").getLastTransitionTime());

        List<Condition> third = RunConditions.next(second, RunPhase.Running, "PodsRunning", "2/2", 2, T2);
        assertEquals("2026-01-01T00:09:00Z", get(third, "Running").getLastTransitionTime());
        assertEquals("2026-01-01T00:09:00Z", get(third, "Ready").getLastTransitionTime());
        assertEquals("2026-01-01T00:00:00Z", get(third, "Failed").getLastTransitionTime(), "still False");
        assertEquals(2L, get(third, "Failed").getObservedGeneration());
        assertNotEquals(get(second, "Running").getStatus(), get(third, "Running").getStatus());
    }

    @Test
    void readyStaysTrueFromRunningToSucceeded() {
        List<Condition> running = RunConditions.next(null, RunPhase.Running, "PodsRunning", "m", 1, T0);
        List<Condition> done = RunConditions.next(running, RunPhase.Succeeded, "Completed", "done", 1, T1);
        assertEquals("True", get(done, "Ready").getStatus());
        assertEquals("2026-01-01T00:00:00Z", get(done, "Ready").getLastTransitionTime());
        assertEquals("True", get(done, "Succeeded").getStatus());
        assertEquals("False", get(done, "Running").getStatus());
    }

    private static Condition get(List<Condition> c, String type) {
        return RunConditions.find(c, type);
    }

    @Test
    void theSpecValidConditionIsSetClearedAndKeptAcrossPhaseChanges() {
        List<Condition> running = RunConditions.next(null, RunPhase.Running, "PodsRunning", "1/1", 1, T0);
        List<Condition> invalid = RunConditions.specEdit(running, List.of("spec.env[0].name WORLD_SIZE is set by"
                + " the operator and cannot be overridden"), 2, T1);
        Condition c = RunConditions.find(invalid, RunConditions.SPEC_VALID);
        assertEquals("False", c.getStatus());
        assertEquals("InvalidEdit", c.getReason());
        assertTrue(c.getMessage().contains("ignored by the running attempt"), c.getMessage());

        List<Condition> later = RunConditions.next(invalid, RunPhase.Running, "PodsRunning", "1/1", 2, T2);
        assertEquals(c, RunConditions.find(later, RunConditions.SPEC_VALID), "kept by phase updates");
        List<Condition> again = RunConditions.specEdit(later, List.of("other"), 3, T2);
        assertEquals(c.getLastTransitionTime(), RunConditions.find(again, RunConditions.SPEC_VALID)
                .getLastTransitionTime());
        List<Condition> fixed = RunConditions.specEdit(again, List.of(), 4, T2);
        assertEquals(null, RunConditions.find(fixed, RunConditions.SPEC_VALID));
        assertEquals(RunConditions.TYPES.size(), fixed.size());
    }
}
