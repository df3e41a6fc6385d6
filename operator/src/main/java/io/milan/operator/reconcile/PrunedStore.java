package io.milan.operator.reconcile;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;

/**
 * The informer cache of Jobs and pods, keeping only what a reconcile reads: metadata (without managedFields), a
 * Job's status and {@code spec.suspend}, a pod's status. A pod's spec and a Job's pod template are most of their
 * size and never read (the operator renders the template, it does not compare it); with 1,000 runs the full
 * objects made up most of the operator's heap (docs/benchmarks.md, Operator).
 */
final class PrunedStore<T extends HasMetadata> extends BasicItemStore<T> {
    PrunedStore() {
        super(Cache::metaNamespaceKeyFunc);
    }

    @Override
    public T put(String key, T obj) {
        return super.put(key, prune(obj));
    }

    static <T extends HasMetadata> T prune(T obj) {
        obj.getMetadata().setManagedFields(null);
        if (obj instanceof Pod pod) {
            pod.setSpec(null);
        } else if (obj instanceof Job job && job.getSpec() != null) {
            job.getSpec().setTemplate(null);
            job.getSpec().setSelector(null);
        }
        return obj;
    }
}
