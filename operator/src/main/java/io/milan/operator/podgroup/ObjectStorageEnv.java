package io.milan.operator.podgroup;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.milan.api.ObjectStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How the trainer reaches spec.output.s3: endpoint, region and path style as plain variables, and the access key
 * pair as references to the user's Secret ({@code secretKeyRef}), so the operator never reads the Secret (it has
 * no RBAC for Secrets) and its values appear nowhere but in the trainer's environment.
 */
public final class ObjectStorageEnv {
    /** Names this class sets; spec.env may not override them. */
    public static final Set<String> NAMES = Set.of(ObjectStorage.ENV_ENDPOINT, ObjectStorage.ENV_REGION,
            ObjectStorage.ENV_PATH_STYLE, ObjectStorage.ENV_ACCESS_KEY_ID, ObjectStorage.ENV_SECRET_ACCESS_KEY);

    private ObjectStorageEnv() {
    }

    /** The variables for {@code s3} (none for null). */
    public static List<EnvVar> of(ObjectStorage s3) {
        List<EnvVar> env = new ArrayList<>();
        if (s3 == null) {
            return env;
        }
        if (s3.endpoint != null) {
            env.add(value(ObjectStorage.ENV_ENDPOINT, s3.endpoint));
        }
        if (s3.region != null) {
            env.add(value(ObjectStorage.ENV_REGION, s3.region));
        }
        if (s3.pathStyle != null) {
            env.add(value(ObjectStorage.ENV_PATH_STYLE, s3.pathStyle.toString()));
        }
        if (s3.credentialsSecret != null) {
            env.add(secret(ObjectStorage.ENV_ACCESS_KEY_ID, s3.credentialsSecret, ObjectStorage.ACCESS_KEY_ID_KEY));
            env.add(secret(ObjectStorage.ENV_SECRET_ACCESS_KEY, s3.credentialsSecret,
                    ObjectStorage.SECRET_ACCESS_KEY_KEY));
        }
        return env;
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
