package io.milan.operator.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.milan.api.MilanPretrain;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** What a reconcile learns of its pod-group creates, and that a run's entries go with the run. */
class PodGroupCreatesTest {
    private static final Instant NOW = Instant.parse("2026-12-06T21:00:00Z");

    private final PodGroupCreates<MilanPretrain> creates = new PodGroupCreates<>();
    /** The operator's cache: what exists now. */
    private final Map<ResourceID, MilanPretrain> cache = new HashMap<>();

    @Test
    void aDeletedRunsHoldAndFailedSendAreDropped() {
        MilanPretrain held = run("held", "uid-1");
        MilanPretrain failed = run("failed", "uid-2");
        MilanPretrain kept = run("kept", "uid-3");
        creates.holdOff(held, 1, NOW.plusSeconds(300));
        creates.track(failed, 1, CompletableFuture.failedFuture(new IllegalStateException("403")));
        creates.holdOff(kept, 2, NOW.plusSeconds(300));
        assertEquals(3, creates.tracked());

        cache.remove(ResourceID.fromResource(held));
        cache.remove(ResourceID.fromResource(failed));
        creates.forgetGone(id -> Optional.ofNullable(cache.get(id)));

        assertEquals(1, creates.tracked(), "only the run that still exists keeps its hold");
        assertInstanceOf(PodGroupCreates.HeldOff.class, creates.state(kept, 2, NOW));
    }

    @Test
    void aRunRecreatedUnderItsNameDoesNotInheritTheOldHold() {
        MilanPretrain old = run("again", "uid-old");
        creates.holdOff(old, 1, NOW.plusSeconds(300));
        MilanPretrain recreated = run("again", "uid-new");

        creates.forgetGone(id -> Optional.ofNullable(cache.get(id)));

        assertEquals(0, creates.tracked());
        assertInstanceOf(PodGroupCreates.NotSent.class, creates.state(recreated, 1, NOW));
    }

    private MilanPretrain run(String name, String uid) {
        MilanPretrain run = new MilanPretrain();
        run.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("team-a").withUid(uid).build());
        cache.put(ResourceID.fromResource(run), run);
        return run;
    }
}
