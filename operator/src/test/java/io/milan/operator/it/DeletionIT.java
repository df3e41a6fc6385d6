package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.testsupport.Await;
import io.milan.testsupport.WithLocalCluster;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Deleting a run removes its children through owner references (kube-controller-manager's GC). */
@WithLocalCluster
class DeletionIT extends RestrictedOperatorIT {
    @Test
    void deletingARunRemovesEverythingItOwned() {
        client.resource(TestRuns.pretrain("gone", 2)).create();
        awaitPhase(client, MilanPretrain.class, "gone", RunPhase.Running);
        Cluster.awaitRunningPods(client, "gone-a1", 2);

        // Foreground: the run stays (marked for deletion) until its children are gone; meanwhile the operator must
        // not recreate any of them.
        client.resources(MilanPretrain.class).withName("gone").withPropagationPolicy(DeletionPropagation.FOREGROUND)
                .delete();
        Await.until("run gone", Cluster.TIMEOUT, () -> Cluster.get(client, MilanPretrain.class, "gone"),
                r -> r == null);
        Await.until("children gone", Cluster.TIMEOUT, () -> List.of(
                Cluster.jobsOfRun(client, "gone").size(),
                client.pods().withLabel("milan.io/run", "gone").list().getItems().size(),
                client.services().withLabel("milan.io/run", "gone").list().getItems().size(),
                client.serviceAccounts().withLabel("milan.io/run", "gone").list().getItems().size(),
                client.rbac().roles().withLabel("milan.io/run", "gone").list().getItems().size(),
                client.rbac().roleBindings().withLabel("milan.io/run", "gone").list().getItems().size()),
                counts -> counts.stream().allMatch(n -> n == 0));
        assertTrue(Cluster.jobsOfRun(client, "gone").isEmpty(), "no Job recreated after deletion");
    }
}
