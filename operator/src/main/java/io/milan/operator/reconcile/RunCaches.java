package io.milan.operator.reconcile;

import io.fabric8.kubernetes.client.CustomResource;
import io.javaoperatorsdk.operator.api.reconciler.IndexedResourceCache;
import io.milan.api.RunSpec;
import io.milan.api.RunStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The runs of both kinds, read from the two reconcilers' own informer caches: a reconcile of one run can see the
 * others of its namespace (who else writes to its output location) without an API request or a third informer.
 * Each reconciler registers its primary cache when its event sources are prepared.
 */
final class RunCaches {
    private final Map<RunKind, IndexedResourceCache<? extends CustomResource<? extends RunSpec, RunStatus>>> caches =
            new ConcurrentHashMap<>();

    void register(RunKind kind, IndexedResourceCache<? extends CustomResource<? extends RunSpec, RunStatus>> cache) {
        caches.put(kind, cache);
    }

    /** Every run of both kinds in {@code namespace}, as the caches hold them now. */
    List<CustomResource<? extends RunSpec, RunStatus>> inNamespace(String namespace) {
        List<CustomResource<? extends RunSpec, RunStatus>> runs = new ArrayList<>();
        for (var cache : caches.values()) {
            cache.list(namespace).forEach(runs::add);
        }
        return runs;
    }
}
