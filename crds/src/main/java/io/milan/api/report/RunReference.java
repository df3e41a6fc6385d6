package io.milan.api.report;

import io.milan.api.MilanFinetune;
import io.milan.api.MilanPretrain;
import java.util.Map;
import java.util.Optional;

/**
 * Which run a trainer process reports to. The operator passes it to every pod in the environment variables named
 * here; a trainer started outside Kubernetes has none of them and reports nothing.
 */
public record RunReference(String kind, String name, String namespace) {
    /** Kind of the run: {@code MilanPretrain} or {@code MilanFinetune}. */
    public static final String ENV_KIND = "MILAN_RUN_KIND";
    public static final String ENV_NAME = "MILAN_RUN_NAME";
    public static final String ENV_NAMESPACE = "MILAN_RUN_NAMESPACE";
    /**
     * {@code metadata.uid} of the run: the trainer records it in every checkpoint and refuses to resume one written
     * under another UID (a deleted and recreated run of the same name, or another run sharing the directory).
     */
    public static final String ENV_UID = "MILAN_RUN_UID";
    /** 1-based attempt of the pod group; progress reports carry it so a straggler can never win. */
    public static final String ENV_ATTEMPT = "MILAN_ATTEMPT";
    /** Field manager of the trainer's server-side applies. */
    public static final String FIELD_MANAGER = "milan-trainer";

    public RunReference {
        if (!MilanPretrain.KIND.equals(kind) && !MilanFinetune.KIND.equals(kind)) {
            throw new IllegalArgumentException(ENV_KIND + " must be " + MilanPretrain.KIND + " or "
                    + MilanFinetune.KIND + ", got '" + kind + "'");
        }
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException(ENV_NAME + " must name the run");
        }
        if (namespace == null || namespace.isBlank()) {
            throw new IllegalArgumentException(ENV_NAMESPACE + " must name the run's namespace");
        }
    }

    /** The run named by the environment, or empty when {@code MILAN_RUN_NAME} is unset (not in Kubernetes). */
    public static Optional<RunReference> fromEnvironment(Map<String, String> env) {
        String name = env.get(ENV_NAME);
        if (name == null || name.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(new RunReference(env.get(ENV_KIND), name, env.get(ENV_NAMESPACE)));
    }

    public boolean isPretrain() {
        return MilanPretrain.KIND.equals(kind);
    }

    @Override
    public String toString() {
        return kind + " " + namespace + "/" + name;
    }
}
