package io.milan.operator.it;

import static io.milan.operator.it.Cluster.awaitPhase;
import static io.milan.operator.it.Cluster.awaitStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.milan.api.MilanPretrain;
import io.milan.api.PodSpecOverrides;
import io.milan.api.PodTemplateOverrides;
import io.milan.api.RunPhase;
import io.milan.api.RunStatus;
import io.milan.api.report.KubernetesStatusSink;
import io.milan.api.report.RunReference;
import io.milan.api.report.TrainerFields;
import io.milan.operator.naming.ChildNames;
import io.milan.operator.podgroup.TrainerEnv;
import io.milan.operator.reconcile.RunKind;
import io.milan.testsupport.Await;
import io.milan.testsupport.TestCluster;
import io.milan.testsupport.WithLocalCluster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The status belongs to its writers, on the real API server: the chart's admission policy (the very file it renders,
 * {@code charts/milan-operator/files/admission/status-writers.yaml}), bound in this class's namespace as the chart
 * binds it in namespaces mode. The run's trainer, with its own ServiceAccount token, reports progress through the
 * real sink but cannot forge the operator's fields; a ServiceAccount the run names in its pod template cannot either;
 * only the token bound to rank 0's pod (completion index 0 of the current attempt) writes at all, not another
 * rank's nor one bound to no pod; the operator's identity (a ServiceAccount holding the operator's RBAC rules) still
 * sets the phase.
 */
@WithLocalCluster
class StatusWritersIT {
    static final Path POLICY = Path.of("..", "charts", "milan-operator", "files", "admission", "status-writers.yaml");
    static final Path OPERATOR_RBAC = Path.of("src", "main", "kubernetes", "rbac.yaml");
    private static final String REFUSAL = "may change only status.progress, status.eval and status.checkpoint";

    private static KubernetesClient client;
    private static String namespace;
    private static InProcessOperator operator;
    private static final List<HasMetadata> clusterScoped = new ArrayList<>();

    @BeforeAll
    static void start(KubernetesClient c, TestCluster cluster) throws IOException {
        client = c;
        namespace = cluster.namespace();
        installPolicy();
        operator = InProcessOperator.startRestricted(client, namespace);
    }

    @AfterAll
    static void stop() {
        operator.close();
        clusterScoped.forEach(r -> client.resource(r).delete());
    }

    @Test
    void theTrainerReportsProgressButCannotForgeTheOperatorsFields() {
        RunStatus running = startRun("forger", 1);
        String trainerAccount = ChildNames.of(RunKind.PRETRAIN, "forger").trainerAccount();
        try (KubernetesClient trainer = TrainerIdentity.clientForPod(client, rankPod(running, 0))) {
            awaitPolicyInEffect(trainer, "forger");

            RunReference ref = new RunReference("MilanPretrain", "forger", namespace);
            new KubernetesStatusSink(trainer).apply(ref, new TrainerFields(
                    ProgressReportingIT.progress(1, 0, 10, 0.8), null, ProgressReportingIT.checkpoint(0)));
            assertEquals(10L, Cluster.status(client, MilanPretrain.class, "forger").progress.globalStep,
                    "the trainer's own fields are accepted");

            String user = "system:serviceaccount:" + namespace + ":" + trainerAccount;
            assertRefused(() -> patchStatus(trainer, "forger", PatchType.JSON_MERGE,
                    "{\"status\":{\"phase\":\"Succeeded\"}}", false), "status.phase", user);
            assertRefused(() -> patchStatus(trainer, "forger", PatchType.JSON,
                    "[{\"op\":\"remove\",\"path\":\"/status/startTime\"}]", false), "status.startTime", user);
            // The sink's own way of writing (server-side apply, forced) with an operator field slipped in.
            assertRefused(() -> patchStatus(trainer, "forger", PatchType.SERVER_SIDE_APPLY,
                    "{\"apiVersion\":\"milan.io/v1alpha1\",\"kind\":\"MilanPretrain\",\"metadata\":{\"name\":\"forger\"},"
                            + "\"status\":{\"restarts\":0,\"attempt\":7}}", false), "status.attempt", user);
        }
        RunStatus after = Cluster.status(client, MilanPretrain.class, "forger");
        assertEquals(RunPhase.Running, after.phase);
        assertEquals(running.startTime, after.startTime);
        assertEquals(running.attempt, after.attempt);
    }

    @Test
    void onlyRankZerosPodBoundTokenWritesStatus() {
        // Two pods: every one mounts the trainer's token, only index 0's may write.
        RunStatus running = startRun("ranks", 2);
        String user = "system:serviceaccount:" + namespace + ":" + ChildNames.of(RunKind.PRETRAIN, "ranks").trainerAccount();
        RunReference ref = new RunReference("MilanPretrain", "ranks", namespace);
        Pod rank1 = rankPod(running, 1);
        try (KubernetesClient unbound = TrainerIdentity.clientFor(client, namespace, "ranks");
                KubernetesClient fromRank1 = TrainerIdentity.clientForPod(client, rank1);
                KubernetesClient fromRank0 = TrainerIdentity.clientForPod(client, rankPod(running, 0))) {
            awaitPolicyInEffect(fromRank0, "ranks");
            TrainerFields progress = new TrainerFields(ProgressReportingIT.progress(1, 0, 5, 0.7), null, null);

            KubernetesClientException refused = assertThrows(KubernetesClientException.class,
                    () -> new KubernetesStatusSink(fromRank1).apply(ref, progress));
            assertEquals(403, refused.getCode(), refused.getMessage());
            System.out.println("rank 1's token: " + refused.getStatus().getMessage());
            assertTrue(refused.getMessage().contains("a run's trainer (" + user + ") writes its status only from rank"
                    + " 0's pod of the current attempt (" + running.podGroup + "-0-*, completion index 0 of Job "
                    + running.podGroup + "); this token is bound to pod " + rank1.getMetadata().getName()),
                    refused.getMessage());

            refused = assertThrows(KubernetesClientException.class,
                    () -> new KubernetesStatusSink(unbound).apply(ref, progress));
            assertEquals(403, refused.getCode(), refused.getMessage());
            System.out.println("a token bound to no pod: " + refused.getStatus().getMessage());
            assertTrue(refused.getMessage().contains("a run's trainer (" + user + ") writes its status only with the"
                    + " token mounted in rank 0's pod; this token is bound to no pod"), refused.getMessage());
            assertEquals(null, Cluster.status(client, MilanPretrain.class, "ranks").progress,
                    "neither refused write reached the status");

            // Other ranks' tokens still read their run (the Role's get): only the status write is rank 0's.
            assertEquals("ranks", fromRank1.resources(MilanPretrain.class).withName("ranks").get().getMetadata()
                    .getName());
            new KubernetesStatusSink(fromRank0).apply(ref, progress);
        }
        assertEquals(5L, Cluster.status(client, MilanPretrain.class, "ranks").progress.globalStep);
    }

    @Test
    void aServiceAccountTheRunNamesIsHeldToTheSameFields() {
        // spec.podTemplate.spec.serviceAccountName: the operator binds the run's Role to the user's account instead.
        client.resource(new ServiceAccountBuilder().withNewMetadata().withName("team-sa").endMetadata().build())
                .create();
        MilanPretrain run = TestRuns.pretrain("borrowed", 1);
        run.getSpec().podTemplate = new PodTemplateOverrides();
        run.getSpec().podTemplate.spec = new PodSpecOverrides();
        run.getSpec().podTemplate.spec.serviceAccountName = "team-sa";
        client.resource(run).create();
        RunStatus running = awaitStatus(client, MilanPretrain.class, "borrowed", "running with a pod group",
                s -> s.phase == RunPhase.Running && s.podGroup != null);
        Pod rank0 = rankPod(running, 0);
        assertEquals("team-sa", rank0.getSpec().getServiceAccountName());
        try (KubernetesClient team = TrainerIdentity.clientForPod(client, rank0)) {
            awaitPolicyInEffect(team, "borrowed");
            assertRefused(() -> patchStatus(team, "borrowed", PatchType.JSON_MERGE,
                    "{\"status\":{\"phase\":\"Failed\",\"message\":\"forged\"}}", false), "status.phase",
                    "system:serviceaccount:" + namespace + ":team-sa");
            new KubernetesStatusSink(team).apply(new RunReference("MilanPretrain", "borrowed", namespace),
                    new TrainerFields(ProgressReportingIT.progress(1, 0, 3, 0.9), null, null));
        }
        RunStatus after = Cluster.status(client, MilanPretrain.class, "borrowed");
        assertEquals(3L, after.progress.globalStep);
        assertEquals(RunPhase.Running, after.phase);
    }

    @Test
    void theOperatorsIdentityStillSetsThePhase() throws IOException {
        startRun("operated", 1);
        try (KubernetesClient trainer = TrainerIdentity.clientFor(client, namespace, "operated")) {
            awaitPolicyInEffect(trainer, "operated");
        }
        try (KubernetesClient operatorIdentity = operatorIdentity()) {
            // A dry run passes through admission like a write but changes nothing, so the in-process operator
            // keeps driving the run; the trainer's same request is refused above.
            MilanPretrain written = patchStatus(operatorIdentity, "operated", PatchType.JSON_MERGE,
                    "{\"status\":{\"phase\":\"Succeeded\"}}", true);
            assertEquals(RunPhase.Succeeded, written.getStatus().phase);
        }
        assertEquals(RunPhase.Running, Cluster.status(client, MilanPretrain.class, "operated").phase);
    }

    private static RunStatus startRun(String name, int nodes) {
        client.resource(TestRuns.pretrain(name, nodes)).create();
        awaitPhase(client, MilanPretrain.class, name, RunPhase.Running);
        return awaitStatus(client, MilanPretrain.class, name, "startTime and pod group recorded",
                s -> s.startTime != null && s.podGroup != null);
    }

    /** The pod of completion index {@code index} of the run's current attempt (as kwok runs it). */
    private static Pod rankPod(RunStatus running, int index) {
        return Await.until("pod " + index + " of Job " + running.podGroup, Cluster.TIMEOUT,
                () -> Cluster.podsOf(client, running.podGroup).stream()
                        .filter(p -> String.valueOf(index).equals(p.getMetadata().getAnnotations()
                                .get(TrainerEnv.COMPLETION_INDEX_ANNOTATION)))
                        .findFirst(), Optional::isPresent).orElseThrow();
    }

    private static MilanPretrain patchStatus(KubernetesClient as, String run, PatchType type, String body,
            boolean dryRun) {
        PatchContext.Builder patch = new PatchContext.Builder().withPatchType(type);
        if (type == PatchType.SERVER_SIDE_APPLY) {
            patch.withFieldManager("milan-trainer").withForce(true);
        }
        if (dryRun) {
            patch.withDryRun(List.of("All"));
        }
        return as.resources(MilanPretrain.class).inNamespace(namespace).withName(run).subresource("status")
                .patch(patch.build(), body);
    }

    /** The write is refused by the policy, with a message naming {@code field} and the writer. */
    private static void assertRefused(Runnable write, String field, String user) {
        KubernetesClientException refused = assertThrows(KubernetesClientException.class, write::run);
        assertEquals(403, refused.getCode(), refused.getMessage());
        String message = refused.getMessage();
        assertTrue(message.contains(field) && message.contains(": a run's trainer (" + user + ") " + REFUSAL),
                message);
    }

    /**
     * The API server applies a new policy once its admission plugin has loaded it: a forged phase, sent as a dry
     * run (so nothing changes while the policy is not yet in effect), is tried until it is refused.
     */
    private static void awaitPolicyInEffect(KubernetesClient as, String run) {
        Await.until("the status-writers policy refusing a forged phase", Cluster.TIMEOUT, () -> {
            try {
                patchStatus(as, run, PatchType.JSON_MERGE, "{\"status\":{\"phase\":\"Succeeded\"}}", true);
                return Optional.<String>empty();
            } catch (KubernetesClientException e) {
                return Optional.ofNullable(e.getCode() == 403 && e.getMessage().contains(REFUSAL) ? e.getMessage()
                        : null);
            }
        }, Optional::isPresent);
    }

    /** The policy file as the chart has it, named for this class, bound in this namespace only. */
    private static void installPolicy() throws IOException {
        String name = "milan-status-writers-" + namespace;
        ValidatingAdmissionPolicy policy;
        try (InputStream in = Files.newInputStream(POLICY)) {
            policy = client.getKubernetesSerialization().unmarshal(in, ValidatingAdmissionPolicy.class);
        }
        policy.getMetadata().setName(name);
        ValidatingAdmissionPolicyBinding binding = new ValidatingAdmissionPolicyBindingBuilder()
                .withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withPolicyName(name).withValidationActions("Deny")
                    .withNewMatchResources().withNewNamespaceSelector()
                        .addNewMatchExpression().withKey("kubernetes.io/metadata.name").withOperator("In")
                            .withValues(namespace).endMatchExpression()
                    .endNamespaceSelector().endMatchResources()
                .endSpec().build();
        clusterScoped.add(client.resource(policy).create());
        clusterScoped.add(client.resource(binding).create());
    }

    /** A ServiceAccount holding the operator's rules (rbac.yaml's ClusterRole) in this namespace, as a client. */
    private static KubernetesClient operatorIdentity() throws IOException {
        ClusterRole rules;
        try (InputStream in = Files.newInputStream(OPERATOR_RBAC)) {
            rules = client.load(in).items().stream().filter(ClusterRole.class::isInstance)
                    .map(ClusterRole.class::cast).findFirst().orElseThrow();
        }
        client.resource(new ServiceAccountBuilder().withNewMetadata().withName("milan-operator").endMetadata()
                .build()).create();
        client.resource(new RoleBuilder().withNewMetadata().withName("milan-operator").endMetadata()
                .withRules(rules.getRules()).build()).create();
        client.resource(new RoleBindingBuilder().withNewMetadata().withName("milan-operator").endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", "milan-operator")
                .addNewSubject().withKind("ServiceAccount").withName("milan-operator").withNamespace(namespace)
                    .endSubject()
                .build()).create();
        return TrainerIdentity.clientForAccount(client, namespace, "milan-operator");
    }
}
