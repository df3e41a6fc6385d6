package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.testsupport.Await;
import io.milan.testsupport.TestCluster;
import io.milan.testsupport.WithLocalCluster;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two replicas of the packaged operator with leader election on (issue 21, defect 9): SIGTERM to the leader, as
 * Kubernetes sends it when the pod is deleted or rolled, makes it exit within the pod's grace period and give the
 * Lease back, and the standby takes over and reconciles; then that leader, unable to renew, exits. In this order:
 * the second test needs the leader the first one left.
 */
@WithLocalCluster
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LeaderElectionIT {
    /** A pod's default terminationGracePeriodSeconds: after it the kubelet sends SIGKILL. */
    private static final Duration GRACE = Duration.ofSeconds(30);
    /** The operator's lease duration (the operator SDK's default): a standby takes over within it. */
    private static final Duration LEASE_DURATION = Duration.ofSeconds(15);
    /** How long a leader goes on trying to renew before it gives up leadership (the operator SDK's default). */
    private static final Duration RENEW_DEADLINE = Duration.ofSeconds(10);

    private static KubernetesClient client;
    private static PackagedOperator packaged;
    private static List<PackagedOperator.Replica> replicas;

    @BeforeAll
    static void startTwoReplicas(KubernetesClient c, TestCluster cluster) throws Exception {
        client = c;
        packaged = PackagedOperator.install(client, cluster.namespace());
        replicas = List.of(packaged.start("replica-a", "leader-election-it"),
                packaged.start("replica-b", "leader-election-it"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (packaged != null) {
            packaged.close();
        }
    }

    @Test
    @Order(1)
    void sigtermMakesTheLeaderExitAndHandTheLeaseToTheStandby() throws Exception {
        String firstHolder = Await.until("a replica holds the Lease (logs: target/leader-election-it-*.log)",
                Duration.ofSeconds(120), LeaderElectionIT::holder, h -> h != null && replicaNamed(h) != null);
        PackagedOperator.Replica leader = replicaNamed(firstHolder);
        PackagedOperator.Replica standby = replicas.get(0) == leader ? replicas.get(1) : replicas.get(0);
        client.resource(TestRuns.pretrain("before", 1)).create();
        awaitPhase(client, MilanPretrain.class, "before", RunPhase.Running);

        leader.process().destroy(); // SIGTERM
        boolean exited = leader.process().waitFor(GRACE.toSeconds(), TimeUnit.SECONDS);
        assertTrue(exited, "the leader " + leader.name() + " did not exit within " + GRACE.toSeconds()
                + " s of SIGTERM (see " + leader.log() + ")");
        assertNotEquals(firstHolder, holder(), "the leader gave the Lease back before it exited");

        String next = Await.until("the standby " + standby.name() + " holds the Lease", LEASE_DURATION,
                LeaderElectionIT::holder, h -> h != null && h.startsWith(standby.name()));
        assertTrue(standby.process().isAlive(), "the standby runs on as leader: " + next);
        client.resource(TestRuns.pretrain("after", 1)).create();
        var running = awaitPhase(client, MilanPretrain.class, "after", RunPhase.Running);
        assertEquals("after-a1", running.podGroup, "the new leader created the run's pod group");
    }

    /**
     * Releasing on shutdown must not cost the old safety: a leader that can no longer renew the Lease (here its
     * RBAC on Leases is revoked) stops leading after the renew deadline and exits, so it never reconciles beside
     * the next leader.
     */
    @Test
    @Order(2)
    void aLeaderThatCannotRenewTheLeaseExits() throws Exception {
        String holding = Await.until("a replica holds the Lease", LEASE_DURATION, LeaderElectionIT::holder,
                h -> h != null && replicaNamed(h) != null);
        PackagedOperator.Replica leader = replicaNamed(holding);
        assertTrue(leader.process().isAlive(), leader.name());

        client.rbac().roleBindings().withName("milan-operator-leader-election").delete();
        boolean exited = leader.process().waitFor(RENEW_DEADLINE.plus(GRACE).toSeconds(), TimeUnit.SECONDS);
        assertTrue(exited, leader.name() + " kept running without the Lease (see " + leader.log() + ")");
        assertEquals(1, leader.process().exitValue(), "exit status of a leader that lost the Lease");
    }

    private static String holder() {
        Lease lease = client.leases().withName(PackagedOperator.LEASE).get();
        return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
    }

    /** The replica whose identity (it begins with the replica's HOSTNAME) holds the Lease. */
    private static PackagedOperator.Replica replicaNamed(String holder) {
        return replicas.stream().filter(r -> holder.startsWith(r.name())).findFirst().orElse(null);
    }
}
