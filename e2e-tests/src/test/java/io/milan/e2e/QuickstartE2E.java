package io.milan.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The CPU quickstart end to end: MilanPretrain with 2 pods (data parallelism across pods) to Succeeded with
 * progress and checkpoints in status while it runs, then a MilanFinetune from it to Succeeded with top-1 in status
 * above a floor ({@code -Dmilan.e2e.top1Floor}, default 35 %, 3.5 times chance on Fashion-MNIST's 10 classes; the
 * suite's 3 + 3 short epochs on 1,500 images with the image's teacher measured 49.8 %).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QuickstartE2E extends E2ETestBase {
    private static final String PRETRAIN = "quickstart";
    private static final String FINETUNE = "quickstart-finetune";
    private static final int PRETRAIN_EPOCHS = 3;
    private static final int FINETUNE_EPOCHS = Integer.getInteger("milan.e2e.finetuneEpochs", 3);
    private static final double TOP1_FLOOR = Double.parseDouble(System.getProperty("milan.e2e.top1Floor", "35"));

    @Test
    @Order(1)
    void pretrainWithTwoPodsSucceedsShowingProgressAndCheckpoints() {
        runs.prepareData();
        MilanPretrain run = runs.pretrain(PRETRAIN, PRETRAIN_EPOCHS);
        client.resources(MilanPretrain.class).resource(run).create();
        RunHistory history = new RunHistory(PRETRAIN, () -> runs.pretrainStatus(PRETRAIN), () -> runs.jobs(PRETRAIN));

        RunStatus end = history.untilFinished(Runs.RUN_TIMEOUT);
        String context = "\nhistory:\n" + history.summary() + "\n" + runs.podLogs(PRETRAIN);
        assertEquals(RunPhase.Succeeded, end.phase, "the quickstart pretrain did not succeed: " + end.message + context);

        // Live status: progress and a checkpoint were visible while the pods ran, not only at the end.
        assertTrue(history.statuses().stream().anyMatch(s -> s.phase == RunPhase.Running && s.progress != null
                && s.progress.percent != null && s.progress.percent > 0 && s.progress.percent < 100),
                "no progress between 0 and 100 % was seen while Running" + context);
        assertTrue(history.statuses().stream().anyMatch(s -> s.phase == RunPhase.Running && s.checkpoint != null
                && s.checkpoint.path != null), "no checkpoint was seen in status while Running" + context);
        assertNonDecreasing(history.progressEpochs(), context);
        // Throughput is a rate of the epoch so far, never 0 once a step is done (the row that closes an epoch too).
        assertTrue(history.statuses().stream().filter(s -> s.progress != null && s.progress.step != null
                && s.progress.step >= 1).allMatch(s -> s.progress.imagesPerSecond != null
                && s.progress.imagesPerSecond > 0), "a progress row with steps done shows no images/s" + context);

        assertEquals(2, end.worldSize, "worldSize" + context);
        List<Pod> pods = runs.pods(PRETRAIN);
        // The progress above came from rank 0's own projected token (the kubelet's automount is off), admitted by
        // the chart's status-writers policy, which refuses every other pod's token (docs/tenancy.md).
        assertTrue(pods.stream().allMatch(p -> Boolean.FALSE.equals(p.getSpec().getAutomountServiceAccountToken())
                && p.getSpec().getVolumes().stream().anyMatch(v -> v.getProjected() != null)),
                "trainer pods mount the trainer's projected token instead of the kubelet's" + context);
        // What an administrator sees: the World column of -o wide, and the trainer's own count in rank 0's log.
        String wide = cluster.kubectl(java.time.Duration.ofSeconds(60), "get", "mpt", PRETRAIN, "-n", namespace,
                "-o", "wide").stdout();
        System.out.println("quickstart pretrain: kubectl get mpt -o wide\n" + wide);
        String header = wide.lines().findFirst().orElse("");
        String row = wide.lines().skip(1).findFirst().orElse("");
        int column = header.indexOf("WORLD"); // kubectl aligns every column under its header
        assertTrue(column >= 0 && row.length() > column, "-o wide has a WORLD column:\n" + wide);
        assertEquals("2", row.substring(column).trim().split("\\s+")[0], "WORLD of a 2-pod run:\n" + wide);
        Pod rank0 = pods.stream().filter(p -> "0".equals(p.getMetadata().getAnnotations()
                .get("batch.kubernetes.io/job-completion-index"))).findFirst().orElseThrow();
        assertTrue(runs.fullLog(rank0).contains("world size: 2 on cpu()"),
                "rank 0 logs its world size and device" + context);
        assertEquals(0, end.restarts, "restarts" + context);
        assertEquals(PRETRAIN_EPOCHS - 1, end.checkpoint.epoch, "the last checkpoint is of the last epoch" + context);
        assertEquals(PRETRAIN_EPOCHS, end.progress.totalEpochs, "totalEpochs" + context);
        assertTrue(end.progress.trainLoss != null && Double.isFinite(end.progress.trainLoss), "trainLoss" + context);
        // Both ranks ran to completion as pods of one Job: data parallelism crossed pods.
        assertEquals(List.of("Succeeded", "Succeeded"), pods.stream().map(p -> p.getStatus().getPhase()).toList(),
                "phases of the run's pods" + context);
        assertEquals(1, history.jobNames().size(), "one pod group (Job) for an undisturbed run" + context);
        // ... and nodes: the operator spreads a run's pods, and the ranks met over the cluster's pod network.
        List<String> nodes = pods.stream().map(p -> p.getSpec().getNodeName()).toList();
        System.out.printf("quickstart pretrain: ranks on nodes %s, pods %s%n", nodes,
                pods.stream().map(p -> p.getMetadata().getName() + "@" + p.getStatus().getPodIP()).toList());
        assertEquals(2, nodes.stream().distinct().count(), "the two ranks ran on two nodes: " + nodes + context);
    }

    @Test
    @Order(2)
    void finetuneFromTheQuickstartReachesTheAccuracyFloor() {
        RunStatus pretrain = runs.pretrainStatus(PRETRAIN);
        assertNotNull(pretrain, "the quickstart pretrain (previous test) does not exist");
        assertEquals(RunPhase.Succeeded, pretrain.phase, "the fine-tune needs the quickstart pretrain to succeed");

        MilanFinetune run = runs.finetune(FINETUNE, PRETRAIN, FINETUNE_EPOCHS);
        client.resources(MilanFinetune.class).resource(run).create();
        RunHistory history = new RunHistory(FINETUNE, () -> runs.finetuneStatus(FINETUNE), () -> runs.jobs(FINETUNE));

        RunStatus end = history.untilFinished(Runs.RUN_TIMEOUT);
        String context = "\nhistory:\n" + history.summary() + "\n" + runs.podLogs(FINETUNE);
        assertEquals(RunPhase.Succeeded, end.phase, "the quickstart fine-tune did not succeed: " + end.message + context);
        assertNotNull(end.pretrainedCheckpoint, "status.pretrainedCheckpoint" + context);
        assertTrue(end.pretrainedCheckpoint.endsWith(pretrain.checkpoint.path.substring(
                pretrain.checkpoint.path.lastIndexOf('/') + 1)),
                "fine-tuned from the pretrain's last checkpoint " + pretrain.checkpoint.path + context);
        assertNotNull(end.eval, "status.eval" + context);
        assertEquals(FINETUNE_EPOCHS - 1, end.eval.epoch, "evaluated after the last epoch" + context);
        System.out.printf("quickstart fine-tune: top-1 %.2f %% (best %.2f %% at epoch %d), top-5 %.2f %%%n",
                end.eval.top1, end.eval.bestTop1, end.eval.bestEpoch, end.eval.top5);
        assertTrue(end.eval.top1 > TOP1_FLOOR,
                "top-1 " + end.eval.top1 + " % is not above the floor " + TOP1_FLOOR + " %" + context);
    }

    static void assertNonDecreasing(List<Integer> epochs, String context) {
        for (int i = 1; i < epochs.size(); i++) {
            assertTrue(epochs.get(i) >= epochs.get(i - 1), "status.progress.epoch went back: " + epochs + context);
        }
    }
}
