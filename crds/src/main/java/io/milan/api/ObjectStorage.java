package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/**
 * An S3-compatible object storage location (AWS S3, MinIO, Ceph, GCS through its S3 API) and how to reach it.
 * Credentials come from a Secret the user names, given to the trainer as environment variables; the operator
 * never reads it. Without one the trainer uses the AWS SDK's default chain (IRSA's web identity token through the
 * pod's ServiceAccount, an instance profile).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class ObjectStorage {
    /** The Secret's key holding the access key id. */
    public static final String ACCESS_KEY_ID_KEY = "AWS_ACCESS_KEY_ID";
    /** The Secret's key holding the secret access key. */
    public static final String SECRET_ACCESS_KEY_KEY = "AWS_SECRET_ACCESS_KEY";

    /** The trainer's environment (the operator sets it, the trainer's ObjectStoreConfig reads it). */
    public static final String ENV_ENDPOINT = "MILAN_S3_ENDPOINT";
    public static final String ENV_REGION = "MILAN_S3_REGION";
    public static final String ENV_PATH_STYLE = "MILAN_S3_PATH_STYLE";
    public static final String ENV_ACCESS_KEY_ID = "MILAN_S3_ACCESS_KEY_ID";
    public static final String ENV_SECRET_ACCESS_KEY = "MILAN_S3_SECRET_ACCESS_KEY";
    /** The output's variables; an input's are these with its {@link Role}'s infix. */
    public static final java.util.List<String> ENV_NAMES = java.util.List.of(ENV_ENDPOINT, ENV_REGION, ENV_PATH_STYLE,
            ENV_ACCESS_KEY_ID, ENV_SECRET_ACCESS_KEY);

    /**
     * Which of a run's locations a set of variables reaches: the output's are {@code MILAN_S3_ENDPOINT} and so on;
     * each input has its own ({@code MILAN_S3_DATASET_ENDPOINT}, ...), so the dataset may live on another server, or
     * be read with other (say read-only) credentials, than the checkpoints.
     */
    public enum Role {
        OUTPUT(""), DATASET("DATASET_"), TEACHER("TEACHER_"), PRETRAINED("PRETRAINED_");

        private final String infix;

        Role(String infix) {
            this.infix = infix;
        }

        /** This role's name of the output's variable {@code outputName} (one of {@link #ENV_NAMES}). */
        public String env(String outputName) {
            return infix.isEmpty() ? outputName : "MILAN_S3_" + infix + outputName.substring("MILAN_S3_".length());
        }
    }

    @Required
    @Pattern("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
    @JsonPropertyDescription("s3://bucket/prefix. The bucket must exist; the trainer creates no buckets.")
    public String url;

    @Pattern("^https?://[^/]+(/.*)?$")
    @JsonPropertyDescription("The server's URL, e.g. http://minio.storage:9000; unset for AWS S3 itself.")
    public String endpoint;

    @JsonPropertyDescription("Region (default us-east-1, which MinIO and most S3-compatible servers accept).")
    public String region;

    @JsonPropertyDescription("Path-style requests (http://host/bucket/key), as MinIO and Ceph want; default true"
            + " when endpoint is set, else false (virtual-hosted style, as AWS wants).")
    public Boolean pathStyle;

    @JsonPropertyDescription("Name of a Secret in the run's namespace with the keys AWS_ACCESS_KEY_ID and"
            + " AWS_SECRET_ACCESS_KEY, given to the trainer as environment variables (never logged, never in"
            + " status). Unset: the AWS default credentials chain (a web identity token as IRSA mounts it, an instance"
            + " profile).")
    public String credentialsSecret;
}
