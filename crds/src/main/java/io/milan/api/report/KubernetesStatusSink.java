package io.milan.api.report;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.api.RunStatus;

/**
 * Server-side apply to the run's status subresource under {@link RunReference#FIELD_MANAGER}, forcing
 * ownership of the trainer's fields. The body carries no spec and no operator-owned status field.
 */
public class KubernetesStatusSink implements StatusSink {
    private final KubernetesClient client;

    public KubernetesStatusSink(KubernetesClient client) {
        this.client = client;
    }

    @Override
    public TrainerFields read(RunReference run) {
        CustomResource<?, RunStatus> current = client.resources(type(run)).inNamespace(run.namespace())
                .withName(run.name()).get();
        if (current == null) {
            throw new IllegalStateException(run + " does not exist");
        }
        return TrainerFields.of(current.getStatus());
    }

    @Override
    public void apply(RunReference run, TrainerFields fields) {
        CustomResource<?, RunStatus> body = run.isPretrain() ? new MilanPretrain() : new MilanFinetune();
        body.setMetadata(new ObjectMetaBuilder().withName(run.name()).withNamespace(run.namespace()).build());
        body.setSpec(null);
        body.setStatus(fields.toStatus());
        client.resource((HasMetadata) body).subresource("status").patch(new PatchContext.Builder()
                .withPatchType(PatchType.SERVER_SIDE_APPLY)
                .withFieldManager(RunReference.FIELD_MANAGER)
                .withForce(true)
                .build());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Class<CustomResource<?, RunStatus>> type(RunReference run) {
        return (Class) (run.isPretrain() ? MilanPretrain.class : MilanFinetune.class);
    }
}
