package io.milan.e2e;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.milan.api.ObjectStorage;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cluster's S3-compatible server for the tests: MinIO as {@code e2e/kind/minio.yaml} deploys it (namespace
 * {@value #NAMESPACE}, root credentials in the Secret {@value #ROOT_SECRET}). On the local Kind cluster it is
 * deployed on first use ({@code e2e/kind/cluster.sh object-store}: seconds once the image is on the nodes), so only
 * the tests that need it pay for it; on another cluster it must already run.
 *
 * <p>Buckets are made and objects looked at from inside the MinIO pod, with curl's SigV4 signing and the root
 * credentials the container has in its environment: they appear in no command line, log or message here.
 */
final class InClusterMinio {
    static final String NAMESPACE = "milan-minio";
    /** The S3 endpoint as pods reach it (cluster DNS; path-style requests, region us-east-1). */
    static final String ENDPOINT = "http://minio." + NAMESPACE + ":9000";
    static final String ROOT_SECRET = "minio-root";
    private static final Duration EXEC_TIMEOUT = Duration.ofSeconds(60);
    /** Reads the credentials from the environment into curl's config on its stdin; "$@" are curl's arguments. */
    private static final String CURL = "printf 'user = \"%s:%s\"\\n' \"$MINIO_ROOT_USER\" \"$MINIO_ROOT_PASSWORD\""
            + " | curl -sS -K - --aws-sigv4 aws:amz:us-east-1:s3 \"$@\"";
    private static final String LOCAL = "http://127.0.0.1:9000/";
    private static final Pattern CONTENTS = Pattern.compile("<Key>([^<]*)</Key>.*?<Size>(\\d+)</Size>");

    private final E2ECluster cluster;

    private InClusterMinio(E2ECluster cluster) {
        this.cluster = cluster;
    }

    /** The running server: deployed (or brought up to date) on the local Kind cluster, found ready elsewhere. */
    static InClusterMinio ensure(E2ECluster cluster) {
        if (cluster.kindCluster.isPresent()) {
            cluster.kindScript("object-store");
        }
        Deployment d = cluster.admin.apps().deployments().inNamespace(NAMESPACE).withName("minio").get();
        Integer ready = d == null || d.getStatus() == null ? null : d.getStatus().getReadyReplicas();
        if (ready == null || ready < 1) {
            throw new IllegalStateException("no ready MinIO (Deployment minio in namespace " + NAMESPACE + ") on the "
                    + cluster.description + "; on another cluster than the local Kind one, apply e2e/kind/minio.yaml"
                    + " with an image from images/minio.sh and a Secret " + ROOT_SECRET + " (MINIO_ROOT_USER,"
                    + " MINIO_ROOT_PASSWORD) first");
        }
        return new InClusterMinio(cluster);
    }

    /**
     * A Secret {@code name} in the client's namespace that a run's {@code credentialsSecret} can name: MinIO's root
     * credentials under the keys {@link ObjectStorage#ACCESS_KEY_ID_KEY} and
     * {@link ObjectStorage#SECRET_ACCESS_KEY_KEY} (copied as the API holds them, base64, never decoded here).
     */
    void credentialsSecret(KubernetesClient client, String name) {
        Secret root = cluster.admin.secrets().inNamespace(NAMESPACE).withName(ROOT_SECRET).get();
        if (root == null || root.getData() == null || !root.getData().containsKey("MINIO_ROOT_USER")
                || !root.getData().containsKey("MINIO_ROOT_PASSWORD")) {
            throw new IllegalStateException("Secret " + NAMESPACE + "/" + ROOT_SECRET
                    + " is missing or lacks MINIO_ROOT_USER / MINIO_ROOT_PASSWORD");
        }
        client.secrets().resource(new SecretBuilder().withNewMetadata().withName(name).endMetadata()
                .addToData(ObjectStorage.ACCESS_KEY_ID_KEY, root.getData().get("MINIO_ROOT_USER"))
                .addToData(ObjectStorage.SECRET_ACCESS_KEY_KEY, root.getData().get("MINIO_ROOT_PASSWORD"))
                .build()).create();
    }

    /** Creates the bucket (3 to 63 lower-case letters, digits, hyphens); fails if it exists. */
    void createBucket(String bucket) {
        curl("-f", "-X", "PUT", LOCAL + bucket);
    }

    /** Whether the object exists (HEAD: 200, or 404). */
    boolean exists(String bucket, String key) {
        String code = curl("-I", "-o", "/dev/null", "-w", "%{http_code}", LOCAL + bucket + "/" + key).strip();
        if (!code.equals("200") && !code.equals("404")) {
            throw new IllegalStateException("HEAD s3://" + bucket + "/" + key + " answered HTTP " + code);
        }
        return code.equals("200");
    }

    /** The object's content as text. */
    String getText(String bucket, String key) {
        return curl("-f", LOCAL + bucket + "/" + key);
    }

    /** The objects under the prefix and their sizes, in key order (at most 1000, one ListObjectsV2 page). */
    Map<String, Long> list(String bucket, String prefix) {
        String xml = curl("-f", LOCAL + bucket + "?list-type=2&prefix="
                + URLEncoder.encode(prefix, StandardCharsets.UTF_8).replace("+", "%20"));
        if (xml.contains("<IsTruncated>true</IsTruncated>")) {
            throw new IllegalStateException("more than one page of objects under s3://" + bucket + "/" + prefix);
        }
        Map<String, Long> objects = new LinkedHashMap<>();
        Matcher m = CONTENTS.matcher(xml);
        while (m.find()) {
            objects.put(m.group(1), Long.parseLong(m.group(2)));
        }
        return objects;
    }

    /** "s3://bucket/key" split into bucket and key. */
    static String[] split(String url) {
        if (!url.startsWith("s3://") || url.indexOf('/', 5) < 0) {
            throw new IllegalArgumentException("not an s3://bucket/key URL: " + url);
        }
        int slash = url.indexOf('/', 5);
        return new String[] {url.substring(5, slash), url.substring(slash + 1)};
    }

    private String curl(String... args) {
        List<String> cmd = new ArrayList<>(List.of("-n", NAMESPACE, "exec", "deploy/minio", "-c", "minio", "--",
                "sh", "-c", CURL, "sh"));
        cmd.addAll(List.of(args));
        return cluster.kubectl(EXEC_TIMEOUT, cmd.toArray(String[]::new)).stdout();
    }
}
