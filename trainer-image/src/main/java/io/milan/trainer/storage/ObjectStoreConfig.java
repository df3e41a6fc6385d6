package io.milan.trainer.storage;

import io.milan.api.ObjectStorage;
import java.net.URI;
import java.util.Map;

/**
 * How to reach an S3-compatible server: the endpoint (null for AWS itself), the region, path-style addressing
 * ({@code http://host/bucket/key}, what MinIO and most on-premises servers want) and the credentials. Null
 * credentials mean the SDK's default chain: the standard {@code AWS_*} variables, a web identity token (IRSA on
 * EKS), the pod's instance profile.
 *
 * <p>{@link #fromEnvironment} reads {@code MILAN_S3_ENDPOINT}, {@code MILAN_S3_REGION} (default us-east-1),
 * {@code MILAN_S3_PATH_STYLE} (true/false; default true when an endpoint is set) and the access key pair from
 * {@code MILAN_S3_ACCESS_KEY_ID}/{@code MILAN_S3_SECRET_ACCESS_KEY}, which the operator fills from the Secret the
 * run names (io.milan.api.ObjectStorage); an input's variables carry its role ({@code MILAN_S3_DATASET_ENDPOINT},
 * ...). {@link Credentials#toString} never prints the secret.
 */
public record ObjectStoreConfig(URI endpoint, String region, boolean pathStyle, Credentials credentials) {

    public static final String ENDPOINT = ObjectStorage.ENV_ENDPOINT;
    public static final String REGION = ObjectStorage.ENV_REGION;
    public static final String PATH_STYLE = ObjectStorage.ENV_PATH_STYLE;
    public static final String ACCESS_KEY_ID = ObjectStorage.ENV_ACCESS_KEY_ID;
    public static final String SECRET_ACCESS_KEY = ObjectStorage.ENV_SECRET_ACCESS_KEY;

    /** An access key pair. */
    public record Credentials(String accessKeyId, String secretAccessKey) {
        @Override
        public String toString() {
            return "access key " + accessKeyId + " (secret not shown)";
        }
    }

    public ObjectStoreConfig {
        if (region == null || region.isBlank()) {
            region = "us-east-1";
        }
    }

    public static ObjectStoreConfig fromEnvironment(Map<String, String> env) {
        return fromEnvironment(env, ObjectStorage.Role.OUTPUT);
    }

    /**
     * {@code role}'s variables (e.g. {@code MILAN_S3_DATASET_ENDPOINT}); when none of them is set, the output's
     * ({@code MILAN_S3_ENDPOINT}, ...), so one set serves a hand-run trainer. The operator always sets an input's
     * region, so an input it renders never falls back to the output's credentials.
     */
    public static ObjectStoreConfig fromEnvironment(Map<String, String> env, ObjectStorage.Role role) {
        boolean own = ObjectStorage.ENV_NAMES.stream().anyMatch(n -> blankToNull(env.get(role.env(n))) != null);
        return parse(env, own ? role : ObjectStorage.Role.OUTPUT);
    }

    /** Reads {@code role}'s variables; messages name them. */
    private static ObjectStoreConfig parse(Map<String, String> env, ObjectStorage.Role role) {
        String endpointName = role.env(ENDPOINT);
        String pathStyleName = role.env(PATH_STYLE);
        String idName = role.env(ACCESS_KEY_ID);
        String secretName = role.env(SECRET_ACCESS_KEY);
        String endpoint = blankToNull(env.get(endpointName));
        URI uri = null;
        if (endpoint != null) {
            uri = URI.create(endpoint);
            if (uri.getScheme() == null || uri.getHost() == null) {
                throw new IllegalArgumentException(endpointName + " '" + endpoint + "' is not a URL such as"
                        + " https://minio.example:9000");
            }
        }
        String pathStyle = blankToNull(env.get(pathStyleName));
        if (pathStyle != null && !pathStyle.equals("true") && !pathStyle.equals("false")) {
            throw new IllegalArgumentException(pathStyleName + " must be true or false, got '" + pathStyle + "'");
        }
        String id = blankToNull(env.get(idName));
        String secret = blankToNull(env.get(secretName));
        if ((id == null) != (secret == null)) {
            throw new IllegalArgumentException("set both " + idName + " and " + secretName
                    + ", or neither (then the default AWS credentials chain applies)");
        }
        return new ObjectStoreConfig(uri, env.get(role.env(REGION)),
                pathStyle != null ? Boolean.parseBoolean(pathStyle) : uri != null,
                id == null ? null : new Credentials(id, secret));
    }

    /** Where requests go, as messages name it. */
    public String describeEndpoint() {
        return endpoint != null ? endpoint.toString() : "AWS S3 (" + region + ")";
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
