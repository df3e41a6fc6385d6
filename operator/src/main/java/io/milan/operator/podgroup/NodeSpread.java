package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.WeightedPodAffinityTerm;
import io.fabric8.kubernetes.api.model.WeightedPodAffinityTermBuilder;
import io.milan.operator.naming.Labels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A run's {@code nodes} are meant as machines, as torchrun's {@code --nnodes}: its pods prefer different nodes.
 * The preference is soft, with the highest weight: a cluster with fewer free nodes than the run's pods still runs it
 * (a one-node dev cluster, or a node drained mid-run), and on GPU clusters a pod that asks for a node's every GPU is
 * exclusive anyway. The user's own affinity is kept; this term is added beside its preferences.
 */
final class NodeSpread {
    static final String HOSTNAME = "kubernetes.io/hostname";
    static final int WEIGHT = 100;

    private NodeSpread() {
    }

    /** The pod affinity of one attempt: {@code userAffinity} plus anti-affinity among the attempt's own pods. */
    static Affinity affinity(Affinity userAffinity, int nodes, Map<String, String> runLabels, int attempt) {
        if (nodes < 2) {
            return userAffinity;
        }
        WeightedPodAffinityTerm apart = new WeightedPodAffinityTermBuilder()
                .withWeight(WEIGHT)
                .withNewPodAffinityTerm()
                    .withTopologyKey(HOSTNAME)
                    .withNewLabelSelector()
                        .addToMatchLabels(Labels.RUN, runLabels.get(Labels.RUN))
                        .addToMatchLabels(Labels.KIND, runLabels.get(Labels.KIND))
                        .addToMatchLabels(Labels.ATTEMPT, String.valueOf(attempt))
                    .endLabelSelector()
                .endPodAffinityTerm()
                .build();
        AffinityBuilder affinity = userAffinity == null ? new AffinityBuilder() : new AffinityBuilder(userAffinity);
        List<WeightedPodAffinityTerm> preferred = new ArrayList<>();
        if (userAffinity != null && userAffinity.getPodAntiAffinity() != null
                && userAffinity.getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution() != null) {
            preferred.addAll(userAffinity.getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution());
        }
        preferred.add(apart);
        return affinity.editOrNewPodAntiAffinity()
                .withPreferredDuringSchedulingIgnoredDuringExecution(preferred)
                .endPodAntiAffinity()
                .build();
    }
}
