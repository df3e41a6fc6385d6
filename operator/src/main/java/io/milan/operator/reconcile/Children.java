package io.milan.operator.reconcile;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.milan.api.CleanPodPolicy;
import io.milan.operator.events.AsyncCreate;
import io.milan.operator.lifecycle.JobConditions;
import io.milan.operator.naming.ChildNames;
import io.milan.operator.podgroup.GangPodGroup;
import io.milan.operator.podgroup.JobRenderer;
import io.milan.operator.podgroup.RenderInput;
import java.net.HttpURLConnection;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Writes a run's children. Creation is create-if-absent: names are deterministic, so "already exists" means the
 * child is there (made by an earlier reconcile or a previous operator instance) and is adopted as is.
 */
final class Children {
    private final KubernetesClient client;
    private final AsyncCreate creates;

    Children(KubernetesClient client, AsyncCreate creates) {
        this.client = client;
        this.creates = creates;
    }

    /**
     * Creates children without waiting, each unless one of that name exists: the chains at once, each in its order
     * (a RoleBinding needs its Role first: without the bind verb the API server checks the Role's rules), then
     * {@code last} once all chains are done. The future fails with the API server's refusal of any.
     */
    CompletableFuture<Void> sendAllIfAbsent(List<List<? extends HasMetadata>> chains, HasMetadata last) {
        CompletableFuture<?>[] sent = new CompletableFuture<?>[chains.size()];
        for (int i = 0; i < sent.length; i++) {
            CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
            AsyncCreate.Priority step = AsyncCreate.Priority.START;
            for (HasMetadata child : chains.get(i)) {
                AsyncCreate.Priority p = step;
                chain = chain.thenCompose(done -> creates.ifAbsent(client, child, p));
                step = AsyncCreate.Priority.CONTINUE;
            }
            sent[i] = chain;
        }
        return CompletableFuture.allOf(sent).thenCompose(done -> creates.ifAbsent(client, last,
                AsyncCreate.Priority.CONTINUE));
    }

    /**
     * Creates the PodGroup of a gang scheduler unless it exists; false when the scheduler's CRD is not installed.
     */
    boolean createGangPodGroup(GangPodGroup gang, RenderInput in) {
        var type = new ResourceDefinitionContext.Builder().withGroup(gang.group).withVersion(gang.version)
                .withKind(GangPodGroup.KIND).withPlural("podgroups").withNamespaced(true).build();
        var podGroups = client.genericKubernetesResources(type).inNamespace(in.namespace());
        var podGroup = gang.render(in);
        try {
            podGroups.resource(podGroup).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
                return false;
            }
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
            // Ours from an earlier reconcile, or another run's (a same-named run of another kind, a deleted run's
            // that the garbage collector has not removed yet): only ours is adopted.
            var existing = podGroups.withName(podGroup.getMetadata().getName()).get();
            if (existing != null) {
                AsyncCreate.requireSameController(podGroup, existing);
            }
        }
        return true;
    }

    /**
     * Deletes a Job; foreground propagation keeps it until its pods are gone. Its attempt's rendezvous Secret goes
     * with it (absent for a single-process run: nothing to delete).
     */
    void deleteJob(Job job) {
        if (job.getMetadata().getDeletionTimestamp() == null) {
            client.resource(job).withPropagationPolicy(DeletionPropagation.FOREGROUND).delete();
            client.secrets().inNamespace(job.getMetadata().getNamespace())
                    .withName(ChildNames.rendezvousSecretOf(job.getMetadata().getName())).delete();
        }
    }

    /** Whether a Job of that name exists, asking the API server (not the cache). */
    boolean jobExists(String namespace, String name) {
        return readJob(namespace, name) != null;
    }

    /** The Job of that name as the API server has it now (not the cache), or null. */
    Job readJob(String namespace, String name) {
        return client.batch().v1().jobs().inNamespace(namespace).withName(name).get();
    }

    /**
     * Applies the clean-pod policy to the Jobs of an ended run: All deletes them with their pods; Running suspends
     * unfinished ones, so the Job controller removes active pods and keeps finished pods for their logs, except a
     * Kueue-managed Job (label kueue.x-k8s.io/queue-name), which is deleted: Kueue unsuspends a suspended Job whose
     * Workload is admitted, and admits a suspended one that waits in its queue, so suspending would start its pods
     * again; deleting it removes its Workload too. None leaves everything. Idempotent: safe on every reconcile of an
     * ended run (a deleted Job is skipped, then gone).
     */
    void cleanPods(CleanPodPolicy policy, Collection<Job> jobs) {
        CleanPodPolicy p = policy != null ? policy : CleanPodPolicy.RUNNING;
        for (Job job : jobs) {
            if (job.getMetadata().getDeletionTimestamp() != null) {
                continue;
            }
            switch (p) {
                case ALL -> client.resource(job).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
                case RUNNING -> {
                    if (JobRenderer.isKueueManaged(job) && !JobConditions.isFinished(job)) {
                        client.resource(job).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
                    } else if (!JobConditions.isFinished(job) && !JobConditions.isSuspended(job)) {
                        client.batch().v1().jobs().inNamespace(job.getMetadata().getNamespace())
                                .withName(job.getMetadata().getName())
                                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":true}}");
                    }
                }
                case NONE -> {
                }
            }
        }
    }
}
