package io.milan.operator.it;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanFinetuneSpec;
import io.milan.api.MilanPretrain;
import io.milan.api.MilanPretrainSpec;
import io.milan.api.PretrainedSource;
import io.milan.api.StorageLocation;
import io.milan.api.TeacherKind;
import io.milan.api.TeacherSpec;
import io.milan.api.VitModel;
import io.milan.testsupport.Kwok;
import java.util.ArrayList;
import java.util.List;

/**
 * Small runs for the integration tests: CPU pods (kwok nodes fake the rest), fast restarts. Their pods end Failed with
 * 143 when deleted, before they go, as a real kubelet ends a SIGTERMed trainer ({@link Kwok#SIGTERM_EXIT_ENV}): the
 * Job's podFailurePolicy keeps a deleted pod until it has ended, and kwok alone would leave it Terminating.
 */
public final class TestRuns {
    private TestRuns() {
    }

    public static MilanPretrain pretrain(String name, int nodes) {
        MilanPretrainSpec spec = new MilanPretrainSpec();
        spec.model = VitModel.VIT_TINY;
        spec.inputSize = 32;
        spec.patchSize = 4;
        spec.batchSize = 8;
        spec.epochs = 3;
        spec.warmupEpochs = 1;
        spec.nodes = nodes;
        spec.gpusPerNode = 0;
        spec.numWorkers = 1;
        spec.teacher = new TeacherSpec();
        spec.teacher.kind = TeacherKind.ENCODER;
        spec.teacher.weights = new StorageLocation("/opt/milan/teachers/t.safetensors", null);
        spec.dataset = new StorageLocation("/opt/milan/datasets/fashion-mnist", null);
        spec.restartPolicy.backoffSeconds = 1;
        spec.restartPolicy.maxBackoffSeconds = 2;
        spec.env = endsOnDeletion();
        MilanPretrain run = new MilanPretrain();
        run.setMetadata(new ObjectMetaBuilder().withName(name).build());
        run.setSpec(spec);
        run.setStatus(null);
        return run;
    }

    /** The env var that makes kwok end a deleted Running pod Failed with 143 (e2e/kwok/stages.yaml). */
    static List<EnvVar> endsOnDeletion() {
        return new ArrayList<>(List.of(new EnvVar(Kwok.SIGTERM_EXIT_ENV, "143", null)));
    }

    public static MilanFinetune finetune(String name, String pretrainName) {
        MilanFinetuneSpec spec = new MilanFinetuneSpec();
        spec.model = VitModel.VIT_TINY;
        spec.inputSize = 32;
        spec.patchSize = 4;
        spec.batchSize = 8;
        spec.epochs = 2;
        spec.warmupEpochs = 1;
        spec.numClasses = 10;
        spec.nodes = 1;
        spec.gpusPerNode = 0;
        spec.numWorkers = 1;
        spec.pretrained = new PretrainedSource();
        spec.pretrained.pretrainRef = new PretrainedSource.PretrainRef(pretrainName);
        spec.dataset = new StorageLocation("/opt/milan/datasets/fashion-mnist", null);
        spec.restartPolicy.backoffSeconds = 1;
        spec.env = endsOnDeletion();
        MilanFinetune run = new MilanFinetune();
        run.setMetadata(new ObjectMetaBuilder().withName(name).build());
        run.setSpec(spec);
        run.setStatus(null);
        return run;
    }
}
