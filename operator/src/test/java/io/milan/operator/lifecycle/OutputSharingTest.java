package io.milan.operator.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.CustomResource;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunSpec;
import io.milan.api.RunStatus;
import io.milan.api.StorageLocation;
import io.milan.operator.Fixtures;
import io.milan.operator.status.RunConditions;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Who holds an output location (issue 21, defect 10: two live runs must not share one). */
class OutputSharingTest {

    @Test
    void aRunWaitsForALiveRunWritingToTheSameClaimAndSubPath() {
        MilanPretrain writing = pretrain("writing", 10, "out", "runs/a", RunPhase.Running);
        // Another mount path and another spelling of the sub-path: the same directory on the claim.
        MilanFinetune younger = finetune("younger", 20, "out", "./runs//a/", null);
        younger.getSpec().output.path = "/elsewhere";
        assertEquals(Optional.of(writing), OutputSharing.holderOf(younger, List.of(writing, younger)));
        String message = OutputSharing.waitMessage(younger.getSpec(), writing);
        assertTrue(message.startsWith("spec.output (claim out, subPath runs/a) is the output location of"
                + " MilanPretrain writing (phase Running), which is writing there"), message);
    }

    @Test
    void anotherSubPathAnotherClaimOrAnEmptyDirIsADirectoryOfItsOwn() {
        MilanPretrain writing = pretrain("writing", 10, "out", "runs/a", RunPhase.Running);
        assertEquals(Optional.empty(), OutputSharing.holderOf(pretrain("b", 20, "out", "runs/b", null),
                List.of(writing)));
        assertEquals(Optional.empty(), OutputSharing.holderOf(pretrain("c", 20, "other", "runs/a", null),
                List.of(writing)));
        MilanPretrain emptyDir = pretrain("d", 20, "out", "runs/a", null);
        emptyDir.getSpec().output.claimName = null;
        assertEquals(Optional.empty(), OutputSharing.holderOf(emptyDir, List.of(writing)));
    }

    @Test
    void aWritingRunHoldsItsLocationEvenAgainstAnOlderOne() {
        // The younger run started before the older one was in the cache: it keeps the location until it ends.
        MilanPretrain older = pretrain("older", 10, "out", "", null);
        MilanPretrain writing = pretrain("writing", 20, "out", "", RunPhase.Queued);
        assertEquals(Optional.of(writing), OutputSharing.holderOf(older, List.of(older, writing)));
    }

    @Test
    void anOlderLiveRunThatIsNotWritingHoldsItsDirectoryForItsResume() {
        MilanPretrain younger = pretrain("younger", 20, "out", "", null);
        for (RunPhase phase : new RunPhase[] {RunPhase.Suspended, RunPhase.Restarting, RunPhase.Pending}) {
            MilanPretrain older = pretrain("older", 10, "out", "", phase);
            older.getStatus().podGroup = phase == RunPhase.Pending ? null : "older-a1";
            assertEquals(Optional.of(older), OutputSharing.holderOf(younger, List.of(older)), phase.name());
        }
    }

    @Test
    void endedAndDeletedRunsHoldNothing() {
        MilanPretrain younger = pretrain("younger", 20, "out", "", null);
        assertEquals(Optional.empty(), OutputSharing.holderOf(younger,
                List.of(pretrain("done", 10, "out", "", RunPhase.Succeeded),
                        pretrain("failed", 11, "out", "", RunPhase.Failed))));
        MilanPretrain deleting = pretrain("deleting", 12, "out", "", RunPhase.Running);
        deleting.getMetadata().setDeletionTimestamp("2026-01-01T00:01:00Z");
        assertEquals(Optional.empty(), OutputSharing.holderOf(younger, List.of(deleting)));
    }

    @Test
    void ofRunsWaitingForOneLocationExactlyTheOldestMayStart() {
        // Both wait (Pending with OutputInUse, their earlier attempts' pod groups recorded), created in the same
        // second: the order falls back to kind and name, so exactly one of them is free.
        MilanPretrain a = waiting(pretrain("a", 10, "out", "", RunPhase.Pending));
        MilanFinetune b = waiting(finetune("b", 10, "out", "", RunPhase.Pending));
        boolean aFree = OutputSharing.holderOf(a, List.of(a, b)).isEmpty();
        boolean bFree = OutputSharing.holderOf(b, List.of(a, b)).isEmpty();
        assertTrue(aFree ^ bFree, "exactly one starts: a " + aFree + ", b " + bFree);
        assertTrue(bFree, "MilanFinetune sorts before MilanPretrain");
    }

    private static <R extends CustomResource<? extends RunSpec, RunStatus>> R waiting(R run) {
        run.getStatus().podGroup = run.getMetadata().getName() + "-a1";
        run.getStatus().conditions = RunConditions.outputInUse(null, "waiting", 1, Instant.EPOCH);
        return run;
    }

    private static MilanPretrain pretrain(String name, int createdSecond, String claim, String subPath,
            RunPhase phase) {
        return place(Fixtures.pretrain("pretrain-vit-base.yaml"), name, createdSecond, claim, subPath, phase);
    }

    private static MilanFinetune finetune(String name, int createdSecond, String claim, String subPath,
            RunPhase phase) {
        return place(Fixtures.finetune("finetune-vit-base.yaml"), name, createdSecond, claim, subPath, phase);
    }

    /** The run named {@code name}, created at that second, writing to claim/subPath, in that phase (null: new). */
    private static <R extends CustomResource<? extends RunSpec, RunStatus>> R place(R run, String name,
            int createdSecond, String claim, String subPath, RunPhase phase) {
        run.getMetadata().setName(name);
        run.getMetadata().setCreationTimestamp(Instant.ofEpochSecond(createdSecond).toString());
        StorageLocation out = new StorageLocation("/output", claim);
        out.subPath = subPath;
        run.getSpec().output = out;
        if (phase != null) {
            RunStatus status = new RunStatus();
            status.phase = phase;
            status.podGroup = phase == RunPhase.Running || phase == RunPhase.Queued ? name + "-a1" : null;
            run.setStatus(status);
        }
        return run;
    }
}
