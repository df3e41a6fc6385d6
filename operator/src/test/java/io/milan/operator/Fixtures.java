package io.milan.operator;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import io.milan.operator.config.OperatorSettings;
import io.milan.operator.naming.ChildNames;
import io.milan.operator.podgroup.RenderInput;
import io.milan.operator.podgroup.ResolvedPretrained;
import io.milan.operator.reconcile.RunKind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/** Runs read from the repository's examples, as a user would apply them. */
public final class Fixtures {
    private Fixtures() {
    }

    public static MilanPretrain pretrain(String example) {
        return read(example, MilanPretrain.class);
    }

    public static MilanFinetune finetune(String example) {
        return read(example, MilanFinetune.class);
    }

    public static RenderInput input(MilanPretrain run, int attempt) {
        return new RenderInput(RunKind.PRETRAIN, run, run.getSpec(), ChildNames.of(run.getMetadata().getName()),
                attempt, null, OperatorSettings.defaults());
    }

    public static RenderInput input(MilanFinetune run, int attempt, ResolvedPretrained pretrained) {
        return new RenderInput(RunKind.FINETUNE, run, run.getSpec(),
                ChildNames.of(RunKind.FINETUNE, run.getMetadata().getName()),
                attempt, pretrained, OperatorSettings.defaults());
    }

    public static Path examples() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("examples"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("examples/ not found above " + Path.of("").toAbsolutePath());
        }
        return dir.resolve("examples");
    }

    private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> T read(String example, Class<T> type) {
        try (InputStream in = Files.newInputStream(examples().resolve(example))) {
            T run = Serialization.unmarshal(in, type);
            run.getMetadata().setNamespace("team-a");
            run.getMetadata().setUid(UUID.randomUUID().toString());
            run.getMetadata().setGeneration(1L);
            return run;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read example " + example, e);
        }
    }
}
