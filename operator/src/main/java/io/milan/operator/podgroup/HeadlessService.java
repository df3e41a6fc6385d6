package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.milan.operator.naming.Labels;
import java.util.Map;

/** The headless Service that gives the group's pods stable DNS names (the pods' subdomain). */
public final class HeadlessService {
    private HeadlessService() {
    }

    public static Service render(RenderInput in) {
        return new ServiceBuilder()
                .withMetadata(in.childMetadata(in.names().service()))
                .withNewSpec()
                    .withClusterIP("None")
                    // Rank 0 must resolve as soon as it has an address, before any readiness.
                    .withPublishNotReadyAddresses(true)
                    .withSelector(Map.of(Labels.KIND, in.kind().label, Labels.RUN, in.names().base()))
                    .addNewPort().withName("rendezvous").withPort(in.spec().masterPort).endPort()
                .endSpec()
                .build();
    }
}
