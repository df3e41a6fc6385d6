package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.milan.api.ObjectStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How the trainer reaches a location in object storage (spec.output.s3, spec.dataset.s3, ...): endpoint, region and
 * path style as plain variables, and the access key pair as references to the user's Secret ({@code secretKeyRef}),
 * so the operator never reads the Secret (it has no RBAC for Secrets) and its values appear nowhere but in the
 * trainer's environment. Each location has its own variables ({@link ObjectStorage.Role}).
 */
public final class ObjectStorageEnv {
    /** Names this class sets; spec.env may not override them. */
    public static final Set<String> NAMES = names();

    /** What the trainer and most S3-compatible servers assume. */
    static final String DEFAULT_REGION = "us-east-1";

    private ObjectStorageEnv() {
    }

    /** The output's variables for {@code s3} (none for null). */
    public static List<EnvVar> of(ObjectStorage s3) {
        return of(s3, ObjectStorage.Role.OUTPUT);
    }

    /**
     * {@code role}'s variables for {@code s3} (none for null). An input's region is always set (default
     * us-east-1): the trainer falls back to the output's variables only for a role that has none at all, which
     * suits a hand-run trainer but must not hand the output's credentials to an input.
     */
    public static List<EnvVar> of(ObjectStorage s3, ObjectStorage.Role role) {
        List<EnvVar> env = new ArrayList<>();
        if (s3 == null) {
            return env;
        }
        if (s3.endpoint != null) {
            env.add(value(role.env(ObjectStorage.ENV_ENDPOINT), s3.endpoint));
        }
        if (s3.region != null || role != ObjectStorage.Role.OUTPUT) {
            env.add(value(role.env(ObjectStorage.ENV_REGION), s3.region != null ? s3.region : DEFAULT_REGION));
        }
        if (s3.pathStyle != null) {
            env.add(value(role.env(ObjectStorage.ENV_PATH_STYLE), s3.pathStyle.toString()));
        }
        if (s3.credentialsSecret != null) {
            env.add(secret(role.env(ObjectStorage.ENV_ACCESS_KEY_ID), s3.credentialsSecret,
                    ObjectStorage.ACCESS_KEY_ID_KEY));
            env.add(secret(role.env(ObjectStorage.ENV_SECRET_ACCESS_KEY), s3.credentialsSecret,
                    ObjectStorage.SECRET_ACCESS_KEY_KEY));
        }
        return env;
    }

    private static Set<String> names() {
        Set<String> names = new java.util.TreeSet<>();
        for (ObjectStorage.Role role : ObjectStorage.Role.values()) {
            ObjectStorage.ENV_NAMES.forEach(n -> names.add(role.env(n)));
        }
        return Set.copyOf(names);
    }

    private static EnvVar value(String name, String value) {
        return new EnvVarBuilder().withName(name).withValue(value).build();
    }

    /** A required key: a Secret without it keeps the pod from starting (CreateContainerConfigError names it). */
    private static EnvVar secret(String name, String secret, String key) {
        return new EnvVarBuilder().withName(name).withNewValueFrom().withNewSecretKeyRef().withName(secret)
                .withKey(key).endSecretKeyRef().endValueFrom().build();
    }
}
